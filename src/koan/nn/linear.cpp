#include "koan/nn/linear.h"

#include <cmath>

#include "koan/ops/linalg.h"
#include "koan/tensor/creation.h"

namespace koan::nn {

Linear::Linear(LinearOptions o) : Module("Linear"), opts_(o) {
  KOAN_CHECK(o.in > 0 && o.out > 0, ValueError, "Linear: in and out must be positive, got in=", o.in,
             " out=", o.out);
  // PyTorch's default: kaiming_uniform(a=sqrt(5)) for W, i.e. U(-1/sqrt(in), 1/sqrt(in)), and the same
  // bound for b.
  double bound = 1.0 / std::sqrt(static_cast<double>(o.in));
  Tensor w = empty({o.out, o.in}, {.dtype = o.dtype});
  uniform_(w, -bound, bound);
  weight = register_parameter("weight", w);
  if (o.bias) {
    Tensor b = empty({o.out}, {.dtype = o.dtype});
    uniform_(b, -bound, bound);
    bias = register_parameter("bias", b);
  }
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

std::shared_ptr<Module> Linear::clone() const {
  auto c = std::make_shared<Linear>(opts_);
  c->copy_state_from(*this);
  c->train(is_training());
  return c;
}

std::string Linear::repr() const {
  return str("Linear(in=", opts_.in, ", out=", opts_.out, opts_.bias ? "" : ", bias=false", ")");
}

}  // namespace koan::nn
