#include "koan/kernels/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "koan/kernels/cpu/loops.h"

namespace koan::kernels {
namespace {

template <class T>
using acc_t = std::conditional_t<std::is_floating_point_v<T>, double,
                                 std::conditional_t<std::is_same_v<T, bool>, int64_t, int64_t>>;

template <class A>
A magnitude(A v) {
  return v < A(0) ? -v : v;
}

// acc + the sum of a unit-stride run, in 16 interleaved partial sums (lane k takes the elements
// i = k mod 16) folded in a fixed order.  One accumulator makes every add wait for the previous
// one (a bias gradient, summing 1.4M floats, spent 2 ms there); independent lanes vectorise.
// The order depends only on the run, never on the thread count: a run is never split.
template <class T, class A, class F>
A sum_run(A acc, const T* p, int64_t n, F&& term) {
  constexpr int kLanes = 16;
  if (n < 4 * kLanes) {
    for (int64_t i = 0; i < n; ++i) acc += term(p[i]);
    return acc;
  }
  A lane[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) lane[k] += term(p[i + k]);
  for (int w = kLanes / 2; w >= 1; w /= 2)  // pairwise: lane k += lane k + w
    for (int k = 0; k < w; ++k) lane[k] += lane[k + w];
  A s = lane[0];
  for (; i < n; ++i) s += term(p[i]);
  return acc + s;
}

template <class T, class A>
struct Reducer {
  ReduceOp op;
  A init() const {
    switch (op) {
      case ReduceOp::Sum: case ReduceOp::Any: case ReduceOp::SumSq: case ReduceOp::SumAbs:
      case ReduceOp::MaxAbs: return A(0);
      case ReduceOp::Prod: case ReduceOp::All: return A(1);
      case ReduceOp::Max:
        if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<A>::infinity();
        else return static_cast<A>(std::numeric_limits<T>::lowest());
      case ReduceOp::Min: case ReduceOp::MinAbs:
        if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<A>::infinity();
        else return static_cast<A>(std::numeric_limits<T>::max());
    }
    return A(0);
  }
  // Combine a strided run of n elements into acc.
  A run(A acc, const T* p, int64_t st, int64_t n) const {
    switch (op) {
      case ReduceOp::Sum:
        if (st == 1) return sum_run(acc, p, n, [](T v) { return static_cast<A>(v); });
        for (int64_t i = 0; i < n; ++i) acc += static_cast<A>(p[i * st]);
        return acc;
      case ReduceOp::Prod:
        for (int64_t i = 0; i < n; ++i) acc *= static_cast<A>(p[i * st]);
        return acc;
      case ReduceOp::SumSq:
        if (st == 1) return sum_run(acc, p, n, [](T v) { return static_cast<A>(v) * static_cast<A>(v); });
        for (int64_t i = 0; i < n; ++i) acc += static_cast<A>(p[i * st]) * static_cast<A>(p[i * st]);
        return acc;
      case ReduceOp::SumAbs:
        for (int64_t i = 0; i < n; ++i) acc += magnitude(static_cast<A>(p[i * st]));
        return acc;
      case ReduceOp::MaxAbs:
        for (int64_t i = 0; i < n; ++i) {
          A v = magnitude(static_cast<A>(p[i * st]));
          if constexpr (std::is_floating_point_v<A>) if (std::isnan(v)) return v;
          acc = v > acc ? v : acc;
        }
        return acc;
      case ReduceOp::MinAbs:
        for (int64_t i = 0; i < n; ++i) {
          A v = magnitude(static_cast<A>(p[i * st]));
          if constexpr (std::is_floating_point_v<A>) if (std::isnan(v)) return v;
          acc = v < acc ? v : acc;
        }
        return acc;
      case ReduceOp::Max:
        for (int64_t i = 0; i < n; ++i) {
          A v = static_cast<A>(p[i * st]);
          if constexpr (std::is_floating_point_v<A>) if (std::isnan(v)) return v;
          acc = v > acc ? v : acc;
        }
        return acc;
      case ReduceOp::Min:
        for (int64_t i = 0; i < n; ++i) {
          A v = static_cast<A>(p[i * st]);
          if constexpr (std::is_floating_point_v<A>) if (std::isnan(v)) return v;
          acc = v < acc ? v : acc;
        }
        return acc;
      case ReduceOp::Any:
        for (int64_t i = 0; i < n; ++i) acc = acc || static_cast<bool>(p[i * st]);
        return acc;
      case ReduceOp::All:
        for (int64_t i = 0; i < n; ++i) acc = acc && static_cast<bool>(p[i * st]);
        return acc;
    }
    return acc;
  }
};

// Splits `in`'s dims into kept (outer) and reduced (inner) sub-layouts.
struct Split {
  Layout kept, red;
};
Split split_dims(const Layout& l, const std::vector<int64_t>& dims) {
  Split s;
  s.kept.offset = l.offset;
  std::vector<bool> is_red(l.dim(), false);
  for (auto d : dims) is_red[d] = true;
  for (int64_t d = 0; d < l.dim(); ++d) {
    Layout& t = is_red[d] ? s.red : s.kept;
    t.shape.push_back(l.shape[d]);
    t.strides.push_back(l.strides[d]);
  }
  return s;
}

// Offset of kept index i (row-major over s.kept) from the base pointer.
inline int64_t kept_offset(const Layout& kept, int64_t i) {
  int64_t off = kept.offset;
  for (int64_t d = kept.dim() - 1; d >= 0; --d) {
    off += (i % kept.shape[d]) * kept.strides[d];
    i /= kept.shape[d];
  }
  return off;
}

// The reduced sub-space as runs along its innermost (merged) dim: f(offset, stride, n) per run.
struct RedRuns {
  LoopPlan<1> plan;
  int64_t inner_n, inner_st, outer;
  explicit RedRuns(const Layout& red, int64_t n_red) : plan(plan_loop<1>(red.shape, {&red.strides})) {
    inner_n = plan.shape.back();
    inner_st = plan.strides[0].back();
    outer = inner_n ? n_red / inner_n : 0;
  }
  template <class F>
  void each(F&& f) const {
    const Shape& rs = plan.shape;
    const Strides& rst = plan.strides[0];
    for (int64_t j = 0; j < outer; ++j) {
      int64_t ro = 0, q = j;
      for (int64_t d = static_cast<int64_t>(rs.size()) - 2; d >= 0; --d) {
        ro += (q % rs[d]) * rst[d];
        q /= rs[d];
      }
      f(ro, inner_st, inner_n);
    }
  }
};

template <class T, class O>
void reduce_typed(ReduceOp op, const Tensor& in, const std::vector<int64_t>& dims, const Tensor& out) {
  using A = acc_t<T>;
  Reducer<T, A> r{op};
  const T* base = base_ptr<T>(in);
  O* o = base_ptr<O>(out) + out.offset();
  Split s = split_dims(in.layout(), dims);
  int64_t n_out = s.kept.numel(), n_red = s.red.numel();
  KOAN_ASSERT(out.is_contiguous() && out.numel() == n_out);
  if (n_red == 0) {
    for (int64_t i = 0; i < n_out; ++i) o[i] = static_cast<O>(r.init());
    return;
  }
  RedRuns runs(s.red, n_red);

  // Fast path: contiguous input reduced over leading dims ("sum over the batch"): accumulate
  // whole rows so the inner loop runs along memory.
  bool leading = in.is_contiguous();
  for (size_t k = 0; leading && k < dims.size(); ++k) leading = dims[k] == static_cast<int64_t>(k);
  if (leading && !dims.empty() && n_out > 1 && op == ReduceOp::Sum) {
    const T* p = base + in.offset();
    parallel_for(0, n_out, 1024, [&](int64_t b, int64_t e) {
      std::vector<A> acc(e - b, A(0));
      for (int64_t row = 0; row < n_red; ++row) {
        const T* q = p + row * n_out;
        for (int64_t c = b; c < e; ++c) acc[c - b] += static_cast<A>(q[c]);
      }
      for (int64_t c = b; c < e; ++c) o[c] = static_cast<O>(acc[c - b]);
    });
    return;
  }

  int64_t grain = std::max<int64_t>(1, kParallelGrain / n_red);
  parallel_for(0, n_out, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T* p = base + kept_offset(s.kept, i);
      A acc = r.init();
      runs.each([&](int64_t ro, int64_t st, int64_t n) { acc = r.run(acc, p + ro, st, n); });
      o[i] = static_cast<O>(acc);
    }
  });
}

template <class T>
void var_typed(const Tensor& in, const std::vector<int64_t>& dims, double correction, bool take_sqrt,
               const Tensor& out) {
  const T* base = base_ptr<T>(in);
  T* o = base_ptr<T>(out) + out.offset();
  Split s = split_dims(in.layout(), dims);
  int64_t n_out = s.kept.numel(), n_red = s.red.numel();
  KOAN_ASSERT(out.is_contiguous() && out.numel() == n_out);
  double denom = std::max(0.0, static_cast<double>(n_red) - correction);
  if (n_red == 0) {
    for (int64_t i = 0; i < n_out; ++i) o[i] = std::numeric_limits<T>::quiet_NaN();
    return;
  }
  RedRuns runs(s.red, n_red);
  parallel_for(0, n_out, std::max<int64_t>(1, kParallelGrain / n_red), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T* p = base + kept_offset(s.kept, i);
      double sum = 0;
      runs.each([&](int64_t ro, int64_t st, int64_t n) {
        for (int64_t k = 0; k < n; ++k) sum += static_cast<double>(p[ro + k * st]);
      });
      double mean = sum / static_cast<double>(n_red), m2 = 0;
      runs.each([&](int64_t ro, int64_t st, int64_t n) {
        for (int64_t k = 0; k < n; ++k) {
          double d = static_cast<double>(p[ro + k * st]) - mean;
          m2 += d * d;
        }
      });
      double v = m2 / denom;
      o[i] = static_cast<T>(take_sqrt ? std::sqrt(v) : v);
    }
  });
}

}  // namespace

void reduce(ReduceOp op, const Tensor& in, const std::vector<int64_t>& dims, const Tensor& out) {
  visit_dtype(in.dtype(), [&]<class T>() {
    visit_dtype(out.dtype(), [&]<class O>() { reduce_typed<T, O>(op, in, dims, out); });
  });
}

void var(const Tensor& in, const std::vector<int64_t>& dims, double correction, bool take_sqrt,
         const Tensor& out) {
  visit_floating(in.dtype(), "var", [&]<class T>() { var_typed<T>(in, dims, correction, take_sqrt, out); });
}

void reduce_with_index(bool is_max, const Tensor& in, int64_t dim, const Tensor& values,
                       const Tensor& indices) {
  visit_dtype(in.dtype(), [&]<class T>() {
    const T* base = base_ptr<T>(in);
    T* vo = base_ptr<T>(values) + values.offset();
    int64_t* io = base_ptr<int64_t>(indices) + indices.offset();
    Split s = split_dims(in.layout(), {dim});
    int64_t n_out = s.kept.numel(), n = in.shape()[dim], st = in.strides()[dim];
    parallel_for(0, n_out, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1)),
                 [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        int64_t off = s.kept.offset, rem = i;
        for (int64_t d = s.kept.dim() - 1; d >= 0; --d) {
          off += (rem % s.kept.shape[d]) * s.kept.strides[d];
          rem /= s.kept.shape[d];
        }
        const T* p = base + off;
        T best = p[0];
        int64_t bi = 0;
        for (int64_t j = 1; j < n; ++j) {
          T v = p[j * st];
          if constexpr (std::is_floating_point_v<T>)
            if (std::isnan(best)) break;
          bool better = is_max ? v > best : v < best;
          if constexpr (std::is_floating_point_v<T>) better = better || std::isnan(v);
          if (better) {
            best = v;
            bi = j;
          }
        }
        vo[i] = best;
        io[i] = bi;
      }
    });
  });
}

}  // namespace koan::kernels
