// Fused kernels for the normalisation family: batch norm, layer norm, dropout, embedding.
//
//   kernels::batch_norm_stats(x, mean, var);                  // x: contiguous (N, C, S)
//   kernels::batch_norm_forward(x, mean, invstd, w, b, out);
//
// Kernels know layouts and pointers, nothing of autograd.  Every sum accumulates in double and
// every reduction runs in a fixed order on one thread (threads split channels, rows or
// destination rows, never one sum), so results are identical at any thread count.  Optional
// tensors (weight, bias, a gradient not wanted) are passed undefined.
#pragma once
#include "koan/tensor/random.h"
#include "koan/tensor/tensor.h"

namespace koan::kernels {

// ---- batch norm: x is contiguous and viewed as (N, C, S) with S the product of the spatial
// dims (1 for (N, C) input).  Per-channel tensors are contiguous (C) of x's dtype.

// mean[c] and biased variance var[c] over the N * S values of channel c.
void batch_norm_stats(const Tensor& x, const Tensor& mean, const Tensor& var);
// out = (x - mean[c]) * invstd[c] * weight[c] + bias[c]; out contiguous like x.
void batch_norm_forward(const Tensor& x, const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                        const Tensor& bias, const Tensor& out);
// Gradients of batch_norm_forward, given the output gradient g (contiguous like x).  training:
// mean and invstd came from x itself (the batch), so gx carries the statistics' terms:
//   gx = w invstd (g - mean(g) - xhat mean(g xhat)),  xhat = (x - mean) invstd
// otherwise gx = w invstd g.  gw[c] = sum(g xhat), gb[c] = sum(g).  Any of gx, gw, gb may be
// undefined (not wanted).
void batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& invstd,
                         const Tensor& weight, bool training, const Tensor& gx, const Tensor& gw,
                         const Tensor& gb);

// ---- layer norm: x contiguous, viewed as (rows, n) with n the normalised size.  mean and rstd
// are contiguous (rows); weight and bias contiguous (n).

// out = (x - mean[r]) * rstd[r] * weight + bias, also writing mean and rstd = 1/sqrt(var + eps)
// (biased variance).
void layer_norm(const Tensor& x, int64_t n, const Tensor& weight, const Tensor& bias, double eps,
                const Tensor& out, const Tensor& mean, const Tensor& rstd);
//   gx = rstd (dxh - mean(dxh) - xhat mean(dxh xhat)),  dxh = g w,  per row;
//   gw = sum over rows of g xhat, gb = sum over rows of g.  Any output may be undefined.
void layer_norm_backward(const Tensor& g, const Tensor& x, int64_t n, const Tensor& mean,
                         const Tensor& rstd, const Tensor& weight, const Tensor& gx, const Tensor& gw,
                         const Tensor& gb);

// ---- dropout: x contiguous.  Element k is kept when the generator's k-th reserved draw u_k in
// [0, 1) satisfies u_k >= p; mask[k] = kept ? 1/(1-p) : 0 and out = x * mask.  Reserves
// x.numel() counters, so the mask depends only on the generator's state, not on threads.
void dropout(const Tensor& x, double p, Generator& gen, const Tensor& out, const Tensor& mask);

// ---- embedding: weight (V, D) with any strides; indices contiguous int64 (n), already range
// checked; out contiguous (n, D).
void embedding(const Tensor& weight, const Tensor& indices, const Tensor& out);
// gw (V, D) contiguous, zero on entry: gw[indices[i]] += g[i] for every i whose index is not
// padding_idx (-1 for none).  g contiguous (n, D).  Threads own disjoint destination rows and
// walk the indices in order, so repeated indices sum in a fixed order.
void embedding_backward(const Tensor& g, const Tensor& indices, int64_t padding_idx, const Tensor& gw);

}  // namespace koan::kernels
