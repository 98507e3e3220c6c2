// Op table rows for the norm family (fixtures: tests/fixtures/norm.safetensors, made by
// gen_norm.py).  Per-case arguments arrive as a trailing int64 input; see gen_norm.py.
#include <cmath>

#include "koan/ops/dropout.h"
#include "koan/ops/embedding.h"
#include "koan/ops/norm.h"
#include "ops/op_table.h"

namespace koan::testing {
namespace {

std::vector<int64_t> args(const Inputs& x) { return x.back().to_vector<int64_t>(); }
Tensor f32(const Shape& s) { return randn(s); }
Tensor f64(const Shape& s) { return randn(s, {.dtype = DType::Float64}); }
Tensor idx(std::initializer_list<int64_t> v) { return koan::tensor(v); }

// [x, rm, rv, (w, b,) P(training, momentum %, eps exponent)].  The running statistics are cloned
// so the driver's repeated calls do not keep updating the fixture's tensors.
Tensor bn_call(const Inputs& x) {
  auto p = args(x);
  bool affine = x.size() == 6;
  return koan::batch_norm(x[0], x[1].clone(), x[2].clone(), affine ? x[3] : Tensor(), affine ? x[4] : Tensor(),
                          p[0] != 0, p[1] / 100.0, std::pow(10.0, -static_cast<double>(p[2])));
}

// [x, (w, b,) P(k, eps exponent)]
Tensor ln_call(const Inputs& x) {
  auto p = args(x);
  bool affine = x.size() == 4;
  const Shape& s = x[0].shape();
  Shape ns(s.end() - p[0], s.end());
  return koan::layer_norm(x[0], ns, affine ? x[1] : Tensor(), affine ? x[2] : Tensor(),
                          std::pow(10.0, -static_cast<double>(p[1])));
}

constexpr int64_t kNoPad = -1000;  // gen_norm.NO_PAD

KOAN_OP_ROW({.op = "batch_norm", .family = "norm",
             .fn = bn_call,
             .errors = {
                 // weight / bias / running statistics with the wrong channel count
                 [] { (void)koan::batch_norm(f32({4, 3}), zeros({3}), ones({3}), ones({4}), zeros({3}), true); },
                 [] { (void)koan::batch_norm(f32({4, 3}), zeros({3}), ones({3}), ones({3}), zeros({2}), true); },
                 [] { (void)koan::batch_norm(f32({4, 3, 2}), zeros({2}), ones({3}), Tensor(), Tensor(), false); },
                 [] { (void)koan::batch_norm(f32({4, 3, 2}), zeros({3}), ones({3, 1}), Tensor(), Tensor(), false); },
                 // dtype mismatch, integer input, too few dims
                 [] { (void)koan::batch_norm(f32({4, 3}), zeros({3}), ones({3}), f64({3}), Tensor(), true); },
                 [] { (void)koan::batch_norm(randint(0, 3, {4, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true); },
                 [] { (void)koan::batch_norm(f32({4}), Tensor(), Tensor(), Tensor(), Tensor(), true); },
                 // eval without running statistics; only one of them; one value per channel
                 [] { (void)koan::batch_norm(f32({4, 3}), Tensor(), Tensor(), Tensor(), Tensor(), false); },
                 [] { (void)koan::batch_norm(f32({4, 3}), zeros({3}), Tensor(), Tensor(), Tensor(), true); },
                 [] { (void)koan::batch_norm(f32({1, 3}), zeros({3}), ones({3}), Tensor(), Tensor(), true); }}});

KOAN_OP_ROW({.op = "layer_norm", .family = "norm",
             .fn = ln_call,
             .errors = {
                 [] { (void)koan::layer_norm(f32({2, 3}), {4}); },
                 [] { (void)koan::layer_norm(f32({2, 3}), {2, 3, 1}); },
                 [] { (void)koan::layer_norm(f32({2, 3}), {}); },
                 [] { (void)koan::layer_norm(f32({2, 3}), {2}); },
                 [] { (void)koan::layer_norm(f32({2, 3}), {3}, ones({4})); },
                 [] { (void)koan::layer_norm(f32({2, 3}), {3}, ones({3}), zeros({1, 3})); },
                 [] { (void)koan::layer_norm(f32({2, 3}), {3}, f64({3})); },
                 [] { (void)koan::layer_norm(randint(0, 3, {2, 3}), {3}); }}});

KOAN_OP_ROW({.op = "dropout", .family = "norm",
             .fn = [](const Inputs& x) {
               auto p = args(x);
               return koan::dropout(x[0], p[0] / 100.0, p[1] != 0);
             },
             .errors = {[] { (void)koan::dropout(f32({3}), -0.1); },
                        [] { (void)koan::dropout(f32({3}), 1.5); },
                        [] { (void)koan::dropout(f32({3}), std::nan(""), false); },
                        [] { (void)koan::dropout(randint(0, 3, {3}), 0.5); }}});

KOAN_OP_ROW({.op = "embedding", .family = "norm",
             .fn = [](const Inputs& x) {
               int64_t pad = args(x)[0];
               return koan::embedding(x[0], x[1], pad == kNoPad ? std::nullopt : std::optional<int64_t>(pad));
             },
             // padding_idx deliberately gives its row no gradient although the output reads it, so
             // central differences cannot agree on those cases: gradients are compared with
             // PyTorch's in every case, and tests/nn/norm_test.cpp gradchecks the unpadded op.
             .differentiable = false,
             .errors = {[] { (void)koan::embedding(idx({0, 5}), f32({5, 2})); },
                        [] { (void)koan::embedding(idx({-1}), f32({5, 2})); },
                        [] { (void)koan::embedding(koan::tensor({0.f, 1.f}), f32({5, 2})); },
                        [] { (void)koan::embedding(idx({0}), f32({5})); },
                        [] { (void)koan::embedding(idx({0}), f32({5, 2}), 5); },
                        [] { (void)koan::embedding(idx({0}), f32({5, 2}), -6); },
                        [] { (void)koan::embedding(idx({0}), randint(0, 3, {5, 2})); }}});

}  // namespace
}  // namespace koan::testing
