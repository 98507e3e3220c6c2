// Op table rows for the attention family (fixtures: tests/fixtures/attention.safetensors, made
// by gen_attention.py).  An empty mask input stands for "no mask"; the scale travels as an int64
// fraction with the causal flag: P(numerator, denominator, is_causal).
#include "koan/ops/softmax.h"
#include "ops/op_table.h"

namespace koan::testing {
namespace {

Tensor opt(const Tensor& t) { return t.numel() ? t : Tensor(); }
Tensor f32(const Shape& s) { return randn(s); }
Tensor bools(const Shape& s) { return ones(s, {.dtype = DType::Bool}); }

KOAN_OP_ROW({.op = "masked_softmax", .family = "attention",
             .fn = [](const Inputs& x) {
               auto p = x[2].to_vector<int64_t>();
               return masked_softmax(x[0], opt(x[1]), static_cast<double>(p[0]) / static_cast<double>(p[1]),
                                     p[2] != 0);
             },
             .errors = {[] { (void)masked_softmax(randint(0, 3, {2, 3})); },                      // integer scores
                        [] { (void)masked_softmax(f32({3, 4}), bools({3, 4}), 1.0, true); },       // mask and causal
                        [] { (void)masked_softmax(f32({4}), Tensor(), 1.0, true); },               // causal needs (L, S)
                        [] { (void)masked_softmax(f32({3, 4}), bools({3, 5})); },                  // mask shape
                        [] { (void)masked_softmax(f32({3, 4}), bools({2, 3, 4})); },               // mask wider than x
                        [] { (void)masked_softmax(f32({3, 4}), randn({3, 4}, {.dtype = DType::Float64})); },
                        [] { (void)masked_softmax(f32({3, 4}), randint(0, 2, {3, 4})); },          // int mask
                        [] { (void)masked_softmax(f32({3, 4}), Tensor(), std::nan("")); },         // scale
                        [] { (void)masked_softmax(Tensor()); }}});

}  // namespace
}  // namespace koan::testing
