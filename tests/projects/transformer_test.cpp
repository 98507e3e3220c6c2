// Smoke tests of the character Transformer (examples/transformer): causality (a position's
// logits do not depend on later characters), shapes and errors, and learning the Moby Dick slice.
#include <gtest/gtest.h>

#include <cmath>

#include "koan/autograd/grad_mode.h"
#include "koan/core/error.h"
#include "koan/ops/binary.h"
#include "koan/ops/shape.h"
#include "koan/tensor/creation.h"
#include "koan/tensor/random.h"
#include "text/char_corpus.h"
#include "text/train_lm.h"
#include "transformer/char_transformer.h"

using namespace koan;

namespace {

const std::string kSlice = std::string(KOAN_SOURCE_DIR) + "/tests/fixtures/projects/moby_dick_slice.txt";

TEST(TransformerProject, PositionsSeeOnlyThePast) {
  manual_seed(1);
  text::CharTransformer m({.vocab = 11, .context = 8, .d_model = 16, .heads = 2, .layers = 2});
  m.eval();
  NoGradGuard g;
  Tensor a = from_vector(std::vector<int64_t>{1, 2, 3, 4, 5, 6}, Shape{1, 6});
  Tensor b = from_vector(std::vector<int64_t>{1, 2, 3, 9, 9, 9}, Shape{1, 6});
  Tensor la = m.forward(a), lb = m.forward(b);
  ASSERT_EQ(la.shape(), (Shape{1, 6, 11}));
  // Positions 0..2 read the same prefix: same logits; position 3 differs.
  EXPECT_TRUE(allclose(narrow(la, 1, 0, 3), narrow(lb, 1, 0, 3)));
  EXPECT_FALSE(allclose(narrow(la, 1, 3, 1), narrow(lb, 1, 3, 1)));
  EXPECT_THROW(m.forward(zeros({1, 9}, {.dtype = DType::Int64})), ShapeError);  // past the context
  EXPECT_THROW(text::CharTransformer({.vocab = 11, .d_model = 10, .heads = 3}), ValueError);
}

TEST(TransformerProject, LearnsTheSlice) {
  auto c = text::load_char_corpus(kSlice, 0.1);
  manual_seed(0);
  text::CharTransformer m({.vocab = c.vocab_size(), .context = 32, .d_model = 32, .heads = 2, .layers = 1});
  EXPECT_NEAR(m.heldout_nats(c.heldout, 32), std::log(64.0), 0.3);
  auto r = text::train_char_model(m, c, {.batch = 16, .context = 32, .lr = 3e-3, .minutes = 0, .max_steps = 300,
                                         .eval_every = 150, .out = nullptr});
  EXPECT_LT(r.history["loss"].back(), r.history["loss"].front());
  EXPECT_LT(r.heldout_nats, text::bigram_heldout_nats(c));
  Generator gen(5);
  auto ids = m.generate(c.encode("The "), 40, 0.8, gen, 32);  // longer than the context
  EXPECT_EQ(ids.size(), 40u);
}

}  // namespace
