// Text: tokenisers, a vocabulary, padding, and language-model batching.
//
//   std::string text = data::read_text("data/ptb/train.txt");
//   auto tokens = data::tokenize_words(text, {.eos = "<eos>"});       // one "<eos>" per line
//   data::Vocabulary vocab(tokens, {.min_freq = 2});                   // <pad> = 0, <unk> = 1
//   Tensor stream = vocab.encode_tensor(tokens);                       // int64 (n)
//   auto lm = data::language_model_batches(stream, /*batch_size=*/20, /*seq_len=*/35);
//   Batch b = lm->get(0);   // input (20, 35), target = input shifted by one token
//
//   Tensor padded = data::pad_sequences({vocab.encode(a), vocab.encode(b)}, 16, vocab.pad_id());
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "koan/data/dataset.h"

namespace koan::data {

std::string read_text(const std::string& path);

// One token per UTF-8 character (a multi-byte character stays whole; invalid bytes are single).
std::vector<std::string> tokenize_chars(std::string_view text);

struct WordOptions {
  bool lowercase = false;
  bool split_punctuation = true;  // "end." -> "end", "."  (ASCII punctuation)
  std::string eos;                 // if set, appended at the end of every non-empty line
};
// Splits on whitespace (and punctuation if asked).
std::vector<std::string> tokenize_words(std::string_view text, const WordOptions& options = {});

struct VocabOptions {
  int64_t min_freq = 1;      // rarer tokens map to <unk>
  int64_t max_size = -1;     // most frequent first, specials included; -1: no limit
  std::string pad = "<pad>";
  std::string unk = "<unk>";
};

// Token <-> id.  Ids: <pad> 0, <unk> 1, then tokens by decreasing frequency, ties in byte order,
// so the same corpus always gives the same ids.
class Vocabulary {
 public:
  Vocabulary() = default;
  explicit Vocabulary(const std::vector<std::string>& tokens, const VocabOptions& options = {});

  int64_t size() const { return static_cast<int64_t>(itos_.size()); }
  int64_t pad_id() const { return 0; }
  int64_t unk_id() const { return 1; }
  bool contains(const std::string& token) const { return stoi_.count(token) > 0; }
  int64_t id(const std::string& token) const;       // unk_id() for unknown tokens
  const std::string& token(int64_t id) const;       // IndexError when out of range

  std::vector<int64_t> encode(const std::vector<std::string>& tokens) const;
  Tensor encode_tensor(const std::vector<std::string>& tokens) const;  // int64 (n)
  std::vector<std::string> decode(const std::vector<int64_t>& ids) const;

  // One token per line, in id order (tokens may not contain newlines).
  void save(const std::string& path) const;
  static Vocabulary load(const std::string& path);

 private:
  void add(const std::string& token);
  std::vector<std::string> itos_;
  std::map<std::string, int64_t> stoi_;
};

enum class Side { Right, Left };
struct PadOptions {
  Side pad_side = Side::Right;       // where padding goes
  Side truncate_side = Side::Right;  // which end is cut when too long
};
// `ids` padded with pad_id or truncated to exactly `length`.
std::vector<int64_t> pad_or_truncate(const std::vector<int64_t>& ids, int64_t length, int64_t pad_id,
                                     const PadOptions& options = {});
// Sequences stacked into int64 (n, length), each padded or truncated.
Tensor pad_sequences(const std::vector<std::vector<int64_t>>& seqs, int64_t length, int64_t pad_id,
                     const PadOptions& options = {});

// The classic PTB batching: the 1-D stream is cut into batch_size contiguous rows of
// T = n / batch_size tokens (the tail that does not fit is dropped), returned as (batch_size, T):
// row r holds stream[r*T : (r+1)*T], so each row reads on from where the previous batch stopped.
Tensor batchify(const Tensor& stream, int64_t batch_size);
// Batches of windows over batchify(stream, batch_size): get(i) has input rows[:, i*L : i*L + l]
// and target rows[:, i*L + 1 : i*L + l + 1], with L = seq_len and l = min(L, T - 1 - i*L).
// Read them in order (not shuffled) to carry a recurrent state across batches.
DatasetPtr language_model_batches(const Tensor& stream, int64_t batch_size, int64_t seq_len);

}  // namespace koan::data
