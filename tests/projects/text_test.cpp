// Smoke tests of the character language models (examples/text) on a 12 000-character slice of
// Moby Dick committed under tests/fixtures/projects/.
#include <gtest/gtest.h>

#include <cmath>

#include "koan/core/error.h"
#include "koan/tensor/random.h"
#include "text/char_corpus.h"
#include "text/char_rnn.h"
#include "text/train_lm.h"

using namespace koan;

namespace {

const std::string kSlice = std::string(KOAN_SOURCE_DIR) + "/tests/fixtures/projects/moby_dick_slice.txt";

TEST(TextProject, SplitAndBigramMatchPython) {
  auto c = text::load_char_corpus(kSlice, 0.1);
  // Python: t = slice; cut = int(0.9 * len(t)); V = len(set(t)) (12000, 10800, 64).
  EXPECT_EQ(c.train.size(), 10800u);
  EXPECT_EQ(c.heldout.size(), 1200u);
  EXPECT_EQ(c.vocab_size(), 64);
  // The same add-one bigram computed with collections.Counter in Python.
  EXPECT_NEAR(text::bigram_heldout_nats(c), 2.528190273808402, 1e-9);
  EXPECT_EQ(c.decode(c.encode("Call me Ishmael.")), "Call me Ishmael.");
  EXPECT_THROW(c.encode("#"), ValueError);  // not in the slice
  EXPECT_THROW(text::make_char_corpus("ab", 0.1), ValueError);
}

TEST(TextProject, WindowsAreShiftedByOne) {
  std::vector<int64_t> ids(100);
  for (int64_t i = 0; i < 100; ++i) ids[static_cast<size_t>(i)] = i;
  Generator gen(3);
  Tensor x, y;
  text::random_windows(ids, 4, 10, gen, x, y);
  ASSERT_EQ(x.shape(), (Shape{4, 10}));
  for (int64_t b = 0; b < 4; ++b)
    for (int64_t t = 0; t < 10; ++t) EXPECT_EQ(y.at<int64_t>({b, t}), x.at<int64_t>({b, t}) + 1);
}

// A few hundred steps must take an LSTM and a GRU far below the uniform model (log 64 = 4.16)
// and below the bigram on held-out text; a model that does not learn stays near 4.16.
TEST(TextProject, LstmAndGruLearnTheSlice) {
  auto c = text::load_char_corpus(kSlice, 0.1);
  const double bigram = text::bigram_heldout_nats(c);
  for (const char* cell : {"lstm", "gru"}) {
    SCOPED_TRACE(cell);
    manual_seed(0);
    text::CharRNN net({.cell = cell, .vocab = c.vocab_size(), .embed = 16, .hidden = 64});
    const double before = net.heldout_nats(c.heldout, 32);
    EXPECT_NEAR(before, std::log(64.0), 0.3);
    auto r = text::train_char_model(net, c, {.batch = 16, .context = 32, .lr = 1e-2, .minutes = 0,
                                             .max_steps = 300, .eval_every = 100, .out = nullptr});
    EXPECT_EQ(r.steps, 300);
    ASSERT_EQ(r.history.epochs(), 3u);
    EXPECT_LT(r.history["loss"].back(), r.history["loss"].front());
    EXPECT_LT(r.heldout_nats, bigram);
    // Sampling is reproducible per seed and stays in the vocabulary.
    Generator g1(7), g2(7);
    auto s1 = net.generate(c.encode("The "), 50, 0.8, g1), s2 = net.generate(c.encode("The "), 50, 0.8, g2);
    EXPECT_EQ(s1, s2);
    ASSERT_EQ(s1.size(), 50u);
    for (int64_t id : s1) EXPECT_TRUE(id >= 0 && id < c.vocab_size());
  }
}

}  // namespace
