#include "koan/nn/conv.h"

#include <cmath>

#include "koan/tensor/creation.h"

namespace koan::nn {
namespace {

void check_channels(const char* layer, int64_t in, int64_t out, int64_t groups) {
  KOAN_CHECK(in > 0 && out > 0, ValueError, layer, ": in and out must be positive, got in=", in, " out=", out);
  KOAN_CHECK(groups > 0 && in % groups == 0 && out % groups == 0, ValueError, layer, ": groups=", groups,
             " must divide in=", in, " and out=", out);
}

// PyTorch's default: kaiming_uniform(a=sqrt(5)) for the weight, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
// and the same bound for the bias.  fan_in = weight.size(1) * kernel area.
void init_conv(Module& m, Tensor& weight, Tensor& bias, const Shape& wshape, int64_t out, bool with_bias,
               DType dtype) {
  int64_t fan_in = 1;
  for (size_t d = 1; d < wshape.size(); ++d) fan_in *= wshape[d];
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  Tensor w = empty(wshape, {.dtype = dtype});
  uniform_(w, -bound, bound);
  weight = m.register_parameter("weight", w);
  if (with_bias) {
    Tensor b = empty({out}, {.dtype = dtype});
    uniform_(b, -bound, bound);
    bias = m.register_parameter("bias", b);
  }
}

}  // namespace

Conv1d::Conv1d(Conv1dOptions o) : Module("Conv1d"), opts_(o) {
  check_channels("Conv1d", o.in, o.out, o.groups);
  KOAN_CHECK(o.kernel > 0 && o.stride > 0 && o.dilation > 0, ValueError, "Conv1d: kernel=", o.kernel,
             ", stride=", o.stride, " and dilation=", o.dilation, " must be positive");
  KOAN_CHECK(o.padding.mode != PadMode::Same || o.stride == 1, ValueError,
             "Conv1d: padding=\"same\" needs stride 1, got stride=", o.stride);
  init_conv(*this, weight, bias, {o.out, o.in / o.groups, o.kernel}, o.out, o.bias, o.dtype);
}

Tensor Conv1d::forward(const Tensor& x) {
  return conv1d(x, weight, bias, opts_.stride, opts_.padding, opts_.dilation, opts_.groups);
}
std::shared_ptr<Module> Conv1d::clone() const {
  auto c = std::make_shared<Conv1d>(opts_);
  c->copy_state_from(*this);
  c->train(is_training());
  return c;
}

std::string Conv1d::repr() const {
  const auto& o = opts_;
  return str("Conv1d(in=", o.in, ", out=", o.out, ", kernel=", o.kernel,
             o.stride != 1 ? str(", stride=", o.stride) : "",
             o.padding != Padding1(0) ? str(", padding=", o.padding) : "",
             o.dilation != 1 ? str(", dilation=", o.dilation) : "", o.groups != 1 ? str(", groups=", o.groups) : "",
             o.bias ? "" : ", bias=false", ")");
}

Conv2d::Conv2d(Conv2dOptions o) : Module("Conv2d"), opts_(o) {
  check_channels("Conv2d", o.in, o.out, o.groups);
  KOAN_CHECK(o.kernel.h > 0 && o.kernel.w > 0 && o.stride.h > 0 && o.stride.w > 0 && o.dilation.h > 0 &&
                 o.dilation.w > 0,
             ValueError, "Conv2d: kernel=", o.kernel, ", stride=", o.stride, " and dilation=", o.dilation,
             " must be positive");
  KOAN_CHECK(o.padding.mode != PadMode::Same || o.stride == Int2(1), ValueError,
             "Conv2d: padding=\"same\" needs stride 1, got stride=", o.stride);
  KOAN_CHECK(o.activation.empty() || o.activation == "relu", ValueError, "Conv2d: activation must be \"\" or \"relu\", got \"",
             o.activation, "\"");
  init_conv(*this, weight, bias, {o.out, o.in / o.groups, o.kernel.h, o.kernel.w}, o.out, o.bias, o.dtype);
}

Tensor Conv2d::forward(const Tensor& x) {
  if (opts_.activation == "relu")
    return conv2d_relu(x, weight, bias, opts_.stride, opts_.padding, opts_.dilation, opts_.groups);
  return conv2d(x, weight, bias, opts_.stride, opts_.padding, opts_.dilation, opts_.groups);
}
std::shared_ptr<Module> Conv2d::clone() const {
  auto c = std::make_shared<Conv2d>(opts_);
  c->copy_state_from(*this);
  c->train(is_training());
  return c;
}

std::string Conv2d::repr() const {
  const auto& o = opts_;
  return str("Conv2d(in=", o.in, ", out=", o.out, ", kernel=", o.kernel,
             o.stride != Int2(1) ? str(", stride=", o.stride) : "",
             o.padding != Padding2(0) ? str(", padding=", o.padding) : "",
             o.dilation != Int2(1) ? str(", dilation=", o.dilation) : "",
             o.groups != 1 ? str(", groups=", o.groups) : "", o.bias ? "" : ", bias=false",
             o.activation.empty() ? "" : str(", activation=", o.activation), ")");
}

ConvTranspose2d::ConvTranspose2d(ConvTranspose2dOptions o) : Module("ConvTranspose2d"), opts_(o) {
  check_channels("ConvTranspose2d", o.in, o.out, o.groups);
  KOAN_CHECK(o.kernel.h > 0 && o.kernel.w > 0 && o.stride.h > 0 && o.stride.w > 0 && o.dilation.h > 0 &&
                 o.dilation.w > 0,
             ValueError, "ConvTranspose2d: kernel=", o.kernel, ", stride=", o.stride, " and dilation=",
             o.dilation, " must be positive");
  // The weight is (in, out / groups, kh, kw), so PyTorch's fan_in is out / groups * kh * kw.
  init_conv(*this, weight, bias, {o.in, o.out / o.groups, o.kernel.h, o.kernel.w}, o.out, o.bias, o.dtype);
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  return conv_transpose2d(x, weight, bias, opts_.stride, opts_.padding, opts_.output_padding, opts_.groups,
                          opts_.dilation);
}
std::shared_ptr<Module> ConvTranspose2d::clone() const {
  auto c = std::make_shared<ConvTranspose2d>(opts_);
  c->copy_state_from(*this);
  c->train(is_training());
  return c;
}

std::string ConvTranspose2d::repr() const {
  const auto& o = opts_;
  return str("ConvTranspose2d(in=", o.in, ", out=", o.out, ", kernel=", o.kernel,
             o.stride != Int2(1) ? str(", stride=", o.stride) : "",
             o.padding != Int2(0) ? str(", padding=", o.padding) : "",
             o.output_padding != Int2(0) ? str(", output_padding=", o.output_padding) : "",
             o.groups != 1 ? str(", groups=", o.groups) : "", o.bias ? "" : ", bias=false",
             o.dilation != Int2(1) ? str(", dilation=", o.dilation) : "", ")");
}

}  // namespace koan::nn
