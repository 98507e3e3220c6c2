#include "koan/nn/norm.h"

#include "koan/autograd/grad_mode.h"
#include "koan/ops/inplace.h"
#include "koan/ops/norm.h"
#include "koan/tensor/creation.h"

namespace koan::nn {

BatchNorm::BatchNorm(const char* type, BatchNormOptions o) : Module(type), opts_(o) {
  KOAN_CHECK(o.num_features > 0, ValueError, type, ": num_features must be positive, got ", o.num_features);
  KOAN_CHECK(o.eps >= 0, ValueError, type, ": eps must be >= 0, got ", o.eps);
  KOAN_CHECK(!o.momentum || (*o.momentum >= 0 && *o.momentum <= 1), ValueError, type,
             ": momentum must be in [0, 1], got ", o.momentum.value_or(0));
  const int64_t c = o.num_features;
  if (o.affine) {
    weight = register_parameter("weight", ones({c}, {.dtype = o.dtype}));
    bias = register_parameter("bias", zeros({c}, {.dtype = o.dtype}));
  }
  if (o.track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({c}, {.dtype = o.dtype}));
    running_var = register_buffer("running_var", ones({c}, {.dtype = o.dtype}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, {.dtype = DType::Int64}));
  }
}

Tensor BatchNorm::forward(const Tensor& x) {
  check_input(x);
  double factor = opts_.momentum.value_or(0.0);
  if (is_training() && opts_.track_running_stats) {
    NoGradGuard g;
    add_(num_batches_tracked, 1);
    if (!opts_.momentum) factor = 1.0 / static_cast<double>(num_batches_tracked.item<int64_t>());
  }
  // Without tracked statistics eval mode also normalises with the batch's, as torch does.
  bool use_batch_stats = is_training() || !opts_.track_running_stats;
  return batch_norm(x, running_mean, running_var, weight, bias, use_batch_stats, factor, opts_.eps);
}

std::string BatchNorm::repr() const {
  return str(type_name(), "(num_features=", opts_.num_features, ", eps=", opts_.eps, ", momentum=",
             opts_.momentum ? str(*opts_.momentum) : std::string("none"), opts_.affine ? "" : ", affine=false",
             opts_.track_running_stats ? "" : ", track_running_stats=false", ")");
}

BatchNorm1d::BatchNorm1d(BatchNormOptions o) : BatchNorm("BatchNorm1d", o) {}
BatchNorm2d::BatchNorm2d(BatchNormOptions o) : BatchNorm("BatchNorm2d", o) {}

void BatchNorm1d::check_input(const Tensor& x) const {
  KOAN_CHECK(x.dim() == 2 || x.dim() == 3, ShapeError, "BatchNorm1d: expected a 2-D (N, C) or 3-D (N, C, L) "
             "input, got ", x.shape());
}
void BatchNorm2d::check_input(const Tensor& x) const {
  KOAN_CHECK(x.dim() == 4, ShapeError, "BatchNorm2d: expected a 4-D (N, C, H, W) input, got ", x.shape());
}

std::shared_ptr<Module> BatchNorm1d::clone() const {
  auto c = std::make_shared<BatchNorm1d>(opts_);
  c->copy_state_from(*this);
  c->train(is_training());
  return c;
}
std::shared_ptr<Module> BatchNorm2d::clone() const {
  auto c = std::make_shared<BatchNorm2d>(opts_);
  c->copy_state_from(*this);
  c->train(is_training());
  return c;
}

LayerNorm::LayerNorm(LayerNormOptions o) : Module("LayerNorm"), opts_(std::move(o)) {
  KOAN_CHECK(!opts_.normalized_shape.empty(), ValueError, "LayerNorm: normalized_shape must have at least 1 dim");
  for (int64_t s : opts_.normalized_shape)
    KOAN_CHECK(s > 0, ValueError, "LayerNorm: normalized_shape ", opts_.normalized_shape,
               " must have positive sizes");
  if (opts_.elementwise_affine) {
    weight = register_parameter("weight", ones(opts_.normalized_shape, {.dtype = opts_.dtype}));
    bias = register_parameter("bias", zeros(opts_.normalized_shape, {.dtype = opts_.dtype}));
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  return layer_norm(x, opts_.normalized_shape, weight, bias, opts_.eps);
}

std::shared_ptr<Module> LayerNorm::clone() const {
  auto c = std::make_shared<LayerNorm>(opts_);
  c->copy_state_from(*this);
  c->train(is_training());
  return c;
}

std::string LayerNorm::repr() const {
  return str("LayerNorm(normalized_shape=", opts_.normalized_shape, ", eps=", opts_.eps,
             opts_.elementwise_affine ? "" : ", elementwise_affine=false", ")");
}

}  // namespace koan::nn
