// Shape, strides and offset: how a tensor's elements sit in its storage.
//
// Every view (transpose, slice, expand, ...) is a pure function from one Layout to another; no
// data moves.  The ops layer wraps these with autograd; kernels read layouts to walk memory.
//
//   Layout l = Layout::contiguous({2, 3});
//   Layout t = transpose(l, 0, 1);          // shape {3, 2}, strides {1, 3}
#pragma once
#include <optional>
#include <string_view>

#include "koan/core/shape.h"

namespace koan {

struct Layout {
  Shape shape;
  Strides strides;  // in elements, may be 0 (broadcast) but never negative
  int64_t offset = 0;

  static Layout contiguous(Shape shape, int64_t offset = 0);
  int64_t dim() const { return static_cast<int64_t>(shape.size()); }
  int64_t numel() const { return koan::numel(shape); }
  bool is_contiguous() const;
  // Number of storage elements the layout can touch: max offset + 1 (0 when empty).
  int64_t extent() const;
};

// Replaces one -1 in `shape` so the element count is `n`; checks the count matches.
Shape infer_size(Shape shape, int64_t n, std::string_view op);

Layout transpose(const Layout& l, int64_t d0, int64_t d1);
Layout permute(const Layout& l, const std::vector<int64_t>& dims);
Layout narrow(const Layout& l, int64_t dim, int64_t start, int64_t length);
Layout slice(const Layout& l, int64_t dim, int64_t start, int64_t end, int64_t step);
Layout select(const Layout& l, int64_t dim, int64_t index);
Layout expand(const Layout& l, const Shape& shape);
Layout squeeze(const Layout& l, std::optional<int64_t> dim);
Layout unsqueeze(const Layout& l, int64_t dim);
Layout diagonal(const Layout& l);
// A view with `shape` sharing memory, or nullopt if the strides cannot express it (then a copy
// is needed, as torch.reshape does).
std::optional<Layout> try_view(const Layout& l, const Shape& shape);

}  // namespace koan

namespace koan {
// Calls fn(storage_offset) for every element of `l` in row-major order.  A simple odometer for
// code off the hot path (printing, conversion); kernels have their own vectorised loops.
template <class F>
void for_each_offset(const Layout& l, F&& fn) {
  int64_t n = l.numel();
  if (n == 0) return;
  int64_t nd = l.dim();
  std::vector<int64_t> idx(nd, 0);
  int64_t off = l.offset;
  for (int64_t k = 0; k < n; ++k) {
    fn(off);
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++idx[d] < l.shape[d]) {
        off += l.strides[d];
        break;
      }
      off -= (l.shape[d] - 1) * l.strides[d];
      idx[d] = 0;
    }
  }
}
}  // namespace koan
