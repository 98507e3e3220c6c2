// Batch and layer normalisation, each one fused op with its own backward rule.
//
//   // (N, C), (N, C, L) or (N, C, H, W): per-channel statistics over every dim but 1.
//   Tensor y = koan::batch_norm(x, running_mean, running_var, weight, bias, /*training=*/true);
//   // Normalise each sample over its trailing dims.
//   Tensor z = koan::layer_norm(h, {64}, gamma, beta);
//
// weight, bias (and, for batch_norm, the running statistics) may be undefined Tensors.
#pragma once
#include "koan/tensor/tensor.h"

namespace koan {

// training: normalises with the batch's mean and biased variance and, when running_mean and
// running_var are given, updates them in place (under NoGradGuard, bumping their versions) as
// PyTorch does: r = (1 - momentum) r + momentum s, with the unbiased variance for running_var.
// Otherwise normalises with the running statistics (which must be given); in that mode the
// output is a differentiable function of them too, so gradients reach them if they require grad.
// All tensors share x's floating dtype; per-channel tensors have shape (C) with C = x.size(1).
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum = 0.1,
                  double eps = 1e-5);

// (x - mean) / sqrt(var + eps) * weight + bias, the statistics (biased variance) over the trailing
// dims named by normalized_shape, which must equal x's last dims; weight and bias have that shape.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

}  // namespace koan
