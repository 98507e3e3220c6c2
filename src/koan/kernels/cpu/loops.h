// The strided loop every elementwise kernel runs on.
//
// Operands share one shape (inputs arrive already broadcast: stride 0 on expanded dims).  The
// plan merges dims that are contiguous for every operand, so most tensors become one flat loop;
// the innermost dim gets a unit-stride fast path the compiler vectorises; the outer index space
// is split across threads by position, so results never depend on the thread count.
//
//   map_kernel<float, float, float>(out, [](float a, float b) { return a + b; }, x, y);
#pragma once
#include <array>
#include <tuple>
#include <utility>

#include "koan/core/parallel.h"
#include "koan/tensor/tensor.h"

namespace koan::kernels {

template <size_t N>
struct LoopPlan {
  Shape shape;
  std::array<Strides, N> strides;
};

// Drops size-1 dims and merges dims whose strides chain for every operand.
template <size_t N>
LoopPlan<N> plan_loop(const Shape& shape, const std::array<const Strides*, N>& strides) {
  LoopPlan<N> p;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !p.shape.empty();
    for (size_t k = 0; merge && k < N; ++k)
      merge = p.strides[k].back() == (*strides[k])[d] * shape[d];
    if (merge) {
      p.shape.back() *= shape[d];
      for (size_t k = 0; k < N; ++k) p.strides[k].back() = (*strides[k])[d];
    } else {
      p.shape.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) p.strides[k].push_back((*strides[k])[d]);
    }
  }
  if (p.shape.empty()) {  // a single element
    p.shape.push_back(1);
    for (size_t k = 0; k < N; ++k) p.strides[k].push_back(0);
  }
  return p;
}

// Calls inner(offsets, inner_strides, n) for runs of the innermost dim; offsets are in elements
// from each operand's base pointer.  `grain` is the element count below which it stays serial.
template <size_t N, class F>
void strided_loop(const LoopPlan<N>& p, F&& inner, int64_t grain = kParallelGrain) {
  const int64_t nd = static_cast<int64_t>(p.shape.size());
  const int64_t inner_n = p.shape.back();
  std::array<int64_t, N> inner_st;
  for (size_t k = 0; k < N; ++k) inner_st[k] = p.strides[k].back();
  int64_t outer = 1;
  for (int64_t d = 0; d < nd - 1; ++d) outer *= p.shape[d];

  auto run_rows = [&](int64_t row_begin, int64_t row_end, int64_t col_begin, int64_t col_end) {
    std::array<int64_t, N> off{};
    std::vector<int64_t> idx(nd > 1 ? nd - 1 : 0);
    int64_t r = row_begin;  // unravel the starting row
    for (int64_t d = nd - 2; d >= 0; --d) {
      idx[d] = r % p.shape[d];
      r /= p.shape[d];
      for (size_t k = 0; k < N; ++k) off[k] += idx[d] * p.strides[k][d];
    }
    for (int64_t row = row_begin; row < row_end; ++row) {
      std::array<int64_t, N> o = off;
      for (size_t k = 0; k < N; ++k) o[k] += col_begin * inner_st[k];
      inner(o, inner_st, col_end - col_begin);
      for (int64_t d = nd - 2; d >= 0; --d) {  // odometer step
        for (size_t k = 0; k < N; ++k) off[k] += p.strides[k][d];
        if (++idx[d] < p.shape[d]) break;
        for (size_t k = 0; k < N; ++k) off[k] -= p.shape[d] * p.strides[k][d];
        idx[d] = 0;
      }
    }
  };

  if (outer == 1) {  // one long row: split the row itself
    parallel_for(0, inner_n, grain, [&](int64_t b, int64_t e) { run_rows(0, 1, b, e); });
  } else {
    int64_t row_grain = std::max<int64_t>(1, grain / std::max<int64_t>(inner_n, 1));
    parallel_for(0, outer, row_grain, [&](int64_t b, int64_t e) { run_rows(b, e, 0, inner_n); });
  }
}

// Calls f(o, c0, c1) over the columns (o, c) of an [outer, n, inner] tensor, columns [c0, c1) of
// one `o` at a time, split across threads by column (never by timing).  A column is the n
// elements a softmax, a cross-entropy or a scan runs along.
template <class F>
void for_columns(int64_t outer, int64_t n, int64_t inner, F&& f) {
  int64_t cols = outer * inner;
  int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1));
  parallel_for(0, cols, grain, [&](int64_t b, int64_t e) {
    while (b < e) {
      int64_t o = b / inner, c0 = b % inner;
      int64_t c1 = std::min(inner, c0 + (e - b));
      f(o, c0, c1);
      b += c1 - c0;
    }
  });
}

template <class T>
T* base_ptr(const Tensor& t) {
  return static_cast<T*>(t.storage()->data());
}

namespace detail {
// f is copied: the loop's constants (an alpha, a slope) then live in this thread's registers.  Read
// through a reference they are reloaded after every store (an Out store may alias them), from the
// caller's stack, whose cache line the caller keeps writing at 2 threads.
template <class Out, class F, class Ptrs, size_t... K>
void map_run(Out* po, const Ptrs& q, const F& f_shared, const int64_t* st, int64_t n, bool unit,
             std::index_sequence<K...>) {
  F f = f_shared;
  if (unit) {
    for (int64_t i = 0; i < n; ++i) po[i] = f(std::get<K>(q)[i]...);
  } else {
    for (int64_t i = 0; i < n; ++i) po[i * st[0]] = f(std::get<K>(q)[i * st[K + 1]]...);
  }
}
}  // namespace detail

// out[i] = f(in[i]...) over out's shape.  Inputs must already have out's shape (expand them).
template <class>
using TensorFor = Tensor;  // one Tensor parameter per input type

template <class Out, class... In, class F>
void map_kernel(const Tensor& out, F&& f, const TensorFor<In>&... in) {
  constexpr size_t N = 1 + sizeof...(In);
  const int64_t numel = out.numel();
  if (numel == 0) return;
  if (out.is_contiguous() && (in.is_contiguous() && ...)) {
    // Every operand dense in the same order (no broadcast, since inputs have out's shape): the
    // plan below would merge all dims into this one flat loop anyway, and split it the same way
    // across threads; skipping it saves the plan's vectors, which is most of a tiny op's cost.
    Out* o = base_ptr<Out>(out) + out.offset();
    std::tuple<const In*...> ins{(base_ptr<In>(in) + in.offset())...};
    parallel_for(0, numel, kParallelGrain, [&](int64_t b, int64_t e) {
      auto shifted = [&]<size_t... K>(std::index_sequence<K...>) {
        return std::tuple<const In*...>{(std::get<K>(ins) + b)...};
      }(std::index_sequence_for<In...>{});
      detail::map_run(o + b, shifted, f, nullptr, e - b, true, std::index_sequence_for<In...>{});
    });
    return;
  }
  auto plan = plan_loop<N>(out.shape(), {&out.strides(), &in.strides()...});
  Out* o = base_ptr<Out>(out) + out.offset();
  std::tuple<const In*...> ins{(base_ptr<In>(in) + in.offset())...};
  strided_loop<N>(plan, [&](const std::array<int64_t, N>& off, const std::array<int64_t, N>& st,
                            int64_t n) {
    bool unit = true;
    for (size_t j = 0; j < N; ++j) unit &= st[j] == 1;
    auto shifted = [&]<size_t... K>(std::index_sequence<K...>) {
      return std::tuple<const In*...>{(std::get<K>(ins) + off[K + 1])...};
    }(std::index_sequence_for<In...>{});
    detail::map_run(o + off[0], shifted, f, st.data(), n, unit, std::index_sequence_for<In...>{});
  });
}

}  // namespace koan::kernels
