#include "koan/optim/rmsprop.h"

#include "koan/ops/binary.h"
#include "koan/ops/inplace.h"
#include "koan/ops/unary.h"
#include "koan/tensor/creation.h"

namespace koan::optim {

void RMSpropOptions::check(const char* who) const {
  KOAN_CHECK(lr >= 0, ValueError, who, ": invalid learning rate ", lr);
  KOAN_CHECK(eps >= 0, ValueError, who, ": invalid eps ", eps);
  KOAN_CHECK(momentum >= 0, ValueError, who, ": invalid momentum ", momentum);
  KOAN_CHECK(weight_decay >= 0, ValueError, who, ": invalid weight_decay ", weight_decay);
  KOAN_CHECK(alpha >= 0, ValueError, who, ": invalid alpha ", alpha);
}

void RMSprop::step() {
  for_each_param([&](size_t g, Tensor& p, const Tensor& grad, ParamState& st) {
    const RMSpropOptions& o = options_[g];
    Tensor& sq = st["square_avg"];
    if (!sq.defined()) sq = zeros_like(p);
    ++st.step;
    Tensor d = o.maximize ? neg(grad) : grad;
    if (o.weight_decay != 0) d = add(d, p, o.weight_decay);

    mul_(sq, o.alpha);
    add_(sq, mul(d, d), 1 - o.alpha);
    Tensor avg;
    if (o.centered) {
      Tensor& ga = st["grad_avg"];
      if (!ga.defined()) ga = zeros_like(p);
      mul_(ga, o.alpha);
      add_(ga, d, 1 - o.alpha);
      avg = sqrt(sub(sq, mul(ga, ga)));
    } else {
      avg = sqrt(sq);
    }
    add_(avg, o.eps);
    if (o.momentum > 0) {
      Tensor& buf = st["momentum_buffer"];
      if (!buf.defined()) buf = zeros_like(p);
      mul_(buf, o.momentum);
      add_(buf, div(d, avg));
      add_(p, buf, -o.lr);
    } else {
      add_(p, div(d, avg), -o.lr);
    }
  });
}

}  // namespace koan::optim
