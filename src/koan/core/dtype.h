// Element types and PyTorch's type-promotion rules.
//
//   DType t = promote_types(DType::Int64, DType::Float32);   // Float32
//   visit_dtype(t, [&]<class T>() { ... T is float ... });
#pragma once
#include <cstdint>
#include <ostream>
#include <string_view>

#include "koan/core/error.h"

namespace koan {

// The order matters only for printing; promotion uses an explicit lattice.
// Room is left for BFloat16 and Int8 (quantisation) without renumbering.
enum class DType : uint8_t { Bool, UInt8, Int32, Int64, Float32, Float64 };

constexpr int kNumDTypes = 6;

size_t element_size(DType t);
std::string_view name(DType t);          // "float32", as PyTorch prints it
bool is_floating(DType t);
bool is_integral(DType t, bool include_bool = false);
// torch.promote_types: bool < integers < floating; within a category the wider wins.
DType promote_types(DType a, DType b);
// Default dtype for floating creation functions (torch.get_default_dtype).
inline constexpr DType kDefaultFloat = DType::Float32;

std::ostream& operator<<(std::ostream& os, DType t);

template <class T>
struct dtype_of;
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::UInt8; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <class T>
inline constexpr DType dtype_v = dtype_of<T>::value;

// Calls f.template operator()<T>() with T the C++ type of `t`.
template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::Bool: return f.template operator()<bool>();
    case DType::UInt8: return f.template operator()<uint8_t>();
    case DType::Int32: return f.template operator()<int32_t>();
    case DType::Int64: return f.template operator()<int64_t>();
    case DType::Float32: return f.template operator()<float>();
    case DType::Float64: return f.template operator()<double>();
  }
  throw InternalError("visit_dtype: bad dtype");
}

// Same, for ops defined on floating types only; `op` names the caller in the error.
template <class F>
decltype(auto) visit_floating(DType t, std::string_view op, F&& f) {
  switch (t) {
    case DType::Float32: return f.template operator()<float>();
    case DType::Float64: return f.template operator()<double>();
    default: break;
  }
  throw DTypeError(str(op, ": expected a floating dtype (float32 or float64), got ", name(t)));
}

// Same, for arithmetic that is defined on numbers but not on bool.
template <class F>
decltype(auto) visit_numeric(DType t, std::string_view op, F&& f) {
  if (t == DType::Bool) throw DTypeError(str(op, ": not defined for bool tensors"));
  return visit_dtype(t, std::forward<F>(f));
}

}  // namespace koan
