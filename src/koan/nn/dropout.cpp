#include "koan/nn/dropout.h"

#include "koan/ops/dropout.h"

namespace koan::nn {

Dropout::Dropout(DropoutOptions o) : Module("Dropout"), opts_(o) {
  KOAN_CHECK(o.p >= 0 && o.p <= 1, ValueError, "Dropout: p must be in [0, 1], got ", o.p);
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, opts_.p, is_training(), opts_.generator); }

std::shared_ptr<Module> Dropout::clone() const {
  auto c = std::make_shared<Dropout>(opts_);
  c->train(is_training());
  return c;
}

std::string Dropout::repr() const { return str("Dropout(p=", opts_.p, ")"); }

}  // namespace koan::nn
