// Pooling over (N, C, L) and (N, C, H, W) tensors, as torch.nn.functional.
//
//   Tensor m = koan::max_pool2d(x, 2);                        // stride defaults to the kernel
//   Tensor a = koan::avg_pool2d(x, {3, 2}, 1, 1, false, /*count_include_pad=*/false);
//   Tensor g = koan::adaptive_avg_pool2d(x, 1);               // global average: (N, C, 1, 1)
//   Tensor s = koan::max_pool1d(seq, 3, 2);
//
// Unbatched inputs ((C, H, W), (C, L)) are accepted.  Max pooling sends the gradient to the
// (first) maximum of each window; average pooling spreads it evenly over the window.
#pragma once
#include <optional>
#include <utility>

#include "koan/ops/conv.h"

namespace koan {

Tensor max_pool1d(const Tensor& x, int64_t kernel, std::optional<int64_t> stride = std::nullopt,
                  int64_t padding = 0, int64_t dilation = 1, bool ceil_mode = false);
Tensor max_pool2d(const Tensor& x, Int2 kernel, std::optional<Int2> stride = std::nullopt, Int2 padding = 0,
                  Int2 dilation = 1, bool ceil_mode = false);
// The pooled values and the flat index (h * W + w) of each maximum within its plane.
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, Int2 kernel,
                                                  std::optional<Int2> stride = std::nullopt,
                                                  Int2 padding = 0, Int2 dilation = 1, bool ceil_mode = false);
// count_include_pad: whether zero padding counts in each window's divisor.
Tensor avg_pool2d(const Tensor& x, Int2 kernel, std::optional<Int2> stride = std::nullopt, Int2 padding = 0,
                  bool ceil_mode = false, bool count_include_pad = true);
// Averages over windows chosen so the output is output_size (h, w) for any input size.
Tensor adaptive_avg_pool2d(const Tensor& x, Int2 output_size);

}  // namespace koan
