// The snippets of docs/tensors.md; run build/examples/tensors_tour to see the output shown there.
#include <iostream>

#include "koan/koan.h"

using namespace koan;

int main() {
  // Storage, layout, views.
  Tensor x = arange(6).to(DType::Float32).view({2, 3});
  Tensor xt = x.t();
  std::cout << "x =\n" << x << "\nshape " << str(x.shape()) << " strides " << str(x.strides()) << "\n";
  std::cout << "x.t() shares storage: " << (xt.storage() == x.storage()) << ", strides "
            << str(xt.strides()) << ", contiguous: " << xt.is_contiguous() << "\n";
  xt.at<float>({2, 0}) = 50.f;  // writes x[0, 2]
  std::cout << "after writing through the view, x =\n" << x << "\n";

  // Broadcasting: (2, 3) + (3,) -> (2, 3); the (3,) operand gets stride 0 on the new dim.
  Tensor b = tensor({10.f, 20.f, 30.f});
  std::cout << "x + b =\n" << add(x, b) << "\n";
  std::cout << "b expanded to (2, 3) has strides " << str(b.expand({2, 3}).strides()) << "\n";

  // Type promotion as in PyTorch.
  std::cout << "int64 + float32 -> " << add(arange(3), ones({3})).dtype() << "\n";
  std::cout << "int64 / int64   -> " << div(arange(3), full({3}, 2, {.dtype = DType::Int64})).dtype() << "\n";

  // The caching allocator.
  release_cached_memory();
  { Tensor big = empty({1 << 20}); }
  auto s1 = allocator_stats();
  { Tensor again = empty({1 << 20}); }
  auto s2 = allocator_stats();
  std::cout << "second 4 MiB allocation reached the OS: " << (s2.os_allocs > s1.os_allocs ? "yes" : "no")
            << " (cached " << s2.cached / (1 << 20) << " MiB)\n";
  return 0;
}
