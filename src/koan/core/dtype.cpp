#include "koan/core/dtype.h"

namespace koan {

size_t element_size(DType t) {
  switch (t) {
    case DType::Bool: return 1;
    case DType::UInt8: return 1;
    case DType::Int32: return 4;
    case DType::Int64: return 8;
    case DType::Float32: return 4;
    case DType::Float64: return 8;
  }
  return 0;
}

std::string_view name(DType t) {
  switch (t) {
    case DType::Bool: return "bool";
    case DType::UInt8: return "uint8";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "?";
}

bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }

bool is_integral(DType t, bool include_bool) {
  return t == DType::UInt8 || t == DType::Int32 || t == DType::Int64 ||
         (include_bool && t == DType::Bool);
}

namespace {
// Category: 0 bool, 1 integer, 2 floating.  Within a category, rank by width.
int category(DType t) { return t == DType::Bool ? 0 : is_floating(t) ? 2 : 1; }
int rank(DType t) { return static_cast<int>(t); }
}  // namespace

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  int ca = category(a), cb = category(b);
  if (ca != cb) return ca > cb ? a : b;
  return rank(a) > rank(b) ? a : b;
}

std::ostream& operator<<(std::ostream& os, DType t) { return os << "koan." << name(t); }

}  // namespace koan
