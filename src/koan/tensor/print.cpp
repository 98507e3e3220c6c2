// PyTorch's print format: tensor([[ 1.0000, -2.5000], ...], dtype=koan.float64).
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>

#include "koan/tensor/tensor.h"

namespace koan {
namespace {

struct Formatter {
  bool floating = false, int_mode = false, sci = false;
  int width = 1;

  std::string fmt(double v) const {
    char buf[64];
    if (!floating) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
    else if (std::isnan(v)) std::snprintf(buf, sizeof buf, "nan");
    else if (std::isinf(v)) std::snprintf(buf, sizeof buf, v > 0 ? "inf" : "-inf");
    else if (sci) std::snprintf(buf, sizeof buf, "%.4e", v);
    else if (int_mode) std::snprintf(buf, sizeof buf, "%.0f.", v);
    else std::snprintf(buf, sizeof buf, "%.4f", v);
    return buf;
  }
};

// Row-major indices of the elements that are shown (all, or the edges when summarising).
std::vector<int64_t> shown(int64_t n, bool summarise, int64_t edge) {
  std::vector<int64_t> r;
  if (!summarise || n <= 2 * edge) {
    for (int64_t i = 0; i < n; ++i) r.push_back(i);
  } else {
    for (int64_t i = 0; i < edge; ++i) r.push_back(i);
    r.push_back(-1);  // the "..." marker
    for (int64_t i = n - edge; i < n; ++i) r.push_back(i);
  }
  return r;
}

void emit(std::ostream& os, const Tensor& t, const std::vector<double>& vals, const Formatter& f,
          int64_t dim, int64_t off, bool summarise, int64_t edge, int indent) {
  const Shape& s = t.shape();
  if (t.dim() == 0) {
    os << f.fmt(vals[0]);
    return;
  }
  Strides cs = contiguous_strides(s);
  os << '[';
  auto idx = shown(s[dim], summarise, edge);
  for (size_t k = 0; k < idx.size(); ++k) {
    if (k) {
      os << ',';
      if (dim == t.dim() - 1) os << ' ';
      else {
        os << std::string(t.dim() - 1 - dim, '\n') << std::string(indent + dim + 1, ' ');
      }
    }
    if (idx[k] < 0) {
      os << "...";
      continue;
    }
    int64_t o = off + idx[k] * cs[dim];
    if (dim == t.dim() - 1) {
      std::string v = f.fmt(vals[o]);
      os << std::string(std::max<int>(0, f.width - static_cast<int>(v.size())), ' ') << v;
    } else {
      emit(os, t, vals, f, dim + 1, o, summarise, edge, indent);
    }
  }
  os << ']';
}

}  // namespace

std::string to_string(const Tensor& t, int64_t threshold, int64_t edgeitems) {
  if (!t.defined()) return "tensor(undefined)";
  std::vector<double> vals = t.to_vector<double>();
  bool summarise = t.numel() > threshold;
  Formatter f;
  f.floating = is_floating(t.dtype());
  // Pick the format from the shown values, as PyTorch does.
  double amax = 0, amin = INFINITY;
  bool all_int = true, any_finite = false;
  for (double v : vals) {
    if (!std::isfinite(v)) continue;
    any_finite = true;
    double a = std::fabs(v);
    amax = std::max(amax, a);
    if (a != 0) amin = std::min(amin, a);
    if (v != std::round(v)) all_int = false;
  }
  if (f.floating && any_finite) {
    if (all_int) f.int_mode = amax < 1e8;
    if (!f.int_mode) f.sci = amax >= 1e8 || (amin != INFINITY && (amax / amin > 1000 || amin < 1e-4));
    if (all_int && !f.int_mode) f.sci = true;
  } else if (f.floating) {
    f.int_mode = true;
  }
  for (double v : vals) f.width = std::max<int>(f.width, static_cast<int>(f.fmt(v).size()));

  std::ostringstream os;
  os << "tensor(";
  if (t.numel() == 0 && t.dim() > 0) os << "[]";
  else emit(os, t, vals, f, 0, 0, summarise, edgeitems, 7);
  bool default_dtype = t.dtype() == kDefaultFloat || t.dtype() == DType::Int64 || t.dtype() == DType::Bool;
  if (t.numel() == 0 && t.dim() > 0 && t.shape() != Shape{0}) os << ", size=" << detail::cat(t.shape());
  if (!default_dtype) os << ", dtype=koan." << name(t.dtype());
  if (t.grad_fn()) os << ", grad_fn=<" << autograd::node_name(*t.grad_fn()) << ">";
  else if (t.requires_grad()) os << ", requires_grad=True";
  os << ')';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << to_string(t); }

}  // namespace koan
