// A number of any dtype, as passed to fill, full, clamp or add(tensor, 2.5).
#pragma once
#include <cstdint>
#include <type_traits>

#include "koan/core/dtype.h"

namespace koan {

class Scalar {
 public:
  Scalar() = default;
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  Scalar(T v) {  // NOLINT: implicit by design, like at::Scalar
    if constexpr (std::is_same_v<T, bool>) {
      kind_ = DType::Bool;
      i_ = v;
      d_ = v;
    } else if constexpr (std::is_integral_v<T>) {
      kind_ = DType::Int64;
      i_ = static_cast<int64_t>(v);
      d_ = static_cast<double>(v);
    } else {
      kind_ = DType::Float64;
      d_ = static_cast<double>(v);
      i_ = static_cast<int64_t>(v);
    }
  }
  template <class T>
  T to() const {
    if constexpr (std::is_floating_point_v<T>) return static_cast<T>(d_);
    else if constexpr (std::is_same_v<T, bool>) return kind_ == DType::Float64 ? d_ != 0 : i_ != 0;
    else return kind_ == DType::Float64 ? static_cast<T>(d_) : static_cast<T>(i_);
  }
  double to_double() const { return d_; }
  // Bool, Int64 or Float64: the category the value belongs to, for type promotion.
  DType kind() const { return kind_; }
  bool is_floating() const { return kind_ == DType::Float64; }

 private:
  DType kind_ = DType::Int64;
  int64_t i_ = 0;
  double d_ = 0;
};

}  // namespace koan
