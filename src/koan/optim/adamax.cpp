#include "koan/optim/adamax.h"

#include <cmath>

#include "koan/ops/binary.h"
#include "koan/ops/inplace.h"
#include "koan/ops/unary.h"
#include "koan/tensor/creation.h"

namespace koan::optim {

void AdamaxOptions::check(const char* who) const {
  KOAN_CHECK(lr >= 0, ValueError, who, ": invalid learning rate ", lr);
  KOAN_CHECK(eps >= 0, ValueError, who, ": invalid eps ", eps);
  KOAN_CHECK(betas.first >= 0 && betas.first < 1, ValueError, who, ": invalid beta 0: ", betas.first,
             " (needs 0 <= beta < 1)");
  KOAN_CHECK(betas.second >= 0 && betas.second < 1, ValueError, who, ": invalid beta 1: ", betas.second,
             " (needs 0 <= beta < 1)");
  KOAN_CHECK(weight_decay >= 0, ValueError, who, ": invalid weight_decay ", weight_decay);
}

void Adamax::step() {
  for_each_param([&](size_t gi, Tensor& p, const Tensor& grad, ParamState& st) {
    const AdamaxOptions& o = options_[gi];
    auto [beta1, beta2] = o.betas;
    Tensor& m = st["exp_avg"];
    Tensor& u = st["exp_inf"];
    if (!m.defined()) m = zeros_like(p);
    if (!u.defined()) u = zeros_like(p);
    double t = static_cast<double>(++st.step);
    Tensor g = o.maximize ? neg(grad) : grad;
    if (o.weight_decay != 0) g = add(g, p, o.weight_decay);

    mul_(m, beta1);
    add_(m, g, 1 - beta1);
    // torch takes amax over cat([β2·u, |g| + ε]); the elementwise maximum is the same number.
    mul_(u, beta2);
    Tensor a = abs(g);
    add_(a, o.eps);
    copy_(u, maximum(u, a));
    double clr = o.lr / (1 - std::pow(beta1, t));
    add_(p, div(m, u), -clr);
  });
}

}  // namespace koan::optim
