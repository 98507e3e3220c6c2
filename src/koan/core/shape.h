// Shapes and the small helpers every layer needs: element counts, dim wrapping, broadcasting.
//
//   Shape s = broadcast_shapes({3, 1}, {4});   // {3, 4}
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace koan {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

int64_t numel(const Shape& s);
// Row-major strides for a shape, in elements.
Strides contiguous_strides(const Shape& s);
// Python-style negative dims: wrap_dim(-1, 3) == 2.  `op` names the caller in errors.
int64_t wrap_dim(int64_t dim, int64_t ndim, std::string_view op);
// NumPy broadcasting of two shapes; throws ShapeError naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op = "broadcast");

}  // namespace koan
