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
  // Held-out phrases carved from train (split_validation): when given, the epoch whose weights
  // score best on them is the one kept and reported, so the number of epochs is chosen without
  // looking at dev; dev is still measured after every epoch, for the curves only.
  const Sentences* valid = nullptr;
};

struct ClassifierResult {
  // loss, accuracy (train), val_loss, val_accuracy (the validation split, or dev without one),
  // and dev_loss, dev_accuracy when a validation split is given, per epoch.
  koan::train::History history;
  double dev_accuracy = 0;       // of the kept weights: the best validation epoch, else the last
  int best_epoch = 0;            // the epoch whose weights were kept (1-based)
  double valid_accuracy = 0;     // that epoch's validation accuracy (0 without a validation split)
  double seconds = 0;            // training time, evaluations excluded
};

ClassifierResult train_classifier(koan::nn::Module& net, const Sentences& train, const Sentences& dev,
                                  const koan::data::Vocabulary& vocab, const ClassifierTrainOptions& o);

// Splits off a seeded random `fraction` of the phrases as a validation set: {train, valid}.
// SST-2's training phrases are overlapping sub-phrases of the treebank sentences, so a phrase of
// the validation set often shares words with training phrases from the same sentence: the
// validation accuracy is optimistic, but it only ranks epochs against each other.
std::pair<Sentences, Sentences> split_validation(const Sentences& train, double fraction, uint64_t seed);

// Mean loss and accuracy over labelled sentences, in eval mode without a graph.
std::pair<double, double> evaluate(koan::nn::Module& net, const Sentences& s, const koan::data::Vocabulary& vocab);

// A model file whose architecture also carries the vocabulary and label names under "text", so
// `koan predict MODEL sentences.txt` can tokenise and label new sentences without the example.
void save_text_model(const std::string& path, const koan::nn::Module& net, nlohmann::json architecture,
                     const koan::data::Vocabulary& vocab);

}  // namespace sentiment
