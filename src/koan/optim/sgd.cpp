#include "koan/optim/sgd.h"

#include "koan/ops/binary.h"
#include "koan/ops/inplace.h"
#include "koan/ops/optim_step.h"
#include "koan/ops/shape.h"
#include "koan/ops/unary.h"
#include "koan/tensor/creation.h"

namespace koan::optim {

void SGDOptions::check(const char* who) const {
  KOAN_CHECK(lr >= 0, ValueError, who, ": invalid learning rate ", lr);
  KOAN_CHECK(momentum >= 0, ValueError, who, ": invalid momentum ", momentum);
  KOAN_CHECK(weight_decay >= 0, ValueError, who, ": invalid weight_decay ", weight_decay);
  KOAN_CHECK(!nesterov || (momentum > 0 && dampening == 0), ValueError, who,
             ": Nesterov momentum needs momentum > 0 and dampening 0 (momentum ", momentum, ", dampening ",
             dampening, ")");
}

void SGD::step() {
  for_each_param([&](size_t g, Tensor& p, const Tensor& grad, ParamState& st) {
    const SGDOptions& o = options_[g];
    ++st.step;
    {
      Tensor no_buf;
      Tensor& buf = o.momentum != 0 ? st["momentum_buffer"] : no_buf;
      const bool first = o.momentum != 0 && !buf.defined();
      if (first) buf = empty_like(p);
      SgdStep s{.lr = o.lr, .momentum = o.momentum, .dampening = o.dampening, .weight_decay = o.weight_decay,
                .nesterov = o.nesterov, .maximize = o.maximize, .first = first};
      if (fused_sgd_step_(p, grad, buf, s)) return;
      if (first) buf = Tensor();  // the op-by-op rule below creates it
    }
    Tensor d = o.maximize ? neg(grad) : grad;
    if (o.weight_decay != 0) d = add(d, p, o.weight_decay);
    if (o.momentum != 0) {
      Tensor& buf = st["momentum_buffer"];
      if (!buf.defined()) {
        buf = clone(d);
      } else {
        mul_(buf, o.momentum);
        add_(buf, d, 1 - o.dampening);
      }
      d = o.nesterov ? add(d, buf, o.momentum) : buf;
    }
    add_(p, d, -o.lr);
  });
}

}  // namespace koan::optim
