#include "koan/tensor/creation.h"

#include <cmath>
#include <cstring>
#include <numbers>

#include "koan/core/parallel.h"

namespace koan {
namespace {

// Writes f(k) to the k-th element (row-major) of t, for any strides.
template <class T, class F>
void fill_with(Tensor& t, F&& f) {
  T* base = static_cast<T*>(t.storage()->data());
  if (t.is_contiguous()) {
    T* p = base + t.offset();
    parallel_for(0, t.numel(), kParallelGrain, [&](int64_t b, int64_t e) {
      auto g = f;  // this thread's copy: kernels/cpu/loops.h's map_run says why
      for (int64_t k = b; k < e; ++k) p[k] = g(k);
    });
  } else {
    int64_t k = 0;
    for_each_offset(t.layout(), [&](int64_t off) { base[off] = f(k++); });
  }
  t.bump_version();
}

template <class T>
T cast_scalar(Scalar v) { return v.to<T>(); }

}  // namespace

Tensor full(const Shape& shape, Scalar value, TensorOptions opts) {
  Tensor t = empty(shape, {.dtype = opts.dtype});
  visit_dtype(opts.dtype, [&]<class T>() {
    T v = value.to<T>();
    fill_with<T>(t, [v](int64_t) { return v; });
  });
  if (opts.requires_grad) t.requires_grad_();
  return t;
}

Tensor zeros(const Shape& shape, TensorOptions opts) { return full(shape, 0, opts); }
Tensor ones(const Shape& shape, TensorOptions opts) { return full(shape, 1, opts); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), {.dtype = t.dtype()}); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), {.dtype = t.dtype()}); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), {.dtype = t.dtype()}); }
Tensor full_like(const Tensor& t, Scalar v) { return full(t.shape(), v, {.dtype = t.dtype()}); }
Tensor scalar_tensor(Scalar value, DType dtype) { return full({}, value, {.dtype = dtype}); }

Tensor arange(Scalar end, std::optional<DType> dtype) { return arange(0, end, 1, dtype); }

Tensor arange(Scalar start, Scalar end, Scalar step, std::optional<DType> dtype) {
  bool fp = start.is_floating() || end.is_floating() || step.is_floating();
  DType dt = dtype.value_or(fp ? kDefaultFloat : DType::Int64);
  double s = start.to_double(), e = end.to_double(), st = step.to_double();
  KOAN_CHECK(st != 0, ValueError, "arange: step must be nonzero");
  KOAN_CHECK((e - s) / st >= 0, ValueError, "arange: upper bound ", e, " and lower bound ", s,
             " inconsistent with step sign ", st);
  auto n = static_cast<int64_t>(std::ceil((e - s) / st));
  Tensor t = empty({n}, {.dtype = dt});
  visit_dtype(dt, [&]<class T>() {
    if constexpr (std::is_floating_point_v<T>) {
      fill_with<T>(t, [&](int64_t k) { return static_cast<T>(s + st * static_cast<double>(k)); });
    } else {
      int64_t si = start.to<int64_t>(), sti = step.to<int64_t>();
      if (!fp) fill_with<T>(t, [&](int64_t k) { return static_cast<T>(si + sti * k); });
      else fill_with<T>(t, [&](int64_t k) { return static_cast<T>(s + st * static_cast<double>(k)); });
    }
  });
  return t;
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions opts) {
  KOAN_CHECK(steps >= 0, ValueError, "linspace: number of steps must be non-negative, got ", steps);
  Tensor t = empty({steps}, {.dtype = opts.dtype});
  double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0;
  visit_dtype(opts.dtype, [&]<class T>() {
    // Symmetric formula (as PyTorch): the second half counts back from `end`, so both ends are exact.
    fill_with<T>(t, [&](int64_t k) {
      double v = k < steps / 2 ? start + step * static_cast<double>(k)
                               : end - step * static_cast<double>(steps - 1 - k);
      return static_cast<T>(v);
    });
  });
  if (opts.requires_grad) t.requires_grad_();
  return t;
}

Tensor eye(int64_t n, std::optional<int64_t> m, TensorOptions opts) {
  int64_t cols = m.value_or(n);
  KOAN_CHECK(n >= 0 && cols >= 0, ValueError, "eye: sizes must be non-negative, got ", n, " x ", cols);
  Tensor t = empty({n, cols}, {.dtype = opts.dtype});
  visit_dtype(opts.dtype, [&]<class T>() {
    fill_with<T>(t, [&](int64_t k) { return static_cast<T>(k / cols == k % cols ? 1 : 0); });
  });
  if (opts.requires_grad) t.requires_grad_();
  return t;
}

template <class T>
Tensor from_vector(const std::vector<T>& data, std::optional<Shape> shape) {
  Shape s = shape.value_or(Shape{static_cast<int64_t>(data.size())});
  KOAN_CHECK(numel(s) == static_cast<int64_t>(data.size()), ShapeError, "from_vector: shape ", s,
             " holds ", numel(s), " elements but ", data.size(), " values were given");
  Tensor t = empty(s, {.dtype = dtype_v<T>});
  T* p = t.data_ptr<T>();
  for (size_t i = 0; i < data.size(); ++i) p[i] = data[i];
  return t;
}
template Tensor from_vector<float>(const std::vector<float>&, std::optional<Shape>);
template Tensor from_vector<double>(const std::vector<double>&, std::optional<Shape>);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, std::optional<Shape>);
template Tensor from_vector<int32_t>(const std::vector<int32_t>&, std::optional<Shape>);
template Tensor from_vector<uint8_t>(const std::vector<uint8_t>&, std::optional<Shape>);
template Tensor from_vector<bool>(const std::vector<bool>&, std::optional<Shape>);

namespace {
template <class T>
Tensor literal(const std::vector<double>& vals, Shape shape, DType dt, bool requires_grad) {
  Tensor t = empty(shape, {.dtype = dt});
  visit_dtype(dt, [&]<class S>() {
    S* p = t.data_ptr<S>();
    for (size_t i = 0; i < vals.size(); ++i) p[i] = static_cast<S>(vals[i]);
  });
  if (requires_grad) t.requires_grad_();
  return t;
}
template <class T>
Tensor literal2(std::initializer_list<std::initializer_list<T>> values, TensorOptions opts) {
  std::vector<double> vals;
  int64_t cols = values.size() ? static_cast<int64_t>(values.begin()->size()) : 0;
  for (auto& row : values) {
    KOAN_CHECK(static_cast<int64_t>(row.size()) == cols, ShapeError,
               "tensor: rows of a nested list must have equal length, got ", row.size(), " and ", cols);
    for (T v : row) vals.push_back(static_cast<double>(v));
  }
  return literal<T>(vals, {static_cast<int64_t>(values.size()), cols}, opts.dtype, opts.requires_grad);
}
}  // namespace

Tensor tensor(std::initializer_list<double> values, TensorOptions opts) {
  return literal<double>(std::vector<double>(values), {static_cast<int64_t>(values.size())},
                         opts.dtype, opts.requires_grad);
}
Tensor tensor(std::initializer_list<float> values, TensorOptions opts) {
  std::vector<double> v(values.begin(), values.end());
  return literal<float>(v, {static_cast<int64_t>(v.size())}, opts.dtype, opts.requires_grad);
}
Tensor tensor(std::initializer_list<std::initializer_list<double>> values, TensorOptions opts) {
  return literal2<double>(values, opts);
}
Tensor tensor(std::initializer_list<std::initializer_list<float>> values, TensorOptions opts) {
  return literal2<float>(values, opts);
}
Tensor tensor(std::initializer_list<int64_t> values, std::optional<DType> dtype) {
  std::vector<double> v(values.begin(), values.end());
  return literal<int64_t>(v, {static_cast<int64_t>(v.size())}, dtype.value_or(DType::Int64), false);
}
Tensor tensor(std::initializer_list<int> values, std::optional<DType> dtype) {
  std::vector<double> v(values.begin(), values.end());
  return literal<int64_t>(v, {static_cast<int64_t>(v.size())}, dtype.value_or(DType::Int64), false);
}
Tensor tensor(std::initializer_list<bool> values) {
  std::vector<double> v(values.begin(), values.end());
  return literal<bool>(v, {static_cast<int64_t>(v.size())}, DType::Bool, false);
}

Tensor from_blob(void* data, const Shape& shape, DType dtype, std::function<void(void*)> deleter) {
  KOAN_CHECK(data != nullptr || numel(shape) == 0, ValueError, "from_blob: null data pointer");
  size_t nbytes = numel(shape) * element_size(dtype);
  auto storage = std::make_shared<StorageImpl>(data, nbytes, std::move(deleter));
  return Tensor(storage, Layout::contiguous(shape), dtype);
}

Tensor copy_from(const void* data, const Shape& shape, DType dtype) {
  Tensor t = empty(shape, {.dtype = dtype});
  if (t.numel()) std::memcpy(t.raw_data(), data, t.numel() * element_size(dtype));
  return t;
}

// ---- random
namespace {
Generator& gen_or_default(Generator* g) { return g ? *g : default_generator(); }

template <class T>
T uniform_value(uint64_t bits, double low, double high) {
  if constexpr (std::is_same_v<T, float>)
    return static_cast<float>(low) + static_cast<float>(high - low) * bits_to_float(bits);
  else
    return static_cast<T>(low + (high - low) * bits_to_double(bits));
}

template <class T>
T normal_value(const Generator& g, uint64_t base, int64_t k, double mean, double std) {
  // Box-Muller from two independent uniforms per element (the sine half is not used, so each
  // element depends on its own counters only).
  double u1 = bits_to_double(g.bits(base + 2 * k)), u2 = bits_to_double(g.bits(base + 2 * k + 1));
  double r = std::sqrt(-2.0 * std::log1p(-u1));  // 1-u1 in (0, 1]: log is finite
  return static_cast<T>(mean + std * r * std::cos(2 * std::numbers::pi * u2));
}
}  // namespace

Tensor& uniform_(Tensor& t, double low, double high, Generator* gen) {
  Generator& g = gen_or_default(gen);
  uint64_t base = g.reserve(t.numel());
  visit_floating(t.dtype(), "uniform_", [&]<class T>() {
    fill_with<T>(t, [&](int64_t k) { return uniform_value<T>(g.bits(base + k), low, high); });
  });
  return t;
}

Tensor& normal_(Tensor& t, double mean, double std, Generator* gen) {
  KOAN_CHECK(std >= 0, ValueError, "normal_: std must be non-negative, got ", std);
  Generator& g = gen_or_default(gen);
  uint64_t base = g.reserve(2 * t.numel());
  visit_floating(t.dtype(), "normal_", [&]<class T>() {
    fill_with<T>(t, [&](int64_t k) { return normal_value<T>(g, base, k, mean, std); });
  });
  return t;
}

Tensor rand(const Shape& shape, TensorOptions opts, Generator* gen) {
  Tensor t = empty(shape, {.dtype = opts.dtype});
  uniform_(t, 0, 1, gen);
  if (opts.requires_grad) t.requires_grad_();
  return t;
}

Tensor randn(const Shape& shape, TensorOptions opts, Generator* gen) {
  Tensor t = empty(shape, {.dtype = opts.dtype});
  normal_(t, 0, 1, gen);
  if (opts.requires_grad) t.requires_grad_();
  return t;
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Generator* gen) {
  KOAN_CHECK(high > low, ValueError, "randint: empty range [", low, ", ", high, ")");
  Generator& g = gen_or_default(gen);
  Tensor t = empty(shape, {.dtype = dtype});
  uint64_t base = g.reserve(t.numel());
  auto range = static_cast<unsigned __int128>(high - low);
  visit_dtype(dtype, [&]<class T>() {
    fill_with<T>(t, [&](int64_t k) {
      // Multiply-shift maps 64 random bits onto the range without modulo bias worth noting.
      auto r = static_cast<int64_t>((static_cast<unsigned __int128>(g.bits(base + k)) * range) >> 64);
      return static_cast<T>(low + r);
    });
  });
  return t;
}

Tensor randperm(int64_t n, Generator* gen) {
  KOAN_CHECK(n >= 0, ValueError, "randperm: n must be non-negative, got ", n);
  Generator& g = gen_or_default(gen);
  Tensor t = arange(n);
  int64_t* p = t.data_ptr<int64_t>();
  uint64_t base = g.reserve(n);
  for (int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates
    auto j = static_cast<int64_t>((static_cast<unsigned __int128>(g.bits(base + i)) * (i + 1)) >> 64);
    std::swap(p[i], p[j]);
  }
  return t;
}

Tensor bernoulli(const Tensor& p, Generator* gen) {
  Generator& g = gen_or_default(gen);
  Tensor out = empty(p.shape(), {.dtype = p.dtype()});
  uint64_t base = g.reserve(p.numel());
  std::vector<double> probs = p.to_vector<double>();
  for (double q : probs)
    KOAN_CHECK(q >= 0 && q <= 1, ValueError, "bernoulli: probabilities must be in [0, 1], got ", q);
  visit_dtype(p.dtype(), [&]<class T>() {
    fill_with<T>(out, [&](int64_t k) {
      return static_cast<T>(bits_to_double(g.bits(base + k)) < probs[k] ? 1 : 0);
    });
  });
  return out;
}

Tensor bernoulli(const Shape& shape, double prob, TensorOptions opts, Generator* gen) {
  KOAN_CHECK(prob >= 0 && prob <= 1, ValueError, "bernoulli: p must be in [0, 1], got ", prob);
  Generator& g = gen_or_default(gen);
  Tensor out = empty(shape, {.dtype = opts.dtype});
  uint64_t base = g.reserve(out.numel());
  visit_dtype(opts.dtype, [&]<class T>() {
    fill_with<T>(out, [&](int64_t k) {
      return static_cast<T>(bits_to_double(g.bits(base + k)) < prob ? 1 : 0);
    });
  });
  return out;
}

}  // namespace koan
