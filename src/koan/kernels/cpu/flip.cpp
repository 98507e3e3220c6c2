#include "koan/kernels/flip.h"

#include <cstring>

namespace koan::kernels {

namespace {
template <size_t B>
void flip_bytes(const Layout& l, const char* src, char* dst) {
  int64_t i = 0;
  for_each_offset(l, [&](int64_t off) { std::memcpy(dst + (i++) * B, src + off * B, B); });
}
}  // namespace

void flip(const Tensor& src, const Tensor& dst, const std::vector<int64_t>& dims) {
  KOAN_ASSERT(dst.is_contiguous() && dst.shape() == src.shape() && dst.dtype() == src.dtype(),
              "flip: dst must be a contiguous tensor of src's shape and dtype");
  // A walk with negated strides: start at the far end of each flipped dim.
  Layout l = src.layout();
  for (int64_t d : dims) {
    if (l.shape[d] == 0) return;
    l.offset += (l.shape[d] - 1) * l.strides[d];
    l.strides[d] = -l.strides[d];
  }
  // raw_data() points at the layout's first element; for_each_offset adds l.offset itself.
  const char* base = static_cast<const char*>(src.storage()->data());
  char* out = static_cast<char*>(dst.raw_data());
  switch (src.element_size()) {
    case 1: flip_bytes<1>(l, base, out); break;
    case 2: flip_bytes<2>(l, base, out); break;
    case 4: flip_bytes<4>(l, base, out); break;
    case 8: flip_bytes<8>(l, base, out); break;
    default: KOAN_ASSERT(false, "flip: unsupported element size");
  }
}

}  // namespace koan::kernels
