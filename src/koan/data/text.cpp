#include "koan/data/text.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "koan/tensor/creation.h"

namespace koan::data {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  KOAN_CHECK(in.good(), IOError, "read_text: cannot open ", path);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<std::string> tokenize_chars(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    auto b = static_cast<unsigned char>(text[i]);
    size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
    // A lead byte without its continuation bytes is taken alone rather than swallowing text.
    if (i + len > text.size()) len = 1;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) {
        len = 1;
        break;
      }
    out.emplace_back(text.substr(i, len));
    i += len;
  }
  return out;
}

std::vector<std::string> tokenize_words(std::string_view text, const WordOptions& opts) {
  std::vector<std::string> out;
  std::string cur;
  bool line_has_tokens = false;
  auto flush = [&] {
    if (!cur.empty()) {
      out.push_back(cur);
      cur.clear();
      line_has_tokens = true;
    }
  };
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      flush();
      if (!opts.eos.empty() && line_has_tokens) out.push_back(opts.eos);
      line_has_tokens = false;
    } else if (std::isspace(c)) {
      flush();
    } else if (opts.split_punctuation && c < 0x80 && std::ispunct(c)) {
      flush();
      out.emplace_back(1, ch);
      line_has_tokens = true;
    } else {
      cur += opts.lowercase && c < 0x80 ? static_cast<char>(std::tolower(c)) : ch;
    }
  }
  flush();
  if (!opts.eos.empty() && line_has_tokens) out.push_back(opts.eos);
  return out;
}

Vocabulary::Vocabulary(const std::vector<std::string>& tokens, const VocabOptions& opts) {
  KOAN_CHECK(opts.pad != opts.unk, ValueError, "Vocabulary: <pad> and <unk> need different spellings, both are '",
             opts.pad, "'");
  KOAN_CHECK(opts.max_size < 0 || opts.max_size >= 2, ValueError, "Vocabulary: max_size ", opts.max_size,
             " leaves no room for <pad> and <unk>");
  add(opts.pad);
  add(opts.unk);
  std::unordered_map<std::string, int64_t> freq;
  for (const std::string& t : tokens) ++freq[t];
  std::vector<std::pair<std::string, int64_t>> sorted(freq.begin(), freq.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  for (const auto& [tok, n] : sorted) {
    if (n < opts.min_freq || (opts.max_size >= 0 && size() >= opts.max_size)) break;
    if (!contains(tok)) add(tok);
  }
}

void Vocabulary::add(const std::string& token) {
  stoi_.emplace(token, size());
  itos_.push_back(token);
}

int64_t Vocabulary::id(const std::string& token) const {
  auto it = stoi_.find(token);
  return it == stoi_.end() ? unk_id() : it->second;
}

const std::string& Vocabulary::token(int64_t id) const {
  KOAN_CHECK(id >= 0 && id < size(), IndexError, "Vocabulary::token: id ", id, " is out of range for a vocabulary of ",
             size(), " tokens");
  return itos_[id];
}

std::vector<int64_t> Vocabulary::encode(const std::vector<std::string>& tokens) const {
  KOAN_CHECK(size() >= 2, ValueError, "Vocabulary::encode: the vocabulary is empty (default-constructed?)");
  std::vector<int64_t> ids;
  ids.reserve(tokens.size());
  for (const std::string& t : tokens) ids.push_back(id(t));
  return ids;
}

Tensor Vocabulary::encode_tensor(const std::vector<std::string>& tokens) const { return from_vector(encode(tokens)); }

std::vector<std::string> Vocabulary::decode(const std::vector<int64_t>& ids) const {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (int64_t i : ids) out.push_back(token(i));
  return out;
}

void Vocabulary::save(const std::string& path) const {
  std::ofstream out(path, std::ios::binary);
  KOAN_CHECK(out.good(), IOError, "Vocabulary::save: cannot open ", path);
  for (const std::string& t : itos_) {
    KOAN_CHECK(t.find('\n') == std::string::npos, ValueError, "Vocabulary::save: token '", t,
               "' contains a newline and cannot be saved one per line");
    out << t << '\n';
  }
  out.close();
  KOAN_CHECK(!out.fail(), IOError, "Vocabulary::save: writing ", path, " failed");
}

Vocabulary Vocabulary::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  KOAN_CHECK(in.good(), IOError, "Vocabulary::load: cannot open ", path);
  Vocabulary v;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    KOAN_CHECK(!v.contains(line), IOError, "Vocabulary::load: ", path, ":", line_no, ": token '", line,
               "' appears twice");
    v.add(line);
  }
  KOAN_CHECK(v.size() >= 2, IOError, "Vocabulary::load: ", path, ": has ", v.size(),
             " lines, needs at least <pad> and <unk>");
  return v;
}

std::vector<int64_t> pad_or_truncate(const std::vector<int64_t>& ids, int64_t length, int64_t pad_id,
                                     const PadOptions& opts) {
  KOAN_CHECK(length >= 0, ValueError, "pad_or_truncate: length must be >= 0, got ", length);
  auto n = static_cast<int64_t>(ids.size());
  if (n >= length) {
    auto from = opts.truncate_side == Side::Right ? ids.begin() : ids.end() - length;
    return std::vector<int64_t>(from, from + length);
  }
  std::vector<int64_t> out(length, pad_id);
  std::copy(ids.begin(), ids.end(), opts.pad_side == Side::Right ? out.begin() : out.end() - n);
  return out;
}

Tensor pad_sequences(const std::vector<std::vector<int64_t>>& seqs, int64_t length, int64_t pad_id,
                     const PadOptions& opts) {
  std::vector<int64_t> flat;
  flat.reserve(seqs.size() * length);
  for (const auto& s : seqs) {
    std::vector<int64_t> p = pad_or_truncate(s, length, pad_id, opts);
    flat.insert(flat.end(), p.begin(), p.end());
  }
  return from_vector(flat, Shape{static_cast<int64_t>(seqs.size()), length});
}

Tensor batchify(const Tensor& stream, int64_t batch_size) {
  KOAN_CHECK(stream.defined() && stream.dim() == 1, ShapeError, "batchify: the stream must be 1-D, got ",
             stream.defined() ? str(stream.shape()) : std::string("an undefined tensor"));
  KOAN_CHECK(batch_size >= 1, ValueError, "batchify: batch_size must be >= 1, got ", batch_size);
  int64_t t = stream.size(0) / batch_size;
  KOAN_CHECK(t >= 2, ValueError, "batchify: a stream of ", stream.size(0), " tokens gives rows of ", t,
             " tokens at batch_size ", batch_size, "; a window needs at least 2");
  return stream.narrow(0, 0, t * batch_size).contiguous().view({batch_size, t});
}

namespace {
class LmBatches : public Dataset {
 public:
  LmBatches(Tensor rows, int64_t seq_len) : rows_(std::move(rows)), len_(seq_len) {}
  int64_t size() const override { return (rows_.size(1) - 1 + len_ - 1) / len_; }
  Example get(int64_t i) const override {
    i = check_index(i, size(), "language_model_batches");
    int64_t start = i * len_, l = std::min(len_, rows_.size(1) - 1 - start);
    return {rows_.narrow(1, start, l).contiguous(), rows_.narrow(1, start + 1, l).contiguous()};
  }
  std::string repr() const override {
    return str("LanguageModelBatches(rows=", rows_.shape(), ", seq_len=", len_, ")");
  }

 private:
  Tensor rows_;
  int64_t len_;
};
}  // namespace

DatasetPtr language_model_batches(const Tensor& stream, int64_t batch_size, int64_t seq_len) {
  KOAN_CHECK(seq_len >= 1, ValueError, "language_model_batches: seq_len must be >= 1, got ", seq_len);
  return std::make_shared<LmBatches>(batchify(stream, batch_size), seq_len);
}

}  // namespace koan::data
