// Fused cross entropy over class indices: log-softmax, the target pick, label smoothing and the
// class weights in one pass per position, and the gradient softmax(x) - onehot in one more.
//
// logits are contiguous and viewed as [N, C, inner] (class dim 1, inner = the spatial dims d1...),
// targets as int64 [N * inner].  Floating dtypes only; sums accumulate in double.  Per position i
// with target t (not ignored) and per-class weights w (all 1 when undefined):
//   lse_i    = log(sum_c exp(x_ic)), kept as (m_i, log(sum_c exp(x_ic - m_i))) with m_i the max,
//              so x - lse never rounds away digits when |x| is large
//   nll_i    = -w_t * (x_it - lse_i)
//   smooth_i = -sum_c w_c * (x_ic - lse_i)              (label smoothing's uniform part)
//   wt_i     = w_t
// An ignored position (t == ignore_index) gets nll = smooth = wt = 0.
#pragma once
#include "koan/tensor/tensor.h"

namespace koan::kernels {

// Throws IndexError naming `op` unless every target lies in [0, classes) or equals ignore_index.
void check_class_indices(const Tensor& target, int64_t classes, int64_t ignore_index, const char* op);

// Fills stats ([N * inner, 2]: m_i and the log-sum), nll, wt and (when defined) smooth, each of
// N * inner elements in logits' dtype.  `weight` is [C] in logits' dtype or undefined.
void cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                           int64_t ignore_index, const Tensor& stats, const Tensor& nll,
                           const Tensor& smooth, const Tensor& wt);

// grad[i, c] = g_i * (alpha * w_t * (p_ic - [c == t]) + beta * (p_ic * sum(w) - w_c)), 0 at ignored
// positions, with p_ic = exp(x_ic - lse_i).  `gout` has one element (broadcast) or N * inner.
void cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                            int64_t ignore_index, const Tensor& stats, const Tensor& gout,
                            double alpha, double beta, const Tensor& grad);

}  // namespace koan::kernels
