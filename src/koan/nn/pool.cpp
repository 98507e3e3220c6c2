#include "koan/nn/pool.h"

#include "koan/ops/shape.h"

namespace koan::nn {
namespace {

// Layers without state clone by options alone.
template <class L>
std::shared_ptr<Module> clone_stateless(const L& self) {
  auto c = std::make_shared<L>(self.options());
  c->train(self.is_training());
  return c;
}

std::string opt_str(bool show, const char* name, const auto& v) { return show ? str(", ", name, "=", v) : ""; }

}  // namespace

MaxPool1d::MaxPool1d(MaxPool1dOptions o) : Module("MaxPool1d"), opts_(o) {
  KOAN_CHECK(o.kernel > 0 && o.stride.value_or(1) > 0 && o.dilation > 0, ValueError, "MaxPool1d: kernel=",
             o.kernel, ", stride=", o.stride.value_or(o.kernel), " and dilation=", o.dilation, " must be positive");
}
Tensor MaxPool1d::forward(const Tensor& x) {
  return max_pool1d(x, opts_.kernel, opts_.stride, opts_.padding, opts_.dilation, opts_.ceil_mode);
}
std::shared_ptr<Module> MaxPool1d::clone() const { return clone_stateless(*this); }
std::string MaxPool1d::repr() const {
  const auto& o = opts_;
  return str("MaxPool1d(kernel=", o.kernel, ", stride=", o.stride.value_or(o.kernel),
             opt_str(o.padding != 0, "padding", o.padding), opt_str(o.dilation != 1, "dilation", o.dilation),
             o.ceil_mode ? ", ceil_mode=true" : "", ")");
}

MaxPool2d::MaxPool2d(MaxPool2dOptions o) : Module("MaxPool2d"), opts_(o) {
  Int2 s = o.stride.value_or(Int2(1));
  KOAN_CHECK(o.kernel.h > 0 && o.kernel.w > 0 && s.h > 0 && s.w > 0 && o.dilation.h > 0 && o.dilation.w > 0,
             ValueError, "MaxPool2d: kernel=", o.kernel, ", stride=", o.stride.value_or(o.kernel),
             " and dilation=", o.dilation, " must be positive");
}
Tensor MaxPool2d::forward(const Tensor& x) {
  return max_pool2d(x, opts_.kernel, opts_.stride, opts_.padding, opts_.dilation, opts_.ceil_mode);
}
std::shared_ptr<Module> MaxPool2d::clone() const { return clone_stateless(*this); }
std::string MaxPool2d::repr() const {
  const auto& o = opts_;
  return str("MaxPool2d(kernel=", o.kernel, ", stride=", o.stride.value_or(o.kernel),
             opt_str(o.padding != Int2(0), "padding", o.padding),
             opt_str(o.dilation != Int2(1), "dilation", o.dilation), o.ceil_mode ? ", ceil_mode=true" : "", ")");
}

AvgPool2d::AvgPool2d(AvgPool2dOptions o) : Module("AvgPool2d"), opts_(o) {
  Int2 s = o.stride.value_or(Int2(1));
  KOAN_CHECK(o.kernel.h > 0 && o.kernel.w > 0 && s.h > 0 && s.w > 0, ValueError, "AvgPool2d: kernel=",
             o.kernel, " and stride=", o.stride.value_or(o.kernel), " must be positive");
}
Tensor AvgPool2d::forward(const Tensor& x) {
  return avg_pool2d(x, opts_.kernel, opts_.stride, opts_.padding, opts_.ceil_mode, opts_.count_include_pad);
}
std::shared_ptr<Module> AvgPool2d::clone() const { return clone_stateless(*this); }
std::string AvgPool2d::repr() const {
  const auto& o = opts_;
  return str("AvgPool2d(kernel=", o.kernel, ", stride=", o.stride.value_or(o.kernel),
             opt_str(o.padding != Int2(0), "padding", o.padding), o.ceil_mode ? ", ceil_mode=true" : "",
             o.count_include_pad ? "" : ", count_include_pad=false", ")");
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions o) : Module("AdaptiveAvgPool2d"), opts_(o) {
  KOAN_CHECK(o.output_size.h > 0 && o.output_size.w > 0, ValueError, "AdaptiveAvgPool2d: output_size=",
             o.output_size, " must be positive");
}
Tensor AdaptiveAvgPool2d::forward(const Tensor& x) { return adaptive_avg_pool2d(x, opts_.output_size); }
std::shared_ptr<Module> AdaptiveAvgPool2d::clone() const { return clone_stateless(*this); }
std::string AdaptiveAvgPool2d::repr() const { return str("AdaptiveAvgPool2d(output_size=", opts_.output_size, ")"); }

Flatten::Flatten(FlattenOptions o) : Module("Flatten"), opts_(o) {}
Tensor Flatten::forward(const Tensor& x) { return flatten(x, opts_.start_dim, opts_.end_dim); }
std::shared_ptr<Module> Flatten::clone() const { return clone_stateless(*this); }
std::string Flatten::repr() const {
  return str("Flatten(start_dim=", opts_.start_dim, ", end_dim=", opts_.end_dim, ")");
}

}  // namespace koan::nn
