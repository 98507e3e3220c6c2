#include "koan/data/transforms.h"

#include "koan/ops/binary.h"
#include "koan/ops/join.h"
#include "koan/ops/operators.h"
#include "koan/ops/pad.h"
#include "koan/tensor/creation.h"

namespace koan::data::transforms {
namespace {

void check_image(const Tensor& x, const char* op) {
  KOAN_CHECK(x.defined() && (x.dim() == 3 || x.dim() == 4), ShapeError, op,
             ": expects an image (C, H, W) or a batch (N, C, H, W), got ",
             x.defined() ? str(x.shape()) : std::string("an undefined tensor"));
  KOAN_CHECK(x.is_floating_point(), DTypeError, op, ": expects floating-point images, got ", name(x.dtype()),
             " (convert first, e.g. x.to(DType::Float32) / 255)");
}

// Uniform integer in [0, n).
int64_t draw_below(Generator& g, int64_t n) {
  return static_cast<int64_t>((static_cast<unsigned __int128>(g.next_u64()) * static_cast<uint64_t>(n)) >> 64);
}

}  // namespace

Tensor normalize(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& stdev) {
  check_image(x, "normalize");
  int64_t c = x.size(-3);
  KOAN_CHECK(mean.size() == stdev.size() && (static_cast<int64_t>(mean.size()) == c || mean.size() == 1), ShapeError,
             "normalize: mean ", mean, " and std ", stdev, " need one value or one per channel (", c, ")");
  for (double s : stdev) KOAN_CHECK(s > 0, ValueError, "normalize: std must be positive, got ", stdev);
  auto k = static_cast<int64_t>(mean.size());
  Tensor m = from_vector(mean, Shape{k, 1, 1}).to(x.dtype());
  Tensor s = from_vector(stdev, Shape{k, 1, 1}).to(x.dtype());
  return div(sub(x, m), s);
}

Tensor random_crop(const Tensor& x, int64_t height, int64_t width, int64_t padding, Generator& gen) {
  check_image(x, "random_crop");
  KOAN_CHECK(padding >= 0, ValueError, "random_crop: padding must be >= 0, got ", padding);
  Tensor p = padding ? pad(x, {padding, padding, padding, padding}) : x;
  int64_t ph = p.size(-2), pw = p.size(-1);
  KOAN_CHECK(height >= 1 && width >= 1 && height <= ph && width <= pw, ValueError, "random_crop: a (", height, ", ",
             width, ") crop does not fit a padded image of (", ph, ", ", pw, ")");
  auto window = [&](const Tensor& img) {
    int64_t top = draw_below(gen, ph - height + 1);
    int64_t left = draw_below(gen, pw - width + 1);
    return img.narrow(-2, top, height).narrow(-1, left, width);
  };
  if (x.dim() == 3) return window(p).contiguous();
  std::vector<Tensor> crops;
  crops.reserve(p.size(0));
  for (int64_t n = 0; n < p.size(0); ++n) crops.push_back(window(p.select(0, n)));
  return stack(crops, 0);
}

Tensor random_horizontal_flip(const Tensor& x, Generator& gen, double p) {
  check_image(x, "random_horizontal_flip");
  KOAN_CHECK(p >= 0 && p <= 1, ValueError, "random_horizontal_flip: p must be in [0, 1], got ", p);
  if (x.dim() == 3) return bits_to_double(gen.next_u64()) < p ? koan::flip(x, {-1}) : x;
  int64_t n = x.size(0);
  std::vector<bool> pick(n);
  for (int64_t k = 0; k < n; ++k) pick[k] = bits_to_double(gen.next_u64()) < p;
  // One flip of the batch and a select by mask: two kernels instead of n.
  Tensor mask = from_vector(pick, Shape{n, 1, 1, 1});
  return where(mask, koan::flip(x, {-1}), x);
}

Tensor gaussian_noise(const Tensor& x, double stdev, Generator& gen) {
  KOAN_CHECK(x.defined() && x.is_floating_point(), DTypeError, "gaussian_noise: expects a floating-point tensor");
  KOAN_CHECK(stdev >= 0, ValueError, "gaussian_noise: std must be >= 0, got ", stdev);
  return add(x, mul(randn(x.shape(), {.dtype = x.dtype()}, &gen), stdev));
}

TensorTransform normalizer(std::vector<double> mean, std::vector<double> stdev) {
  return [mean = std::move(mean), stdev = std::move(stdev)](const Tensor& x, Generator&) {
    return normalize(x, mean, stdev);
  };
}
TensorTransform crop(int64_t height, int64_t width, int64_t padding) {
  return [=](const Tensor& x, Generator& g) { return random_crop(x, height, width, padding, g); };
}
TensorTransform flip(double p) {
  return [p](const Tensor& x, Generator& g) { return random_horizontal_flip(x, g, p); };
}
TensorTransform noise(double stdev) {
  return [stdev](const Tensor& x, Generator& g) { return gaussian_noise(x, stdev, g); };
}
TensorTransform compose(std::vector<TensorTransform> ts) {
  return [ts = std::move(ts)](const Tensor& x, Generator& g) {
    Tensor y = x;
    for (const auto& t : ts) y = t(y, g);
    return y;
  };
}

}  // namespace koan::data::transforms
