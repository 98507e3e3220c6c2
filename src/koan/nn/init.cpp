#include "koan/nn/init.h"

#include <cmath>

#include "koan/autograd/grad_mode.h"
#include "koan/ops/inplace.h"
#include "koan/tensor/creation.h"

namespace koan::nn::init {

double calculate_gain(const std::string& nl, double param) {
  if (nl == "linear" || nl == "identity" || nl == "sigmoid" || nl.rfind("conv", 0) == 0) return 1.0;
  if (nl == "tanh") return 5.0 / 3.0;
  if (nl == "relu") return std::sqrt(2.0);
  if (nl == "leaky_relu") return std::sqrt(2.0 / (1 + param * param));
  if (nl == "selu") return 3.0 / 4.0;
  throw ValueError(str("calculate_gain: unknown nonlinearity \"", nl, "\""));
}

std::pair<int64_t, int64_t> fan_in_and_out(const Tensor& t) {
  KOAN_CHECK(t.dim() >= 2, ShapeError, "init: fan in and fan out need at least 2 dims, got shape ", t.shape());
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

Tensor& uniform_(Tensor& t, double a, double b, Generator* gen) {
  NoGradGuard g;
  koan::uniform_(t, a, b, gen);
  return t;
}

Tensor& normal_(Tensor& t, double mean, double std, Generator* gen) {
  NoGradGuard g;
  koan::normal_(t, mean, std, gen);
  return t;
}

Tensor& constant_(Tensor& t, double value) {
  NoGradGuard g;
  return fill_(t, value);
}
Tensor& zeros_(Tensor& t) { return constant_(t, 0); }
Tensor& ones_(Tensor& t) { return constant_(t, 1); }

Tensor& xavier_uniform_(Tensor& t, double gain, Generator* gen) {
  auto [fi, fo] = fan_in_and_out(t);
  double a = gain * std::sqrt(6.0 / static_cast<double>(fi + fo));
  return init::uniform_(t, -a, a, gen);
}

Tensor& xavier_normal_(Tensor& t, double gain, Generator* gen) {
  auto [fi, fo] = fan_in_and_out(t);
  return init::normal_(t, 0, gain * std::sqrt(2.0 / static_cast<double>(fi + fo)), gen);
}

namespace {
double kaiming_std(const Tensor& t, const KaimingOptions& o) {
  auto [fi, fo] = fan_in_and_out(t);
  int64_t fan = o.mode == FanMode::FanIn ? fi : fo;
  KOAN_CHECK(fan > 0, ValueError, "kaiming init: fan is 0 for shape ", t.shape());
  return calculate_gain(o.nonlinearity, o.a) / std::sqrt(static_cast<double>(fan));
}
}  // namespace

Tensor& kaiming_uniform_(Tensor& t, KaimingOptions o, Generator* gen) {
  double bound = std::sqrt(3.0) * kaiming_std(t, o);
  return init::uniform_(t, -bound, bound, gen);
}

Tensor& kaiming_normal_(Tensor& t, KaimingOptions o, Generator* gen) {
  return init::normal_(t, 0, kaiming_std(t, o), gen);
}

Tensor& orthogonal_(Tensor& t, double gain, Generator* gen) {
  KOAN_CHECK(t.dim() >= 2, ShapeError, "orthogonal_: needs at least 2 dims, got shape ", t.shape());
  int64_t rows = t.size(0), cols = t.numel() / rows;
  // QR (Householder) of a normal (max x min) matrix; Q's columns are orthonormal.  Like PyTorch,
  // the sign of each column follows the diagonal of R so the result is uniformly distributed.
  bool transpose = rows < cols;
  int64_t m = transpose ? cols : rows, n = transpose ? rows : cols;
  Tensor g = randn({m, n}, {.dtype = DType::Float64}, gen);
  std::vector<double> a = g.to_vector<double>();  // m x n, row-major
  std::vector<double> q(m * n, 0.0);
  std::vector<std::vector<double>> vs;
  std::vector<double> rdiag(n);
  for (int64_t k = 0; k < n; ++k) {
    double norm = 0;
    for (int64_t i = k; i < m; ++i) norm += a[i * n + k] * a[i * n + k];
    norm = std::sqrt(norm);
    double alpha = a[k * n + k] > 0 ? -norm : norm;
    std::vector<double> v(m, 0.0);
    for (int64_t i = k; i < m; ++i) v[i] = a[i * n + k];
    v[k] -= alpha;
    double vn = 0;
    for (int64_t i = k; i < m; ++i) vn += v[i] * v[i];
    if (vn > 0)
      for (int64_t j = k; j < n; ++j) {
        double dot = 0;
        for (int64_t i = k; i < m; ++i) dot += v[i] * a[i * n + j];
        for (int64_t i = k; i < m; ++i) a[i * n + j] -= 2 * dot / vn * v[i];
      }
    rdiag[k] = a[k * n + k];
    vs.push_back(std::move(v));
  }
  // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity.
  for (int64_t j = 0; j < n; ++j) {
    std::vector<double> e(m, 0.0);
    e[j] = 1;
    for (int64_t k = n - 1; k >= 0; --k) {
      const auto& v = vs[k];
      double vn = 0, dot = 0;
      for (int64_t i = k; i < m; ++i) {
        vn += v[i] * v[i];
        dot += v[i] * e[i];
      }
      if (vn > 0)
        for (int64_t i = k; i < m; ++i) e[i] -= 2 * dot / vn * v[i];
    }
    double s = rdiag[j] < 0 ? -1 : 1;
    for (int64_t i = 0; i < m; ++i) q[i * n + j] = e[i] * s * gain;
  }
  Tensor qt = from_vector(q, Shape{m, n});
  if (transpose) qt = qt.t();
  NoGradGuard ng;
  copy_(t, qt.reshape(t.shape()));
  return t;
}

}  // namespace koan::nn::init
