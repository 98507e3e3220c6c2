// The snippets of docs/autograd.md; run build/examples/autograd_tour to see the output shown there.
#include <iostream>

#include "koan/koan.h"

using namespace koan;

int main() {
  // y = sum(w * x + b): the graph records Mul, Add, Sum nodes.
  Tensor x = tensor({1.f, 2.f, 3.f});
  Tensor w = tensor({0.5f, -1.f, 2.f}).requires_grad_();
  Tensor b = tensor({0.1f}).requires_grad_();
  Tensor y = sum(add(mul(w, x), b));
  std::cout << "y = " << y << "\n";
  std::cout << "graph: " << y.grad_fn()->name();
  for (auto n = y.grad_fn()->next_edges()[0].fn; n; n = n->next_edges().empty() ? nullptr : n->next_edges()[0].fn)
    std::cout << " <- " << n->name();
  std::cout << "\n";
  y.backward();
  std::cout << "dy/dw = " << w.grad() << "   (= x)\n";
  std::cout << "dy/db = " << b.grad() << "   (b was broadcast over 3 elements: summed back)\n";

  // Higher derivatives: backward rules are ops, so create_graph differentiates them again.
  Tensor t = tensor({0.5}, {.dtype = DType::Float64}).requires_grad_();
  Tensor g1 = autograd::grad({tanh(t)}, {t}, {}, true, true)[0];
  Tensor g2 = autograd::grad({g1}, {t})[0];
  std::cout << "d/dt tanh(0.5) = " << g1.item<double>() << ", d2/dt2 = " << g2.item<double>() << "\n";

  // Version counters catch an in-place write to a tensor saved for backward.
  Tensor a = mul(tensor({1.f, 2.f}).requires_grad_(), 1.0);
  Tensor e = exp(a);
  mul_(e, 2.0);
  try {
    sum(e).backward();
  } catch (const AutogradError& err) {
    std::cout << "error: " << err.what() << "\n";
  }
  return 0;
}
