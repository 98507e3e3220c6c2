#include "koan/tensor/layout.h"

#include <algorithm>

#include "koan/core/error.h"

namespace koan {

Layout Layout::contiguous(Shape shape, int64_t offset) {
  Strides st = contiguous_strides(shape);
  return Layout{std::move(shape), std::move(st), offset};
}

bool Layout::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] == 1) continue;
    if (shape[i] == 0) return true;
    if (strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

int64_t Layout::extent() const {
  int64_t hi = offset;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0) return 0;
    hi += (shape[i] - 1) * strides[i];
  }
  return hi + 1;
}

Shape infer_size(Shape shape, int64_t n, std::string_view op) {
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      KOAN_CHECK(infer < 0, ShapeError, op, ": only one dimension can be -1, got ", shape);
      infer = static_cast<int>(i);
    } else {
      KOAN_CHECK(shape[i] >= 0, ShapeError, op, ": invalid size ", shape[i], " in shape ", shape);
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    KOAN_CHECK(known != 0 && n % known == 0, ShapeError, op, ": shape ", shape,
               " is invalid for input of size ", n);
    shape[infer] = n / known;
  } else {
    KOAN_CHECK(known == n, ShapeError, op, ": shape ", shape, " is invalid for input of size ", n);
  }
  return shape;
}

Layout transpose(const Layout& l, int64_t d0, int64_t d1) {
  d0 = wrap_dim(d0, l.dim(), "transpose");
  d1 = wrap_dim(d1, l.dim(), "transpose");
  Layout r = l;
  if (l.dim() == 0) return r;
  std::swap(r.shape[d0], r.shape[d1]);
  std::swap(r.strides[d0], r.strides[d1]);
  return r;
}

Layout permute(const Layout& l, const std::vector<int64_t>& dims) {
  KOAN_CHECK(static_cast<int64_t>(dims.size()) == l.dim(), ShapeError, "permute: got ", dims.size(),
             " dims ", dims, " for a tensor with ", l.dim(), " dims");
  Layout r = l;
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], l.dim(), "permute");
    KOAN_CHECK(!seen[d], ShapeError, "permute: dim ", d, " repeated in ", dims);
    seen[d] = true;
    r.shape[i] = l.shape[d];
    r.strides[i] = l.strides[d];
  }
  return r;
}

Layout narrow(const Layout& l, int64_t dim, int64_t start, int64_t length) {
  KOAN_CHECK(l.dim() > 0, ShapeError, "narrow: cannot narrow a 0-d tensor");
  dim = wrap_dim(dim, l.dim(), "narrow");
  int64_t size = l.shape[dim];
  if (start < 0) start += size;
  KOAN_CHECK(start >= 0 && length >= 0 && start + length <= size, IndexError, "narrow: start ",
             start, " and length ", length, " out of range for dim ", dim, " of size ", size);
  Layout r = l;
  r.offset += start * l.strides[dim];
  r.shape[dim] = length;
  return r;
}

Layout slice(const Layout& l, int64_t dim, int64_t start, int64_t end, int64_t step) {
  KOAN_CHECK(l.dim() > 0, ShapeError, "slice: cannot slice a 0-d tensor");
  dim = wrap_dim(dim, l.dim(), "slice");
  KOAN_CHECK(step > 0, ValueError, "slice: step must be positive, got ", step);
  int64_t size = l.shape[dim];
  // Python semantics: negative indices count from the end, out-of-range bounds are clamped.
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = std::clamp<int64_t>(start, 0, size);
  end = std::clamp<int64_t>(end, start, size);
  Layout r = l;
  r.offset += start * l.strides[dim];
  r.shape[dim] = (end - start + step - 1) / step;
  r.strides[dim] = l.strides[dim] * step;
  return r;
}

Layout select(const Layout& l, int64_t dim, int64_t index) {
  KOAN_CHECK(l.dim() > 0, IndexError, "select: cannot index a 0-d tensor");
  dim = wrap_dim(dim, l.dim(), "select");
  int64_t size = l.shape[dim];
  KOAN_CHECK(index >= -size && index < size, IndexError, "select: index ", index,
             " out of range for dim ", dim, " of size ", size);
  if (index < 0) index += size;
  Layout r = l;
  r.offset += index * l.strides[dim];
  r.shape.erase(r.shape.begin() + dim);
  r.strides.erase(r.strides.begin() + dim);
  return r;
}

Layout expand(const Layout& l, const Shape& shape) {
  KOAN_CHECK(shape.size() >= l.shape.size(), ShapeError, "expand: cannot expand shape ", l.shape,
             " to ", shape, " (fewer dims)");
  size_t lead = shape.size() - l.shape.size();
  Layout r;
  r.offset = l.offset;
  r.shape.resize(shape.size());
  r.strides.resize(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      KOAN_CHECK(shape[i] >= 0, ShapeError, "expand: invalid size -1 for a new leading dim in ",
                 shape);
      r.shape[i] = shape[i];
      r.strides[i] = 0;
      continue;
    }
    int64_t have = l.shape[i - lead];
    int64_t want = shape[i] == -1 ? have : shape[i];
    KOAN_CHECK(have == want || have == 1, ShapeError, "expand: cannot expand shape ", l.shape,
               " to ", shape, " (dim ", i, ": ", have, " vs ", want, ")");
    r.shape[i] = want;
    r.strides[i] = have == want ? l.strides[i - lead] : 0;
  }
  return r;
}

Layout squeeze(const Layout& l, std::optional<int64_t> dim) {
  Layout r;
  r.offset = l.offset;
  int64_t only = dim ? wrap_dim(*dim, l.dim(), "squeeze") : -1;
  for (int64_t i = 0; i < l.dim(); ++i) {
    bool drop = l.shape[i] == 1 && (!dim || i == only);
    if (drop) continue;
    r.shape.push_back(l.shape[i]);
    r.strides.push_back(l.strides[i]);
  }
  return r;
}

Layout unsqueeze(const Layout& l, int64_t dim) {
  dim = wrap_dim(dim, l.dim() + 1, "unsqueeze");
  Layout r = l;
  int64_t st = dim < l.dim() ? l.strides[dim] * l.shape[dim] : 1;
  r.shape.insert(r.shape.begin() + dim, 1);
  r.strides.insert(r.strides.begin() + dim, st);
  return r;
}

Layout diagonal(const Layout& l) {
  KOAN_CHECK(l.dim() == 2, ShapeError, "diagonal: expected a 2-d tensor, got shape ", l.shape);
  Layout r;
  r.offset = l.offset;
  r.shape = {std::min(l.shape[0], l.shape[1])};
  r.strides = {l.strides[0] + l.strides[1]};
  return r;
}

std::optional<Layout> try_view(const Layout& l, const Shape& shape) {
  // Walk old and new dims in chunks of equal element count; each old chunk must be one
  // contiguous run of memory (PyTorch's computeStride).
  if (l.numel() == 0 || l.dim() == 0) return Layout::contiguous(shape, l.offset);
  Layout r;
  r.offset = l.offset;
  r.shape = shape;
  r.strides.assign(shape.size(), 0);
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = l.strides.empty() ? 1 : l.strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = l.dim() - 1; d >= 0; --d) {
    tensor_numel *= l.shape[d];
    if (d == 0 || (l.shape[d - 1] != 1 && l.strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        r.strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        view_d--;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = l.strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return r;
}

}  // namespace koan
