#include <atomic>
#include <cmath>
#include "koan/kernels/cpu/vecmath.h"
#include <cstring>
#include <numbers>

#include "koan/kernels/cpu/loops.h"
#include "koan/kernels/elementwise.h"

namespace koan::kernels {
namespace {

template <class T>
T gelu(T x, bool tanh_approx) {
  if (tanh_approx) {
    const T k = static_cast<T>(std::sqrt(2.0 / std::numbers::pi));
    return T(0.5) * x * (T(1) + std::tanh(k * (x + T(0.044715) * x * x * x)));
  }
  return T(0.5) * x * (T(1) + std::erf(x * static_cast<T>(1 / std::numbers::sqrt2)));
}

// d gelu / dx, as torch's GeluBackward: Phi(x) + x phi(x) (exact), or the tanh form's derivative.
template <class T>
T gelu_grad(T x, bool tanh_approx) {
  if (tanh_approx) {
    const T k = static_cast<T>(std::sqrt(2.0 / std::numbers::pi)), c = T(0.044715);
    const T t = std::tanh(k * (x + c * x * x * x));
    return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * k * (T(1) + T(3) * c * x * x);
  }
  const T cdf = T(0.5) * (T(1) + std::erf(x * static_cast<T>(1 / std::numbers::sqrt2)));
  const T pdf = std::exp(T(-0.5) * x * x) * static_cast<T>(0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
  return cdf + x * pdf;
}

template <class T>
T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

template <class T>
void unary_float(UnaryOp op, const Tensor& in, const Tensor& out, T a, T b) {
  auto m = [&](auto f) { map_kernel<T, T>(out, f, in); };
  switch (op) {
    case UnaryOp::Exp: return m([](T x) { return std::exp(x); });
    case UnaryOp::Log: return m([](T x) { return std::log(x); });
    case UnaryOp::Log1p: return m([](T x) { return std::log1p(x); });
    case UnaryOp::Expm1: return m([](T x) { return std::expm1(x); });
    case UnaryOp::Sqrt: return m([](T x) { return std::sqrt(x); });
    case UnaryOp::Rsqrt: return m([](T x) { return T(1) / std::sqrt(x); });
    case UnaryOp::Sin: return m([](T x) { return std::sin(x); });
    case UnaryOp::Cos: return m([](T x) { return std::cos(x); });
    case UnaryOp::Tanh: return m([](T x) { return std::tanh(x); });
    case UnaryOp::Sigmoid: return m([](T x) { return sigmoid(x); });
    case UnaryOp::Elu: return m([a](T x) { return x > 0 ? x : a * std::expm1(x); });
    case UnaryOp::Gelu: return m([a](T x) { return gelu(x, a != 0); });
    case UnaryOp::Silu: return m([](T x) { return x * sigmoid(x); });
    case UnaryOp::Softplus:
      // Above the threshold softplus is x to machine precision; below, log1p(exp) is exact.
      return m([a, b](T x) { return a * x > b ? x : std::log1p(std::exp(a * x)) / a; });
    case UnaryOp::Erf: return m([](T x) { return std::erf(x); });
    case UnaryOp::Floor: return m([](T x) { return std::floor(x); });
    case UnaryOp::Ceil: return m([](T x) { return std::ceil(x); });
    case UnaryOp::Round: return m([](T x) { return std::nearbyint(x); });  // half to even
    case UnaryOp::Reciprocal: return m([](T x) { return T(1) / x; });
    case UnaryOp::PowScalar: return m([a](T x) { return std::pow(x, a); });
    default: break;
  }
  throw InternalError("unary: op not handled for floating types");
}

template <class T>
void unary_any(UnaryOp op, const Tensor& in, const Tensor& out, double a, double b) {
  auto m = [&](auto f) { map_kernel<T, T>(out, f, in); };
  switch (op) {
    case UnaryOp::Neg: return m([](T x) { return static_cast<T>(-x); });
    case UnaryOp::Abs:
      return m([](T x) {
        if constexpr (std::is_unsigned_v<T>) return x;
        else return static_cast<T>(x < 0 ? -x : x);
      });
    case UnaryOp::Sign: return m([](T x) { return static_cast<T>((T(0) < x) - (x < T(0))); });
    case UnaryOp::Relu: return m([](T x) { return x > T(0) ? x : T(0); });
    case UnaryOp::Step: return m([](T x) { return static_cast<T>(x > T(0) ? 1 : 0); });
    case UnaryOp::Square: return m([](T x) { return static_cast<T>(x * x); });
    case UnaryOp::LeakyRelu: {
      T s = static_cast<T>(a);
      return m([s](T x) { return x > T(0) ? x : static_cast<T>(x * s); });
    }
    case UnaryOp::Clamp: {
      bool has_lo = !std::isnan(a), has_hi = !std::isnan(b);
      T lo = has_lo ? static_cast<T>(a) : T(0), hi = has_hi ? static_cast<T>(b) : T(0);
      return m([=](T x) {
        if constexpr (std::is_floating_point_v<T>)
          if (std::isnan(x)) return x;  // NaN propagates, as in PyTorch
        if (has_lo && x < lo) x = lo;
        if (has_hi && x > hi) x = hi;
        return x;
      });
    }
    case UnaryOp::LogicalNot:
      return map_kernel<bool, T>(out, [](T x) { return !static_cast<bool>(x); }, in);
    case UnaryOp::IsNan:
      return map_kernel<bool, T>(out, [](T x) {
        if constexpr (std::is_floating_point_v<T>) return std::isnan(x);
        else return false;
      }, in);
    case UnaryOp::Floor:
    case UnaryOp::Ceil:
    case UnaryOp::Round:
      if constexpr (!std::is_floating_point_v<T>) return m([](T x) { return x; });
      break;
    default: break;
  }
  if constexpr (std::is_floating_point_v<T>) {
    unary_float<T>(op, in, out, static_cast<T>(a), static_cast<T>(b));
  } else {
    throw DTypeError(str("unary op needs a floating dtype, got ", name(in.dtype())));
  }
}

template <class T>
void binary_typed(BinaryOp op, const Tensor& x, const Tensor& y, const Tensor& out, double alpha) {
  auto m = [&](auto f) { map_kernel<T, T, T>(out, f, x, y); };
  auto cmp = [&](auto f) { map_kernel<bool, T, T>(out, f, x, y); };
  switch (op) {
    case BinaryOp::Add:
      if (alpha == 1) return m([](T a, T b) { return static_cast<T>(a + b); });
      return m([s = static_cast<T>(alpha)](T a, T b) { return static_cast<T>(a + s * b); });
    case BinaryOp::Sub:
      if (alpha == 1) return m([](T a, T b) { return static_cast<T>(a - b); });
      return m([s = static_cast<T>(alpha)](T a, T b) { return static_cast<T>(a - s * b); });
    case BinaryOp::Mul: return m([](T a, T b) { return static_cast<T>(a * b); });
    case BinaryOp::Div:
      if constexpr (std::is_floating_point_v<T>) return m([](T a, T b) { return a / b; });
      throw InternalError("binary: integer div must be promoted to float by the caller");
    case BinaryOp::Pow:
      if constexpr (std::is_floating_point_v<T>) {
        return m([](T a, T b) { return std::pow(a, b); });
      } else {
        return m([](T a, T b) {
          // Integer power by squaring, wrapping on overflow as PyTorch does (unsigned arithmetic,
          // so overflow is defined).  Negative exponents give 0 except for |a| == 1.
          if constexpr (std::is_signed_v<T>)
            if (b < 0) return static_cast<T>(a == 1 ? 1 : (a == -1 ? ((b & 1) ? -1 : 1) : 0));
          using U = std::make_unsigned_t<std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, T>>;
          U r = 1, base = static_cast<U>(a);
          for (T e = b; e > 0; e >>= 1, base = static_cast<U>(base * base))
            if (e & 1) r = static_cast<U>(r * base);
          return static_cast<T>(r);
        });
      }
    case BinaryOp::Maximum:
      return m([](T a, T b) {
        if constexpr (std::is_floating_point_v<T>)
          if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
        return a > b ? a : b;
      });
    case BinaryOp::Minimum:
      return m([](T a, T b) {
        if constexpr (std::is_floating_point_v<T>)
          if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
        return a < b ? a : b;
      });
    case BinaryOp::Remainder:  // Python's modulo: the result takes the divisor's sign
      if constexpr (std::is_floating_point_v<T>) {
        return m([](T a, T b) {
          T r = std::fmod(a, b);
          return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
        });
      } else {
        // A zero divisor is flagged and reported after the loop, once, with the op's message
        // (a throw from a parallel chunk would reach the caller too, but skip the other chunks).
        std::atomic<bool> by_zero{false};
        m([&by_zero](T a, T b) {
          if (b == 0) {
            by_zero.store(true, std::memory_order_relaxed);
            return T(0);
          }
          if constexpr (std::is_signed_v<T>)
            if (b == -1) return T(0);  // also avoids INT_MIN % -1 overflow
          T r = static_cast<T>(a % b);
          if constexpr (std::is_signed_v<T>)
            if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
          return r;
        });
        KOAN_CHECK(!by_zero.load(), ValueError, "remainder: integer division by zero");
        return;
      }
    case BinaryOp::Atan2:
      if constexpr (std::is_floating_point_v<T>) return m([](T a, T b) { return std::atan2(a, b); });
      break;
    case BinaryOp::Eq: return cmp([](T a, T b) { return a == b; });
    case BinaryOp::Ne: return cmp([](T a, T b) { return a != b; });
    case BinaryOp::Lt: return cmp([](T a, T b) { return a < b; });
    case BinaryOp::Le: return cmp([](T a, T b) { return a <= b; });
    case BinaryOp::Gt: return cmp([](T a, T b) { return a > b; });
    case BinaryOp::Ge: return cmp([](T a, T b) { return a >= b; });
    case BinaryOp::LogicalAnd: return cmp([](T a, T b) { return static_cast<bool>(a) && static_cast<bool>(b); });
    case BinaryOp::LogicalOr: return cmp([](T a, T b) { return static_cast<bool>(a) || static_cast<bool>(b); });
    case BinaryOp::LogicalXor: return cmp([](T a, T b) { return static_cast<bool>(a) != static_cast<bool>(b); });
  }
  throw DTypeError(str("binary op not defined for dtype ", name(x.dtype())));
}

}  // namespace

void unary(UnaryOp op, const Tensor& in, const Tensor& out, double a, double b) {
  visit_dtype(in.dtype(), [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      if (op == UnaryOp::LogicalNot || op == UnaryOp::IsNan) return unary_any<bool>(op, in, out, a, b);
      throw DTypeError("unary op not defined for bool tensors");
    } else {
      unary_any<T>(op, in, out, a, b);
    }
  });
}

bool is_comparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::Eq: case BinaryOp::Ne: case BinaryOp::Lt: case BinaryOp::Le:
    case BinaryOp::Gt: case BinaryOp::Ge: case BinaryOp::LogicalAnd: case BinaryOp::LogicalOr:
    case BinaryOp::LogicalXor:
      return true;
    default: return false;
  }
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out, double alpha) {
  visit_dtype(a.dtype(), [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      if (is_comparison(op)) return binary_typed<bool>(op, a, b, out, alpha);
      // bool arithmetic: add = or, mul = and (as PyTorch)
      if (op == BinaryOp::Add || op == BinaryOp::Maximum)
        return binary_typed<bool>(BinaryOp::LogicalOr, a, b, out, alpha);
      if (op == BinaryOp::Mul || op == BinaryOp::Minimum)
        return binary_typed<bool>(BinaryOp::LogicalAnd, a, b, out, alpha);
      throw DTypeError("binary op not defined for bool tensors");
    } else {
      binary_typed<T>(op, a, b, out, alpha);
    }
  });
}

void relu_backward(const Tensor& g, const Tensor& x, const Tensor& out) {
  visit_floating(out.dtype(), "relu backward", [&]<class T>() {
    map_kernel<T, T, T>(out, [](T gv, T xv) { return xv > T(0) ? gv : T(0); }, g, x);
  });
}

void gelu_backward(const Tensor& g, const Tensor& x, const Tensor& out, bool tanh_approx) {
  visit_floating(out.dtype(), "gelu backward", [&]<class T>() {
    // One loop per form, with no branch inside, so GCC vectorises the erf / exp / tanh calls.
    if (tanh_approx) map_kernel<T, T, T>(out, [](T gv, T xv) { return gv * gelu_grad(xv, true); }, g, x);
    else map_kernel<T, T, T>(out, [](T gv, T xv) { return gv * gelu_grad(xv, false); }, g, x);
  });
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(out.dtype(), [&]<class T>() {
    map_kernel<T, bool, T, T>(out, [](bool c, T x, T y) { return c ? x : y; }, cond, a, b);
  });
}

void copy(const Tensor& src, const Tensor& dst) {
  if (dst.numel() == 0) return;
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous() &&
      src.shape() == dst.shape()) {
    std::memmove(dst.raw_data(), src.raw_data(), dst.numel() * dst.element_size());
    return;
  }
  visit_dtype(dst.dtype(), [&]<class D>() {
    visit_dtype(src.dtype(), [&]<class S>() {
      map_kernel<D, S>(dst, [](S x) { return static_cast<D>(x); }, src);
    });
  });
}

void fill(const Tensor& dst, Scalar value) {
  visit_dtype(dst.dtype(), [&]<class T>() {
    T v = value.to<T>();
    map_kernel<T>(dst, [v]() { return v; });
  });
}

}  // namespace koan::kernels
