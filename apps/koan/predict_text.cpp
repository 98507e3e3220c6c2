#include "predict_text.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "koan/koan.h"
#include "koan/train/model_file.h"

namespace koan::app {
namespace {

using json = nlohmann::json;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

// SST's tokens are lower-cased, with punctuation and the clitics 's n't 're 've 'll 'd 'm apart
// ("it 's not funny ."): raw text is brought to that form.  A word the vocabulary knows is kept
// whole ("...", "mr.", "--"), so text already tokenised as SST's is read exactly as in training.
std::vector<std::string> tokenize(const std::string& sentence, const std::map<std::string, int64_t>& vocab) {
  std::string s = sentence;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  std::vector<std::string> out;
  std::istringstream words(s);
  for (std::string w; words >> w;) {
    if (vocab.count(w)) {
      out.push_back(w);
      continue;
    }
    std::vector<std::string> tail;
    // Trailing punctuation: "funny." -> "funny", "."
    while (w.size() > 1 && !vocab.count(w) && std::string(".,!?;:\")").find(w.back()) != std::string::npos) {
      tail.insert(tail.begin(), std::string(1, w.back()));
      w.pop_back();
    }
    // Leading punctuation: "(funny" -> "(", "funny"
    while (w.size() > 1 && !vocab.count(w) && std::string("\"(").find(w.front()) != std::string::npos) {
      out.emplace_back(1, w.front());
      w.erase(w.begin());
    }
    std::string clitic;
    for (const char* c : {"n't", "'s", "'re", "'ve", "'ll", "'d", "'m"}) {
      const std::string cl = c;
      if (!vocab.count(w) && w.size() > cl.size() && w.compare(w.size() - cl.size(), cl.size(), cl) == 0) {
        clitic = cl;
        w.resize(w.size() - cl.size());
        break;
      }
    }
    out.push_back(w);
    if (!clitic.empty()) out.push_back(clitic);
    out.insert(out.end(), tail.begin(), tail.end());
  }
  return out;
}

struct Lines {
  std::vector<std::string> sentences;
  std::vector<int64_t> labels;  // empty without a label column
};

Lines read_sentences(const std::string& path) {
  std::ifstream f(path);
  KOAN_CHECK(f.good(), IOError, "predict: cannot open \"", path, "\"");
  std::vector<std::string> lines;
  for (std::string l; std::getline(f, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    lines.push_back(l);
  }
  Lines out;
  const bool tsv = (path.size() > 4 && path.substr(path.size() - 4) == ".tsv") ||
                   (!lines.empty() && lines[0].find('\t') != std::string::npos);
  if (!tsv) {
    for (const auto& l : lines)
      if (l.find_first_not_of(" \t") != std::string::npos) out.sentences.push_back(l);
    return out;
  }
  KOAN_CHECK(!lines.empty(), ValueError, "predict: \"", path, "\" is empty");
  auto header = split(lines[0], '\t');
  int64_t sentence_col = -1, label_col = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "sentence") sentence_col = static_cast<int64_t>(i);
    if (header[i] == "label") label_col = static_cast<int64_t>(i);
  }
  KOAN_CHECK(sentence_col >= 0, ValueError, "predict: the TSV file \"", path,
             "\" needs a header line with a \"sentence\" column, got \"", lines[0], "\"");
  for (size_t n = 1; n < lines.size(); ++n) {
    if (lines[n].empty()) continue;
    auto cols = split(lines[n], '\t');
    KOAN_CHECK(static_cast<int64_t>(cols.size()) > std::max(sentence_col, label_col), ValueError, "predict: ", path, ":",
               n + 1, " has ", cols.size(), " columns, the header ", header.size());
    out.sentences.push_back(cols[static_cast<size_t>(sentence_col)]);
    if (label_col >= 0) {
      const std::string& lab = cols[static_cast<size_t>(label_col)];
      KOAN_CHECK(lab == "0" || lab == "1", ValueError, "predict: ", path, ":", n + 1, " has label \"", lab,
                 "\" (expected 0 or 1)");
      out.labels.push_back(lab == "1");
    }
  }
  return out;
}

}  // namespace

bool is_text_model(const json& architecture) { return architecture.is_object() && architecture.contains("text"); }

int predict_text(const std::string& model_path, const std::string& input, int64_t limit) {
  const json arch = train::model_architecture(model_path);
  const json& text = arch.at("text");
  KOAN_CHECK(text.contains("vocabulary") && text["vocabulary"].is_array() && text.contains("labels"), ValueError,
             "predict: \"", model_path, "\" has a text section without a vocabulary and labels");
  std::map<std::string, int64_t> vocab;
  for (size_t i = 0; i < text["vocabulary"].size(); ++i) vocab[text["vocabulary"][i].get<std::string>()] = static_cast<int64_t>(i);
  const std::vector<std::string> labels = text["labels"].get<std::vector<std::string>>();
  const int64_t unk = vocab.count("<unk>") ? vocab["<unk>"] : 1;

  auto net = train::load_model(model_path);
  net->eval();
  NoGradGuard no_grad;
  Lines in = read_sentences(input);
  KOAN_CHECK(!in.sentences.empty(), ValueError, "predict: \"", input, "\" holds no sentences");
  auto n = static_cast<int64_t>(in.sentences.size());
  if (limit > 0 && limit < n) n = limit;
  int64_t right = 0;
  for (int64_t i = 0; i < n; ++i) {
    const std::string& sentence = in.sentences[static_cast<size_t>(i)];
    std::vector<int64_t> ids;
    for (const std::string& t : tokenize(sentence, vocab)) ids.push_back(vocab.count(t) ? vocab[t] : unk);
    if (ids.empty()) ids.push_back(unk);
    Tensor probs = softmax(net->forward(from_vector(ids, Shape{1, static_cast<int64_t>(ids.size())})), 1);
    auto [p, cls] = max(probs, 1);
    const int64_t c = cls.at<int64_t>({0});
    KOAN_CHECK(c >= 0 && c < static_cast<int64_t>(labels.size()), ValueError, "predict: the model gives class ", c,
               " but \"", model_path, "\" names ", labels.size(), " labels");
    if (!in.labels.empty()) right += c == in.labels[static_cast<size_t>(i)];
    std::printf("%lld\t%s\t%.4f\t%s\n", static_cast<long long>(i), labels[static_cast<size_t>(c)].c_str(),
                p.at<float>({0}), sentence.c_str());
  }
  if (!in.labels.empty())
    std::printf("# accuracy %.4f on %lld labelled sentences\n", static_cast<double>(right) / static_cast<double>(n),
                static_cast<long long>(n));
  return 0;
}

}  // namespace koan::app
