// Padding, flipping and triangular masks.
//
//   Tensor p = koan::pad(x, {1, 1, 2, 0});               // last dim by (1, 1), the one before by (2, 0)
//   Tensor r = koan::pad(img, {2, 2, 2, 2}, "reflect");
//   Tensor f = koan::flip(x, {0, -1});
//   Tensor lower = koan::tril(scores);                    // keeps j <= i + diagonal
#pragma once
#include <string_view>
#include <vector>

#include "koan/tensor/tensor.h"

namespace koan {

// torch.nn.functional.pad: `pads` holds (before, after) pairs starting from the last dim.
// mode "constant" fills with `value` (negative pads crop); "reflect" mirrors without repeating
// the edge (pads must be < the dim's size); "replicate" repeats the edge.
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, std::string_view mode = "constant",
           double value = 0);
// Reverses the order of elements along each of `dims`.
Tensor flip(const Tensor& x, const std::vector<int64_t>& dims);
// Lower / upper triangle of the last two dims: tril keeps (i, j) with j - i <= diagonal, triu
// keeps j - i >= diagonal; the rest is zero.
Tensor tril(const Tensor& x, int64_t diagonal = 0);
Tensor triu(const Tensor& x, int64_t diagonal = 0);

}  // namespace koan
