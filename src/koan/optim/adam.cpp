#include "koan/optim/adam.h"

#include <cmath>

#include "koan/ops/binary.h"
#include "koan/ops/inplace.h"
#include "koan/ops/optim_step.h"
#include "koan/ops/unary.h"
#include "koan/tensor/creation.h"

namespace koan::optim {

namespace {
template <class O>
void check_adam(const O& o, const char* who) {
  KOAN_CHECK(o.lr >= 0, ValueError, who, ": invalid learning rate ", o.lr);
  KOAN_CHECK(o.eps >= 0, ValueError, who, ": invalid eps ", o.eps);
  KOAN_CHECK(o.betas.first >= 0 && o.betas.first < 1, ValueError, who, ": invalid beta 0: ", o.betas.first,
             " (needs 0 <= beta < 1)");
  KOAN_CHECK(o.betas.second >= 0 && o.betas.second < 1, ValueError, who, ": invalid beta 1: ", o.betas.second,
             " (needs 0 <= beta < 1)");
  KOAN_CHECK(o.weight_decay >= 0, ValueError, who, ": invalid weight_decay ", o.weight_decay);
}

// The shared Adam step on gradient g (weight decay already applied as the variant wants).
template <class O>
void adam_update(const O& o, Tensor& p, const Tensor& g, ParamState& st) {
  auto [beta1, beta2] = o.betas;
  Tensor& m = st["exp_avg"];
  Tensor& v = st["exp_avg_sq"];
  mul_(m, beta1);
  add_(m, g, 1 - beta1);
  mul_(v, beta2);
  add_(v, mul(g, g), 1 - beta2);

  double t = static_cast<double>(st.step);
  double step_size = o.lr / (1 - std::pow(beta1, t));
  double bias_correction2_sqrt = std::sqrt(1 - std::pow(beta2, t));

  Tensor denom;
  if (o.amsgrad) {
    Tensor& vmax = st["max_exp_avg_sq"];
    if (!vmax.defined()) vmax = zeros_like(p);
    copy_(vmax, maximum(vmax, v));
    denom = sqrt(vmax);
  } else {
    denom = sqrt(v);
  }
  div_(denom, bias_correction2_sqrt);
  add_(denom, o.eps);
  add_(p, div(m, denom), -step_size);
}

// The one-pass kernel for the common case; false where it does not apply (then op by op).
template <class O>
bool fused_update(const O& o, bool decoupled, Tensor& p, const Tensor& grad, ParamState& st) {
  Tensor no_vmax;
  Tensor& vmax = o.amsgrad ? st["max_exp_avg_sq"] : no_vmax;
  if (o.amsgrad && !vmax.defined()) vmax = zeros_like(p);
  AdamStep a{.lr = o.lr, .beta1 = o.betas.first, .beta2 = o.betas.second, .eps = o.eps,
             .weight_decay = o.weight_decay, .decoupled = decoupled, .maximize = o.maximize, .step = st.step};
  return fused_adam_step_(p, grad, st["exp_avg"], st["exp_avg_sq"], vmax, a);
}

void init_moments(Tensor& p, ParamState& st) {
  if (st.buffers.count("exp_avg")) return;
  st["exp_avg"] = zeros_like(p);
  st["exp_avg_sq"] = zeros_like(p);
}
}  // namespace

void AdamOptions::check(const char* who) const { check_adam(*this, who); }
void AdamWOptions::check(const char* who) const { check_adam(*this, who); }

void Adam::step() {
  for_each_param([&](size_t gi, Tensor& p, const Tensor& grad, ParamState& st) {
    const AdamOptions& o = options_[gi];
    init_moments(p, st);
    ++st.step;
    if (fused_update(o, false, p, grad, st)) return;
    Tensor g = o.maximize ? neg(grad) : grad;
    if (o.weight_decay != 0) g = add(g, p, o.weight_decay);
    adam_update(o, p, g, st);
  });
}

void AdamW::step() {
  for_each_param([&](size_t gi, Tensor& p, const Tensor& grad, ParamState& st) {
    const AdamWOptions& o = options_[gi];
    init_moments(p, st);
    ++st.step;
    if (fused_update(o, true, p, grad, st)) return;
    Tensor g = o.maximize ? neg(grad) : grad;
    mul_(p, 1 - o.lr * o.weight_decay);
    adam_update(o, p, g, st);
  });
}

}  // namespace koan::optim
