// Creating tensors: constants, ranges, from C++ data, and random values.
//
//   Tensor a = koan::zeros({2, 3});
//   Tensor b = koan::arange(0, 10, 2);                       // int64: 0 2 4 6 8
//   Tensor c = koan::tensor({{1.f, 2.f}, {3.f, 4.f}});
//   Tensor d = koan::randn({64, 10}, {.dtype = DType::Float64});
//   Tensor e = koan::from_blob(ptr, {3, 4}, DType::Float32);   // borrows ptr, no copy
#pragma once
#include <optional>

#include "koan/tensor/random.h"
#include "koan/tensor/tensor.h"

namespace koan {

Tensor zeros(const Shape& shape, TensorOptions opts = {});
Tensor ones(const Shape& shape, TensorOptions opts = {});
Tensor full(const Shape& shape, Scalar value, TensorOptions opts = {});
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, Scalar value);
// A 0-d tensor holding `value`.
Tensor scalar_tensor(Scalar value, DType dtype);

// Integers give int64, any floating argument gives the default float dtype (as torch.arange).
Tensor arange(Scalar end, std::optional<DType> dtype = std::nullopt);
Tensor arange(Scalar start, Scalar end, Scalar step = 1, std::optional<DType> dtype = std::nullopt);
Tensor linspace(double start, double end, int64_t steps, TensorOptions opts = {});
Tensor eye(int64_t n, std::optional<int64_t> m = std::nullopt, TensorOptions opts = {});

// Copies `data` into a new tensor of `shape` (default: 1-D) and dtype T.
template <class T>
Tensor from_vector(const std::vector<T>& data, std::optional<Shape> shape = std::nullopt);
// Literal tensors.  Doubles become the default float dtype, as in torch.tensor([1.5]).
Tensor tensor(std::initializer_list<double> values, TensorOptions opts = {});
Tensor tensor(std::initializer_list<std::initializer_list<double>> values, TensorOptions opts = {});
Tensor tensor(std::initializer_list<float> values, TensorOptions opts = {});
Tensor tensor(std::initializer_list<std::initializer_list<float>> values, TensorOptions opts = {});
Tensor tensor(std::initializer_list<int64_t> values, std::optional<DType> dtype = std::nullopt);
Tensor tensor(std::initializer_list<int> values, std::optional<DType> dtype = std::nullopt);
Tensor tensor(std::initializer_list<bool> values);

// Wraps external memory.  Borrowed: the caller keeps it alive (an optional deleter runs when the
// tensor's storage goes).  Use from_blob(...).clone() or copy_from to own a copy.
Tensor from_blob(void* data, const Shape& shape, DType dtype, std::function<void(void*)> deleter = {});
Tensor copy_from(const void* data, const Shape& shape, DType dtype);

// ---- random (counter-based: the same seed gives the same numbers at any thread count)
Tensor rand(const Shape& shape, TensorOptions opts = {}, Generator* gen = nullptr);
Tensor randn(const Shape& shape, TensorOptions opts = {}, Generator* gen = nullptr);
// Integers uniformly in [low, high), int64 by default.
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype = DType::Int64,
               Generator* gen = nullptr);
Tensor randperm(int64_t n, Generator* gen = nullptr);
// Each element 1 with probability p (tensor of probabilities, or one p for all).
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);
Tensor bernoulli(const Shape& shape, double p, TensorOptions opts = {}, Generator* gen = nullptr);
// In place, bumping the version counter.  Not recorded by autograd (like torch.nn.init).
Tensor& uniform_(Tensor& t, double low = 0, double high = 1, Generator* gen = nullptr);
Tensor& normal_(Tensor& t, double mean = 0, double std = 1, Generator* gen = nullptr);

}  // namespace koan
