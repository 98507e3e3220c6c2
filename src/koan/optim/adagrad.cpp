#include "koan/optim/adagrad.h"

#include "koan/ops/binary.h"
#include "koan/ops/inplace.h"
#include "koan/ops/unary.h"
#include "koan/tensor/creation.h"

namespace koan::optim {

void AdagradOptions::check(const char* who) const {
  KOAN_CHECK(lr >= 0, ValueError, who, ": invalid learning rate ", lr);
  KOAN_CHECK(lr_decay >= 0, ValueError, who, ": invalid lr_decay ", lr_decay);
  KOAN_CHECK(weight_decay >= 0, ValueError, who, ": invalid weight_decay ", weight_decay);
  KOAN_CHECK(initial_accumulator_value >= 0, ValueError, who, ": invalid initial_accumulator_value ",
             initial_accumulator_value);
  KOAN_CHECK(eps >= 0, ValueError, who, ": invalid eps ", eps);
}

void Adagrad::step() {
  for_each_param([&](size_t g, Tensor& p, const Tensor& grad, ParamState& st) {
    const AdagradOptions& o = options_[g];
    Tensor& sum = st["sum"];
    if (!sum.defined()) sum = full_like(p, o.initial_accumulator_value);
    double t = static_cast<double>(++st.step);
    Tensor d = o.maximize ? neg(grad) : grad;
    if (o.weight_decay != 0) d = add(d, p, o.weight_decay);
    double clr = o.lr / (1 + (t - 1) * o.lr_decay);
    add_(sum, mul(d, d));
    Tensor denom = sqrt(sum);
    add_(denom, o.eps);
    add_(p, div(d, denom), -clr);
  });
}

}  // namespace koan::optim
