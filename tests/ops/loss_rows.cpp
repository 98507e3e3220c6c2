// Op table rows for the loss family (fixtures: tests/fixtures/loss.safetensors, made by
// gen_loss.py).  Per-case arguments arrive as an int64 input P = x[2]: the reduction code
// (0 none, 1 mean, 2 sum, 3 batchmean), then op parameters (reals in thousandths) and flags saying
// which optional weights follow in x[3], x[4].
#include "ops/op_table.h"

namespace koan::testing {
namespace {

int64_t arg(const Tensor& p, size_t i) { return p.to_vector<int64_t>().at(i); }
Reduction red(const Tensor& p) { return static_cast<Reduction>(arg(p, 0)); }  // None, Mean, Sum
const char* red_name(const Tensor& p) {
  static const char* names[] = {"none", "mean", "sum", "batchmean"};
  return names[arg(p, 0)];
}
double milli(const Tensor& p, size_t i) { return static_cast<double>(arg(p, i)) / 1000; }

Tensor f32(const Shape& s) { return randn(s); }
Tensor f64(const Shape& s) { return randn(s, {.dtype = DType::Float64}); }
Tensor labels(std::initializer_list<int64_t> v) { return tensor(v); }

KOAN_OP_ROW({.op = "mse_loss", .family = "loss",
             // String reductions on the way, to test both overloads.
             .fn = [](const Inputs& x) { return koan::mse_loss(x[0], x[1], std::string(red_name(x[2]))); },
             .errors = {[] { (void)koan::mse_loss(f32({2, 3}), f32({3, 2})); },
                        [] { (void)koan::mse_loss(f32({2, 3}), f64({2, 3})); },
                        [] { (void)koan::mse_loss(f32({2}), f32({2}), "average"); },
                        [] { (void)koan::mse_loss(tensor({1, 2}), tensor({1, 2})); }}});

KOAN_OP_ROW({.op = "l1_loss", .family = "loss",
             .fn = [](const Inputs& x) { return koan::l1_loss(x[0], x[1], red(x[2])); },
             .errors = {[] { (void)koan::l1_loss(f32({4}), f32({4, 1})); },
                        [] { (void)koan::l1_loss(f32({2}), tensor({1, 2})); },
                        [] { (void)koan::l1_loss(f32({2}), f32({2}), "batchmean"); }}});

KOAN_OP_ROW({.op = "smooth_l1_loss", .family = "loss",
             .fn = [](const Inputs& x) { return koan::smooth_l1_loss(x[0], x[1], red(x[2]), milli(x[2], 1)); },
             .errors = {[] { (void)koan::smooth_l1_loss(f32({2, 3}), f32({2, 3}), Reduction::Mean, -1.0); },
                        [] { (void)koan::smooth_l1_loss(f32({2, 3}), f32({6})); },
                        [] { (void)koan::smooth_l1_loss(f32({2}), f32({2}), "avg"); }}});

KOAN_OP_ROW({.op = "huber_loss", .family = "loss",
             .fn = [](const Inputs& x) { return koan::huber_loss(x[0], x[1], red(x[2]), milli(x[2], 1)); },
             .errors = {[] { (void)koan::huber_loss(f32({2, 3}), f32({2, 3}), Reduction::Mean, 0.0); },
                        [] { (void)koan::huber_loss(f32({2, 3}), f32({3, 2})); },
                        [] { (void)koan::huber_loss(f64({2}), f32({2})); }}});

KOAN_OP_ROW({.op = "binary_cross_entropy", .family = "loss",
             .fn = [](const Inputs& x) {
               return koan::binary_cross_entropy(x[0], x[1], arg(x[2], 1) ? x[3] : Tensor(), red(x[2]));
             },
             .errors = {[] { (void)koan::binary_cross_entropy(tensor({0.5f, 1.5f}), tensor({0.f, 1.f})); },
                        [] { (void)koan::binary_cross_entropy(tensor({0.5f, 0.2f}), tensor({0.f, 1.f, 1.f})); },
                        [] { (void)koan::binary_cross_entropy(tensor({0.5f}), tensor({1.0}, {.dtype = DType::Float64})); },
                        [] { (void)koan::binary_cross_entropy(rand({2, 3}), rand({2, 3}), rand({4})); },
                        [] { (void)koan::binary_cross_entropy(rand({2}), rand({2}), {}, "means"); }}});

KOAN_OP_ROW({.op = "binary_cross_entropy_with_logits", .family = "loss",
             .fn = [](const Inputs& x) {
               size_t k = 3;
               Tensor w = arg(x[2], 1) ? x[k++] : Tensor();
               Tensor pw = arg(x[2], 2) ? x[k++] : Tensor();
               return koan::binary_cross_entropy_with_logits(x[0], x[1], w, pw, red(x[2]));
             },
             .errors = {[] { (void)koan::binary_cross_entropy_with_logits(f32({2, 3}), rand({3, 2})); },
                        [] { (void)koan::binary_cross_entropy_with_logits(f32({2, 3}), labels({0, 1})); },
                        [] { (void)koan::binary_cross_entropy_with_logits(f32({2, 3}), rand({2, 3}), {}, rand({4})); },
                        [] { (void)koan::binary_cross_entropy_with_logits(f32({2, 3}), rand({2, 3}), {}, f64({3})); },
                        [] { (void)koan::binary_cross_entropy_with_logits(f32({2}), rand({2}), {}, {}, "all"); }}});

KOAN_OP_ROW({.op = "cross_entropy", .family = "loss",
             .fn = [](const Inputs& x) {
               return koan::cross_entropy(x[0], x[1], {.weight = arg(x[2], 3) ? x[3] : Tensor(),
                                                        .ignore_index = arg(x[2], 1),
                                                        .label_smoothing = milli(x[2], 2),
                                                        .reduction = red(x[2])});
             },
             .errors = {// class index out of range (above, and negative other than ignore_index)
                        [] { (void)koan::cross_entropy(f32({3, 4}), labels({0, 4, 1})); },
                        [] { (void)koan::cross_entropy(f32({3, 4}), labels({0, -1, 1})); },
                        // target shape does not fit (batch, spatial), probability target shape
                        [] { (void)koan::cross_entropy(f32({3, 4}), labels({0, 1})); },
                        [] { (void)koan::cross_entropy(f32({2, 4, 3}), labels({0, 1})); },
                        [] { (void)koan::cross_entropy(f32({3, 4}), rand({3, 5})); },
                        // wrong target dtypes: int32 indices, float64 probabilities for float32 logits
                        [] { (void)koan::cross_entropy(f32({2, 4}), tensor({0, 1}, DType::Int32)); },
                        [] { (void)koan::cross_entropy(f32({2, 4}), f64({2, 4})); },
                        // weight of the wrong size / dtype, label smoothing out of range
                        [] { (void)koan::cross_entropy(f32({2, 4}), labels({0, 1}), {.weight = rand({3})}); },
                        [] { (void)koan::cross_entropy(f32({2, 4}), labels({0, 1}), {.weight = f64({4})}); },
                        [] { (void)koan::cross_entropy(f32({2, 4}), labels({0, 1}), {.label_smoothing = 1.5}); },
                        [] { (void)koan::cross_entropy(labels({1, 2}), labels({0, 1})); },
                        [] { (void)koan::cross_entropy(f32({}), labels({0})); }}});

KOAN_OP_ROW({.op = "nll_loss", .family = "loss",
             .fn = [](const Inputs& x) {
               return koan::nll_loss(x[0], x[1], {.weight = arg(x[2], 2) ? x[3] : Tensor(),
                                                  .ignore_index = arg(x[2], 1), .reduction = red(x[2])});
             },
             .errors = {[] { (void)koan::nll_loss(f32({3, 4}), labels({0, 7, 1})); },
                        [] { (void)koan::nll_loss(f32({3, 4}), labels({0, 1, 2, 3})); },
                        [] { (void)koan::nll_loss(f32({3, 4}), f32({3})); },
                        [] { (void)koan::nll_loss(f32({3, 4}), labels({0, 1, 2}), {.weight = rand({2, 2})}); },
                        [] { (void)koan::nll_loss(f32({4}), labels({0})); }}});

KOAN_OP_ROW({.op = "kl_div", .family = "loss",
             .fn = [](const Inputs& x) { return koan::kl_div(x[0], x[1], red_name(x[2]), arg(x[2], 1) != 0); },
             .errors = {[] { (void)koan::kl_div(f32({2, 3}), rand({3, 2})); },
                        [] { (void)koan::kl_div(f32({2, 3}), rand({2, 3}), "batch_mean"); },
                        [] { (void)koan::kl_div(f32({2, 3}), f64({2, 3})); }}});

}  // namespace
}  // namespace koan::testing
