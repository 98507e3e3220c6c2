// Joining and splitting tensors: cat, stack, split, chunk, repeat.
//
//   Tensor ab = koan::cat({a, b}, 1);             // dtypes promote: float32 + float64 -> float64
//   Tensor s = koan::stack({a, b}, 0);            // new leading dim of size 2
//   auto parts = koan::split(x, {2, 3}, -1);      // views of x
//   auto halves = koan::chunk(x, 2, 0);
//   Tensor r = koan::repeat(x, {2, 1, 3});        // torch.Tensor.repeat
#pragma once
#include <vector>

#include "koan/tensor/tensor.h"

namespace koan {

// Concatenates along an existing dim.  Inputs are promoted to a common dtype; all shapes must
// match except along `dim` (1-D empty tensors are skipped, as torch does).
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Joins along a new dim; all shapes must be equal.
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Views of x of `split_size` along dim (the last one may be smaller).
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
// Views of x with the given sizes along dim (they must sum to x.size(dim)).
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
// At most `chunks` views of equal size ceil(size / chunks) along dim (the last may be smaller).
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
// Tiles x: repeats.size() >= x.dim(); leading repeats add dims (torch.Tensor.repeat).
Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats);

}  // namespace koan
