#include "sentiment/sst2.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "koan/core/error.h"
#include "koan/tensor/creation.h"

using namespace koan;

namespace sentiment {

Sentences read_sst2(const std::string& path) {
  std::ifstream f(path);
  KOAN_CHECK(f.good(), IOError, "read_sst2: cannot open \"", path, "\" (scripts/get-data sst2)");
  Sentences s;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (lineno == 1 && line.rfind("sentence", 0) == 0) continue;  // the header
    if (line.empty()) continue;
    const auto tab = line.rfind('\t');
    KOAN_CHECK(tab != std::string::npos, ValueError, "read_sst2: ", path, ":", lineno,
               " has no tab (expected sentence<TAB>label)");
    const std::string label = line.substr(tab + 1);
    KOAN_CHECK(label == "0" || label == "1", ValueError, "read_sst2: ", path, ":", lineno, " has label \"", label,
               "\" (expected 0 or 1)");
    std::istringstream words(line.substr(0, tab));
    std::vector<std::string> toks;
    for (std::string w; words >> w;) toks.push_back(w);
    KOAN_CHECK(!toks.empty(), ValueError, "read_sst2: ", path, ":", lineno, " has an empty sentence");
    s.tokens.push_back(std::move(toks));
    s.labels.push_back(label == "1");
  }
  KOAN_CHECK(!s.tokens.empty(), ValueError, "read_sst2: \"", path, "\" holds no sentences");
  return s;
}

data::Vocabulary build_vocabulary(const Sentences& train) {
  std::vector<std::string> all;
  for (const auto& t : train.tokens) all.insert(all.end(), t.begin(), t.end());
  return data::Vocabulary(all);
}

std::vector<Batch> length_batches(const Sentences& s, const data::Vocabulary& vocab, int64_t batch_size,
                                  Generator* gen) {
  KOAN_CHECK(batch_size > 0, ValueError, "length_batches: batch_size must be positive, got ", batch_size);
  std::map<size_t, std::vector<int64_t>> by_length;
  for (size_t i = 0; i < s.size(); ++i) by_length[s.tokens[i].size()].push_back(static_cast<int64_t>(i));
  // Fisher-Yates with the generator's bits, so an epoch's order is a function of the seed.
  auto shuffle = [&](auto& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[gen->next_u64() % i]);
  };
  std::vector<Batch> out;
  for (auto& [len, rows] : by_length) {
    if (gen) shuffle(rows);
    for (size_t b = 0; b < rows.size(); b += static_cast<size_t>(batch_size)) {
      Batch batch;
      batch.rows.assign(rows.begin() + static_cast<int64_t>(b),
                        rows.begin() + static_cast<int64_t>(std::min(rows.size(), b + static_cast<size_t>(batch_size))));
      std::vector<int64_t> ids, labels;
      for (int64_t r : batch.rows) {
        auto e = vocab.encode(s.tokens[static_cast<size_t>(r)]);
        ids.insert(ids.end(), e.begin(), e.end());
        if (!s.labels.empty()) labels.push_back(s.labels[static_cast<size_t>(r)]);
      }
      batch.ids = from_vector(ids, Shape{static_cast<int64_t>(batch.rows.size()), static_cast<int64_t>(len)});
      if (!labels.empty()) batch.labels = from_vector(labels);
      out.push_back(std::move(batch));
    }
  }
  if (gen) shuffle(out);
  return out;
}

std::vector<std::string> NaiveBayes::features(const std::vector<std::string>& tokens) const {
  std::vector<std::string> f(tokens.begin(), tokens.end());
  for (size_t i = 0; i + 1 < tokens.size(); ++i) f.push_back(tokens[i] + " " + tokens[i + 1]);
  return f;
}

void NaiveBayes::fit(const Sentences& train) {
  for (size_t i = 0; i < train.size(); ++i) {
    const auto y = static_cast<size_t>(train.labels[i]);
    docs_[y] += 1;
    for (const std::string& f : features(train.tokens[i])) {
      counts_[f][y] += 1;
      totals_[y] += 1;
    }
  }
}

int64_t NaiveBayes::predict(const std::vector<std::string>& tokens) const {
  const double V = static_cast<double>(counts_.size());
  std::array<double, 2> score{std::log(docs_[0]), std::log(docs_[1])};
  for (const std::string& f : features(tokens)) {
    auto it = counts_.find(f);
    if (it == counts_.end()) continue;  // unseen in training: the same factor for both classes
    for (size_t y = 0; y < 2; ++y) score[y] += std::log((it->second[y] + 1) / (totals_[y] + V));
  }
  return score[1] > score[0];
}

double NaiveBayes::accuracy(const Sentences& s) const {
  int64_t right = 0;
  for (size_t i = 0; i < s.size(); ++i) right += predict(s.tokens[i]) == s.labels[i];
  return static_cast<double>(right) / static_cast<double>(s.size());
}

}  // namespace sentiment
