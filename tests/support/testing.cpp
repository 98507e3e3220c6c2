#include "support/testing.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <set>

#ifndef KOAN_SOURCE_DIR
#error "KOAN_SOURCE_DIR must point at the checkout"
#endif
#ifndef KOAN_FIXTURE_DIR
#error "KOAN_FIXTURE_DIR must point at tests/fixtures"
#endif

namespace koan::testing {

::testing::AssertionResult close(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << str(actual.shape()) << " != expected "
                                         << str(expected.shape());
  auto a = actual.to_vector<double>(), e = expected.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(e[i])) continue;
    if (a[i] == e[i]) continue;
    double tol = atol + rtol * std::fabs(e[i]);
    if (!(std::fabs(a[i] - e[i]) <= tol))
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs expected "
                                           << e[i] << " (tolerance " << tol << ")";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult gradcheck(const Fn& fn, const std::vector<Tensor>& inputs_in,
                                     GradcheckOptions opts) {
  std::vector<Tensor> inputs;
  std::vector<size_t> diff;
  for (size_t i = 0; i < inputs_in.size(); ++i) {
    Tensor t = inputs_in[i].detach().clone();
    if (is_floating(t.dtype())) {
      if (t.dtype() != DType::Float64)
        return ::testing::AssertionFailure() << "gradcheck: input " << i << " must be float64";
      t.requires_grad_();
      diff.push_back(i);
    }
    inputs.push_back(t);
  }
  Tensor out = fn(inputs);
  Generator g(1234);
  Tensor w = randn(out.shape(), {.dtype = DType::Float64}, &g);
  Tensor loss = sum(mul(out, w));
  std::vector<Tensor> wrt;
  for (size_t i : diff) wrt.push_back(inputs[i]);
  auto analytic = autograd::grad({loss}, wrt, {}, false, false, /*allow_unused=*/true);
  for (size_t k = 0; k < diff.size(); ++k) {
    Tensor x = inputs[diff[k]];
    Tensor an = analytic[k].defined() ? analytic[k] : zeros_like(x);
    double* p = x.data_ptr<double>();  // fresh contiguous clone
    auto av = an.to_vector<double>();
    for (int64_t j = 0; j < x.numel(); ++j) {
      double orig = p[j];
      NoGradGuard ng;
      p[j] = orig + opts.eps;
      double fp = sum(mul(fn(inputs), w)).item<double>();
      p[j] = orig - opts.eps;
      double fm = sum(mul(fn(inputs), w)).item<double>();
      p[j] = orig;
      double num = (fp - fm) / (2 * opts.eps);
      if (!(std::fabs(num - av[j]) <= opts.atol + opts.rtol * std::fabs(num)))
        return ::testing::AssertionFailure() << "gradcheck: input " << diff[k] << " element " << j
                                             << ": autograd " << av[j] << " vs numerical " << num;
    }
  }
  return ::testing::AssertionSuccess();
}

Fixture::Fixture(const std::string& family)
    : path_(std::string(KOAN_FIXTURE_DIR) + "/" + family + ".safetensors") {
  tensors_ = io::load_safetensors(path_).tensors;
}

bool Fixture::has(const std::string& key) const { return tensors_.count(key) > 0; }

Tensor Fixture::get(const std::string& key) const {
  auto it = tensors_.find(key);
  KOAN_CHECK(it != tensors_.end(), ValueError, "fixture ", path_, " has no tensor \"", key, "\"");
  return it->second;
}

std::vector<std::string> Fixture::cases(const std::string& op) const {
  std::set<std::string> r;
  std::string prefix = op + "/";
  for (auto& [k, v] : tensors_)
    if (k.rfind(prefix, 0) == 0) r.insert(k.substr(0, k.find('/', prefix.size())));
  return {r.begin(), r.end()};
}

Tensor non_contiguous(const Tensor& t) {
  if (t.dim() >= 2 && t.size(-1) > 1 && t.size(-2) > 1) {
    // Store transposed, view back: same values, swapped strides.
    return t.transpose(-1, -2).contiguous().transpose(-1, -2);
  }
  if (t.dim() >= 1 && t.numel() > 0) {
    // Interleave with junk and take every second element.
    Shape s = t.shape();
    s.back() *= 2;
    Tensor big = full(s, 7, {.dtype = t.dtype()});
    Tensor view = big.slice(-1, 0, s.back(), 2);
    view.copy_(t);
    return view;
  }
  return t;
}

std::string fashion_mnist_root() {
  const std::string checkout = std::string(KOAN_SOURCE_DIR) + "/data/fashion-mnist";
  const std::string debian = "/usr/share/datasets/fashion-mnist";
  return std::filesystem::exists(checkout + "/t10k-images-idx3-ubyte.gz") ? checkout : debian;
}

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / (name + "." + std::to_string(::getpid()));
}

}  // namespace koan::testing
