// Loss functions with PyTorch's names, arguments and numerics (torch.nn.functional.*).
//
//   Tensor l = koan::cross_entropy(logits, labels);                       // logits (N, C), labels int64 (N)
//   Tensor s = koan::cross_entropy(logits, labels, {.label_smoothing = 0.1, .reduction = Reduction::Sum});
//   Tensor b = koan::binary_cross_entropy_with_logits(scores, targets, {}, pos_weight);
//   Tensor m = koan::mse_loss(pred, y, "sum");                            // string reductions too
//   Tensor k = koan::kl_div(log_q, p, "batchmean");
//
// Prediction and target must have the same shape and dtype (PyTorch broadcasts with a warning;
// here a mismatch is a ShapeError).  Every loss is stable for extreme inputs: logits of +-1e4 give
// finite losses and gradients.  cross_entropy over class indices is one fused op (log-softmax,
// pick, smoothing and weights in one pass; gradient softmax - onehot in one more); the others are
// compositions of differentiable ops, so gradients reach targets and weights too.
#pragma once
#include <string>

#include "koan/tensor/tensor.h"

namespace koan {

enum class Reduction { None, Mean, Sum };

// "none" | "mean" | "sum"; anything else is a ValueError naming `op`.
Reduction parse_reduction(const std::string& reduction, const char* op = "loss");
const char* reduction_name(Reduction r);

// (x - y)^2.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor mse_loss(const Tensor& input, const Tensor& target, const std::string& reduction);
// |x - y|.
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction);
// 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = x - y); beta = 0 is l1_loss.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                      double beta = 1.0);
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction, double beta = 1.0);
// 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta); delta > 0.
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                  double delta = 1.0);
Tensor huber_loss(const Tensor& input, const Tensor& target, const std::string& reduction, double delta = 1.0);

// -w (y log p + (1 - y) log(1 - p)) on probabilities p in [0, 1], the logs clamped at -100 as
// PyTorch does.  weight (optional) broadcasts to the input.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                            Reduction reduction = Reduction::Mean);
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                            const std::string& reduction);
// The same on logits x, as w ((1 - y) x + (1 + (pw - 1) y) softplus(-x)): never log(0).
// pos_weight (optional) weighs the positive term and broadcasts along the last (class) dim.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                                        const Tensor& pos_weight = {}, Reduction reduction = Reduction::Mean);
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, const std::string& reduction);

struct CrossEntropyOptions {
  Tensor weight = {};          // (C) per-class weights, input's dtype; undefined = all 1
  int64_t ignore_index = -100; // class-index targets equal to it add nothing (not even weight)
  double label_smoothing = 0;  // in [0, 1]: mixes the target with the uniform distribution
  Reduction reduction = Reduction::Mean;
};

// Cross entropy of logits (N, C), (N, C, d1, ...) or unbatched (C), against either int64 class
// indices (N) / (N, d1, ...) / () or class probabilities of the logits' shape and dtype.  With
// class indices, mean divides by the summed weight of the non-ignored targets (PyTorch's rule);
// with probabilities, by the number of positions N * d1 * ...
Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& options = {});

struct NllLossOptions {
  Tensor weight = {};
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
};
// -w_t * input[t] for log-probabilities input (N, C) / (N, C, d1, ...) / (C) and int64 targets.
Tensor nll_loss(const Tensor& input, const Tensor& target, const NllLossOptions& options = {});

// Kullback-Leibler divergence of target from input (log-probabilities):
// target * (log(target) - input), or exp(target) * (target - input) with log_target.
// reduction: "none" | "mean" (over all elements) | "sum" | "batchmean" (sum / batch size, the
// true KL divergence per sample).
Tensor kl_div(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
              bool log_target = false);
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction, bool log_target = false);

namespace ops_detail {
// Shared by the loss files.
Tensor reduce_loss(const Tensor& loss, Reduction r);
// Prediction and target: defined, one floating dtype, one shape.
void check_pair(const Tensor& input, const Tensor& target, const char* op);
// An optional weight of the input's dtype.
void check_weight(const Tensor& w, const Tensor& input, const char* op, const char* what);
}  // namespace ops_detail

}  // namespace koan
