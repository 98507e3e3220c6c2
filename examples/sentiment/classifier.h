// Sentence classifiers for SST-2, built as model files the `koan predict` command can read back:
// a bag of embeddings (the mean of the word vectors) and a (Bi)LSTM / GRU with max pooling over
// the words, each a Sequential described by JSON.
//
//   auto spec = sentiment::ClassifierSpec{.kind = "bilstm", .vocab = vocab.size()};
//   auto arch = sentiment::architecture(spec);          // {"layers": [...]}
//   auto net = train::build_sequential(arch);
//   auto r = sentiment::train_classifier(*net, train, dev, vocab, {.epochs = 4});
//   sentiment::save_text_model("runs/sentiment/bilstm.koan", *net, arch, vocab);
#pragma once
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "koan/nn/module.h"
#include "koan/train/history.h"
#include "sentiment/sst2.h"

namespace sentiment {

struct ClassifierSpec {
  std::string kind = "bilstm";  // "bag", "lstm", "bilstm", "gru", "bigru"
  int64_t vocab = 0;
  int64_t embed = 128;
  int64_t hidden = 128;         // per direction
  double dropout = 0.5;         // before the output layer (recurrent kinds)
};

// {"layers": [Embedding, (LSTM|GRU, GlobalMaxPool1d, Dropout | GlobalAvgPool1d), Linear(2)]}.
nlohmann::json architecture(const ClassifierSpec& spec);

struct ClassifierTrainOptions {
  int epochs = 4;
  int64_t batch_size = 64;
  double lr = 1e-3;     // Adam
  double clip = 5.0;    // global gradient norm; 0: none
  uint64_t seed = 0;    // batch order
  std::ostream* out = &std::cout;
};

struct ClassifierResult {
  koan::train::History history;  // loss, accuracy, val_loss, val_accuracy per epoch
  double dev_accuracy = 0;       // after the last epoch
  double seconds = 0;            // training time, evaluations excluded
};

ClassifierResult train_classifier(koan::nn::Module& net, const Sentences& train, const Sentences& dev,
                                  const koan::data::Vocabulary& vocab, const ClassifierTrainOptions& o);

// Mean loss and accuracy over labelled sentences, in eval mode without a graph.
std::pair<double, double> evaluate(koan::nn::Module& net, const Sentences& s, const koan::data::Vocabulary& vocab);

// A model file whose architecture also carries the vocabulary and label names under "text", so
// `koan predict MODEL sentences.txt` can tokenise and label new sentences without the example.
void save_text_model(const std::string& path, const koan::nn::Module& net, nlohmann::json architecture,
                     const koan::data::Vocabulary& vocab);

}  // namespace sentiment
