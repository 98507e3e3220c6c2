// Smoke tests of the sentiment project (examples/sentiment) on generated sentences written as
// SST-2 TSV files: reading, vocabulary, length batches, Naive Bayes, the bag and BiLSTM
// classifiers and their model files.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "koan/core/error.h"
#include "koan/tensor/random.h"
#include "koan/train/model_file.h"
#include "sentiment/classifier.h"
#include "sentiment/sst2.h"
#include "support/testing.h"

using namespace koan;
namespace fs = std::filesystem;

namespace {

// Sentences of 2-9 neutral words with one or two words of the label's polarity at random places;
// a model that ignores the words stays near 50%.
std::string write_tsv(const std::string& name, int n, uint32_t seed) {
  const std::vector<std::string> pos{"good", "great", "fun", "moving", "brilliant"};
  const std::vector<std::string> neg{"bad", "dull", "boring", "awful", "flat"};
  const std::vector<std::string> neutral{"the", "film", "movie", "is", "a", "story", "plot", "with", "and", "it", "'s"};
  std::mt19937 rng(seed);
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  fs::path p = koan::testing::temp_path(name);
  std::ofstream f(p);
  f << "sentence\tlabel\n";
  for (int i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng() % 2);
    std::vector<std::string> words;
    for (int k = 0, len = 2 + static_cast<int>(rng() % 8); k < len; ++k) words.push_back(pick(neutral));
    for (int k = 0, m = 1 + static_cast<int>(rng() % 2); k < m; ++k)
      words.insert(words.begin() + static_cast<int64_t>(rng() % (words.size() + 1)), pick(label ? pos : neg));
    for (auto& w : words) f << w << " ";
    f << "\t" << label << "\n";
  }
  return p.string();
}

TEST(SentimentProject, ReadsTsvAndBatchesByLength) {
  auto s = sentiment::read_sst2(write_tsv("koan_sst_a.tsv", 300, 1));
  ASSERT_EQ(s.size(), 300u);
  ASSERT_EQ(s.labels.size(), 300u);
  auto vocab = sentiment::build_vocabulary(s);
  EXPECT_EQ(vocab.size(), 2 + 21);  // <pad>, <unk> and the 21 words
  Generator gen(0);
  auto batches = sentiment::length_batches(s, vocab, 16, &gen);
  std::set<int64_t> seen;
  for (const auto& b : batches) {
    ASSERT_EQ(b.ids.size(0), static_cast<int64_t>(b.rows.size()));
    EXPECT_LE(b.ids.size(0), 16);
    for (size_t i = 0; i < b.rows.size(); ++i) {
      EXPECT_EQ(static_cast<int64_t>(s.tokens[static_cast<size_t>(b.rows[i])].size()), b.ids.size(1));
      EXPECT_EQ(b.labels.at<int64_t>({static_cast<int64_t>(i)}), s.labels[static_cast<size_t>(b.rows[i])]);
      EXPECT_TRUE(seen.insert(b.rows[i]).second);
    }
  }
  EXPECT_EQ(seen.size(), 300u);  // every sentence once
}

TEST(SentimentProject, BadFilesAreNamed) {
  fs::path p = koan::testing::temp_path("koan_sst_bad.tsv");
  std::ofstream(p) << "sentence\tlabel\nfine film \t1\nodd film \tmaybe\n";
  try {
    sentiment::read_sst2(p.string());
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find(":3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("maybe"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sentiment::read_sst2("/nonexistent/train.tsv"), IOError);
}

TEST(SentimentProject, BaselinesAndBiLstmLearnAndSaveModelFiles) {
  auto train_set = sentiment::read_sst2(write_tsv("koan_sst_train.tsv", 800, 2));
  auto dev = sentiment::read_sst2(write_tsv("koan_sst_dev.tsv", 200, 3));
  auto vocab = sentiment::build_vocabulary(train_set);
  sentiment::NaiveBayes nb;
  nb.fit(train_set);
  EXPECT_GT(nb.accuracy(dev), 0.9);
  for (const char* kind : {"bag", "bilstm"}) {
    SCOPED_TRACE(kind);
    manual_seed(0);
    auto arch = sentiment::architecture({.kind = kind, .vocab = vocab.size(), .embed = 16, .hidden = 16, .dropout = 0.1});
    auto net = train::build_sequential(arch);
    auto r = sentiment::train_classifier(*net, train_set, dev, vocab,
                                         {.epochs = 4, .batch_size = 16, .lr = 1e-2, .out = nullptr});
    ASSERT_EQ(r.history.epochs(), 4u);
    EXPECT_LT(r.history["loss"].back(), r.history["loss"].front());
    EXPECT_GT(r.dev_accuracy, 0.9);
    // The model file carries the vocabulary and rebuilds the same classifier.
    auto path = koan::testing::temp_path(std::string("koan_sst_") + kind + ".koan").string();
    sentiment::save_text_model(path, *net, arch, vocab);
    auto stored = train::model_architecture(path);
    EXPECT_EQ(stored["text"]["vocabulary"].size(), static_cast<size_t>(vocab.size()));
    auto back = train::load_model(path);
    EXPECT_NEAR(sentiment::evaluate(*back, dev, vocab).second, r.dev_accuracy, 1e-12);
  }
  EXPECT_THROW(sentiment::architecture({.kind = "cnn", .vocab = 10}), ValueError);
}

TEST(SentimentProject, ValidationSplitChoosesTheKeptEpoch) {
  auto all = sentiment::read_sst2(write_tsv("koan_sst_train_v.tsv", 600, 4));
  auto dev = sentiment::read_sst2(write_tsv("koan_sst_dev_v.tsv", 200, 5));
  auto [train_set, valid] = sentiment::split_validation(all, 0.1, 7);
  EXPECT_EQ(valid.size(), 60u);
  EXPECT_EQ(train_set.size() + valid.size(), all.size());
  EXPECT_EQ(valid.labels.size(), valid.size());
  // Seeded: the same split again; every phrase lands in exactly one part.
  auto again = sentiment::split_validation(all, 0.1, 7);
  EXPECT_EQ(again.second.tokens, valid.tokens);
  std::multiset<std::vector<std::string>> parts(train_set.tokens.begin(), train_set.tokens.end());
  parts.insert(valid.tokens.begin(), valid.tokens.end());
  EXPECT_EQ(parts, std::multiset<std::vector<std::string>>(all.tokens.begin(), all.tokens.end()));
  EXPECT_THROW(sentiment::split_validation(all, 0.0, 1), ValueError);
  EXPECT_THROW(sentiment::split_validation(all, 1.0, 1), ValueError);

  auto vocab = sentiment::build_vocabulary(train_set);
  manual_seed(0);
  auto arch = sentiment::architecture({.kind = "bag", .vocab = vocab.size(), .embed = 8});
  auto net = train::build_sequential(arch);
  sentiment::ClassifierTrainOptions o{.epochs = 5, .batch_size = 16, .lr = 3e-2, .out = nullptr};
  o.valid = &valid;
  auto r = sentiment::train_classifier(*net, train_set, dev, vocab, o);
  const auto& va = r.history["val_accuracy"];
  ASSERT_EQ(va.size(), 5u);
  ASSERT_GE(r.best_epoch, 1);
  ASSERT_LE(r.best_epoch, 5);
  // The kept epoch is the first with the best validation accuracy, and the network holds its
  // weights: evaluating it again gives that epoch's validation and dev figures.
  const auto best = std::max_element(va.begin(), va.end());
  EXPECT_EQ(r.best_epoch, static_cast<int>(best - va.begin()) + 1);
  EXPECT_DOUBLE_EQ(r.valid_accuracy, *best);
  EXPECT_DOUBLE_EQ(r.dev_accuracy, r.history["dev_accuracy"][static_cast<size_t>(r.best_epoch - 1)]);
  EXPECT_NEAR(sentiment::evaluate(*net, valid, vocab).second, r.valid_accuracy, 1e-12);
  EXPECT_NEAR(sentiment::evaluate(*net, dev, vocab).second, r.dev_accuracy, 1e-12);
  EXPECT_GT(r.dev_accuracy, 0.85);
}

}  // namespace
