// Attention's softmax in one pass per row: scale, mask and softmax over the last dim, forward and
// backward.  x is contiguous and viewed as rows of length S; row r is query i = r % L.
//
//   causal:   keys j > i are masked; they are never read, exponentiated or differentiated (the
//             kernel writes 0 there), which halves the work of a square causal score matrix
//   bool:     mask (true = attend) is a view of x's shape with any strides (broadcast: stride 0)
//   additive: mask of x's dtype, same view rules, added after scaling
// A row whose every key is masked (or -inf) gives weights 0 and gradient 0, not NaN.
// Sums accumulate in T: a row is at most a few thousand keys.
#pragma once
#include "koan/tensor/tensor.h"

namespace koan::kernels {

enum class SoftmaxMask { None, Causal, Bool, Additive };

// y = softmax(scale * x [+ mask]) along the last dim, masked keys 0.
void masked_softmax(const Tensor& x, double scale, SoftmaxMask kind, const Tensor& mask, const Tensor& y);
// gx = scale * y * (g - sum(g * y)) along the last dim (0 where y is masked).  g and y contiguous.
void masked_softmax_backward(const Tensor& g, const Tensor& y, double scale, bool causal, const Tensor& gx);

}  // namespace koan::kernels
