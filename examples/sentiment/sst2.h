// SST-2 (GLUE's binary Stanford Sentiment Treebank) for the sentiment project: reading the TSV
// files, the word vocabulary, batches of equal-length sentences, and the Naive Bayes baseline.
//
//   auto train = sentiment::read_sst2("data/sst2/train.tsv");   // 67 349 phrases
//   data::Vocabulary vocab = sentiment::build_vocabulary(train);
//   auto batches = sentiment::length_batches(train, vocab, 64, &gen);   // shuffled, no padding
#pragma once
#include <array>
#include <map>
#include <string>
#include <vector>

#include "koan/data/text.h"
#include "koan/tensor/random.h"
#include "koan/tensor/tensor.h"

namespace sentiment {

struct Sentences {
  std::vector<std::vector<std::string>> tokens;  // words, as in the file (lower-cased, tokenised)
  std::vector<int64_t> labels;                   // 0 negative, 1 positive; empty when unlabelled
  size_t size() const { return tokens.size(); }
};

// "sentence<TAB>label" lines after a header line; sentences are split on spaces.  An IOError
// names a missing file, a ValueError the line of a bad label or a missing column.
Sentences read_sst2(const std::string& path);

// Every training word (min_freq 1): ids <pad> 0, <unk> 1, then by decreasing frequency.
koan::data::Vocabulary build_vocabulary(const Sentences& train);

// Batches of sentences of one length, so no padding is needed (an RNN then reads exactly the
// words, and max pooling sees no pad positions): each length's sentences are cut into batches of
// at most batch_size.  With `gen`, the order within each length and the batch order are shuffled.
struct Batch {
  koan::Tensor ids;     // int64 (B, T)
  koan::Tensor labels;  // int64 (B)
  std::vector<int64_t> rows;  // which sentences
};
std::vector<Batch> length_batches(const Sentences& s, const koan::data::Vocabulary& vocab, int64_t batch_size,
                                  koan::Generator* gen = nullptr);

// Multinomial Naive Bayes on unigrams + bigrams with add-one smoothing: the classic baseline.
class NaiveBayes {
 public:
  void fit(const Sentences& train);
  int64_t predict(const std::vector<std::string>& tokens) const;
  double accuracy(const Sentences& s) const;

 private:
  std::vector<std::string> features(const std::vector<std::string>& tokens) const;
  std::map<std::string, std::array<double, 2>> counts_;
  std::array<double, 2> totals_{0, 0}, docs_{0, 0};
};

}  // namespace sentiment
