#include "koan/kernels/index.h"

#include <cstring>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "koan/kernels/cpu/loops.h"

namespace koan::kernels {
namespace {

// Calls fn(offsets) for every position of `shape` in row-major order, offsets[k] walking
// strides[k] from base[k].  Serial: for passes that may throw or must keep index order.
template <class F>
void odometer(const Shape& shape, const std::vector<Strides>& strides, std::vector<int64_t> off, F&& fn) {
  int64_t n = numel(shape);
  if (n == 0) return;
  const int64_t nd = static_cast<int64_t>(shape.size());
  const size_t k = strides.size();
  std::vector<int64_t> idx(nd, 0);
  for (int64_t i = 0; i < n; ++i) {
    fn(off);
    for (int64_t d = nd - 1; d >= 0; --d) {
      for (size_t j = 0; j < k; ++j) off[j] += strides[j][d];
      if (++idx[d] < shape[d]) break;
      for (size_t j = 0; j < k; ++j) off[j] -= shape[d] * strides[j][d];
      idx[d] = 0;
    }
  }
}

// `st` with entry `dim` removed.
Strides drop(const Strides& st, int64_t dim) {
  Strides r;
  for (int64_t d = 0; d < static_cast<int64_t>(st.size()); ++d)
    if (d != dim) r.push_back(st[d]);
  return r;
}

template <class T>
bool sorts_before(T a, T b) {  // ascending, NaN largest
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
  }
  return a < b;
}

}  // namespace

void check_index_range(const Tensor& index, int64_t size, const char* op, int64_t dim, bool allow_negative) {
  KOAN_CHECK(index.dtype() == DType::Int64, DTypeError, op, ": index must be int64, got ", name(index.dtype()));
  const int64_t* p = base_ptr<int64_t>(index);
  const int64_t lo = allow_negative ? -size : 0;
  // Broadcast dims (stride 0) repeat the same indices: check each distinct one once.
  Layout distinct;
  distinct.offset = index.offset();
  for (int64_t d = 0; d < index.dim(); ++d)
    if (index.strides()[d] != 0 || index.shape()[d] == 0) {
      distinct.shape.push_back(index.shape()[d]);
      distinct.strides.push_back(index.strides()[d]);
    }
  for_each_offset(distinct, [&](int64_t off) {
    int64_t v = p[off];
    KOAN_CHECK(v >= lo && v < size, IndexError, op, ": index ", v, " is out of range for dim ", dim,
               " with size ", size);
  });
}

void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out, const char* op) {
  KOAN_ASSERT(index.shape() == out.shape() && x.dtype() == out.dtype() && x.dim() == out.dim());
  const int64_t size = x.shape()[dim];
  check_index_range(index, size, op, dim, false);
  if (out.numel() == 0) return;
  // Row gather (index_select along dim 0, what batching does): one memcpy per index.
  bool rows = dim == 0 && x.is_contiguous() && out.is_contiguous();
  for (int64_t d = 1; rows && d < index.dim(); ++d) rows = index.strides()[d] == 0;
  if (rows) {
    const int64_t n = out.shape()[0], row = out.numel() / n, bytes = row * static_cast<int64_t>(x.element_size());
    const char* xp = static_cast<const char*>(x.raw_data());
    char* o = static_cast<char*>(out.raw_data());
    const int64_t* ip = base_ptr<int64_t>(index) + index.offset();
    const int64_t ist = index.strides()[0];
    parallel_for(0, n, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(row, 1)), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) std::memcpy(o + i * bytes, xp + ip[i * ist] * bytes, bytes);
    });
    return;
  }
  Strides xs = x.strides();
  const int64_t xstep = xs[dim];
  xs[dim] = 0;
  auto plan = plan_loop<3>(out.shape(), {&out.strides(), &index.strides(), &xs});
  visit_dtype(x.dtype(), [&]<class T>() {
    T* o = base_ptr<T>(out) + out.offset();
    const int64_t* ip = base_ptr<int64_t>(index) + index.offset();
    const T* xp = base_ptr<T>(x) + x.offset();
    strided_loop<3>(plan, [&](const std::array<int64_t, 3>& off, const std::array<int64_t, 3>& st, int64_t n) {
      for (int64_t i = 0; i < n; ++i) o[off[0] + i * st[0]] = xp[off[2] + i * st[2] + ip[off[1] + i * st[1]] * xstep];
    });
  });
}

void scatter(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, ScatterMode mode,
             const char* op) {
  KOAN_ASSERT(out.dtype() == src.dtype() && index.dim() == out.dim() && src.dim() == out.dim());
  const int64_t size = out.shape()[dim];
  check_index_range(index, size, op, dim, false);
  if (index.numel() == 0) return;
  const int64_t n = index.shape()[dim];
  const int64_t ostep = out.strides()[dim], istep = index.strides()[dim], sstep = src.strides()[dim];
  // The coordinates off `dim` split the work: two of them never write the same element of out.
  Shape outer;
  for (int64_t d = 0; d < index.dim(); ++d)
    if (d != dim) outer.push_back(index.shape()[d]);
  Strides os = drop(out.strides(), dim), is = drop(index.strides(), dim), ss = drop(src.strides(), dim);
  auto plan = plan_loop<3>(outer, {&os, &is, &ss});
  visit_dtype(out.dtype(), [&]<class T>() {
    T* o = base_ptr<T>(out) + out.offset();
    const int64_t* ip = base_ptr<int64_t>(index) + index.offset();
    const T* sp = base_ptr<T>(src) + src.offset();
    strided_loop<3>(
        plan,
        [&](const std::array<int64_t, 3>& off, const std::array<int64_t, 3>& st, int64_t m) {
          for (int64_t i = 0; i < m; ++i) {
            T* ob = o + off[0] + i * st[0];
            const int64_t* ib = ip + off[1] + i * st[1];
            const T* sb = sp + off[2] + i * st[2];
            for (int64_t j = 0; j < n; ++j) {
              T& dst = ob[ib[j * istep] * ostep];
              T v = sb[j * sstep];
              if (mode == ScatterMode::Assign) dst = v;
              else if constexpr (std::is_same_v<T, bool>) dst = dst || v;
              else dst = static_cast<T>(dst + v);
            }
          }
        },
        std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1)));
  });
}

void linear_index(const std::vector<Tensor>& indices, const Shape& sizes, const Tensor& out, const char* op) {
  KOAN_ASSERT(indices.size() == sizes.size() && out.dtype() == DType::Int64);
  const size_t k = indices.size();
  for (size_t j = 0; j < k; ++j) {
    KOAN_ASSERT(indices[j].shape() == out.shape());
    check_index_range(indices[j], sizes[j], op, static_cast<int64_t>(j), true);
  }
  std::vector<int64_t> mult(k, 1);
  for (size_t j = k; j-- > 1;) mult[j - 1] = mult[j] * sizes[j];
  std::vector<Strides> st{out.strides()};
  std::vector<int64_t> base{out.offset()};
  std::vector<const int64_t*> ptr;
  for (auto& t : indices) {
    st.push_back(t.strides());
    base.push_back(t.offset());
    ptr.push_back(base_ptr<int64_t>(t));
  }
  int64_t* o = base_ptr<int64_t>(out);
  odometer(out.shape(), st, base, [&](const std::vector<int64_t>& off) {
    int64_t flat = 0;
    for (size_t j = 0; j < k; ++j) {
      int64_t v = ptr[j][off[j + 1]];
      flat += (v < 0 ? v + sizes[j] : v) * mult[j];
    }
    o[off[0]] = flat;
  });
}

std::vector<Tensor> nonzero(const Tensor& mask) {
  KOAN_ASSERT(mask.dtype() == DType::Bool);
  const bool* p = base_ptr<bool>(mask);
  int64_t count = 0;
  for_each_offset(mask.layout(), [&](int64_t off) { count += p[off] ? 1 : 0; });
  const int64_t nd = mask.dim();
  std::vector<Tensor> out;
  std::vector<int64_t*> o;
  for (int64_t d = 0; d < nd; ++d) {
    out.push_back(empty({count}, {.dtype = DType::Int64}));
    o.push_back(out.back().data_ptr<int64_t>());
  }
  std::vector<int64_t> idx(nd, 0);
  int64_t k = 0;
  for_each_offset(mask.layout(), [&](int64_t off) {
    if (p[off]) {
      for (int64_t d = 0; d < nd; ++d) o[d][k] = idx[d];
      ++k;
    }
    for (int64_t d = nd - 1; d >= 0; --d) {  // same row-major order as for_each_offset
      if (++idx[d] < mask.shape()[d]) break;
      idx[d] = 0;
    }
  });
  return out;
}

void index_put(const Tensor& x, const std::vector<Tensor>& indices, const Tensor& values, bool accumulate,
               const char* op) {
  const size_t k = indices.size();
  KOAN_ASSERT(k >= 1 && static_cast<int64_t>(k) <= x.dim() && values.dtype() == x.dtype());
  const Shape& b = indices[0].shape();
  for (size_t j = 0; j < k; ++j) check_index_range(indices[j], x.shape()[j], op, static_cast<int64_t>(j), true);
  Shape rest(x.shape().begin() + k, x.shape().end());
  KOAN_ASSERT(values.dim() == static_cast<int64_t>(b.size() + rest.size()));
  Strides xr(x.strides().begin() + k, x.strides().end());
  Strides vb(values.strides().begin(), values.strides().begin() + b.size());
  Strides vr(values.strides().begin() + b.size(), values.strides().end());
  if (numel(rest) == 0) return;
  auto plan = plan_loop<2>(rest, {&xr, &vr});
  std::vector<Strides> st{vb};
  std::vector<int64_t> base{values.offset()};
  std::vector<const int64_t*> ptr;
  for (auto& t : indices) {
    st.push_back(t.strides());
    base.push_back(t.offset());
    ptr.push_back(base_ptr<int64_t>(t));
  }
  visit_dtype(x.dtype(), [&]<class T>() {
    T* xp = base_ptr<T>(x);
    const T* vp = base_ptr<T>(values);
    auto put = [accumulate](T& dst, T v) {
      if (!accumulate) dst = v;
      else if constexpr (std::is_same_v<T, bool>) dst = dst || v;
      else dst = static_cast<T>(dst + v);
    };
    // (x offset, values offset) of each element of a row of `rest`, when rows are small.
    std::vector<int64_t> pairs;
    if (numel(rest) < kParallelGrain)
      odometer(rest, {xr, vr}, {0, 0}, [&](const std::vector<int64_t>& o) {
        pairs.push_back(o[0]);
        pairs.push_back(o[1]);
      });
    // Serial over index positions (duplicates resolve in order); each large row may split.
    odometer(b, st, base, [&](const std::vector<int64_t>& off) {
      int64_t xo = x.offset();
      for (size_t j = 0; j < k; ++j) {
        int64_t v = ptr[j][off[j + 1]];
        xo += (v < 0 ? v + x.shape()[j] : v) * x.strides()[j];
      }
      T* xb = xp + xo;
      const T* vbp = vp + off[0];
      if (!pairs.empty()) {  // small rows: a precomputed walk, no per-row loop setup
        for (size_t r = 0; r < pairs.size(); r += 2) put(xb[pairs[r]], vbp[pairs[r + 1]]);
        return;
      }
      strided_loop<2>(plan, [&](const std::array<int64_t, 2>& o, const std::array<int64_t, 2>& s, int64_t n) {
        for (int64_t i = 0; i < n; ++i) put(xb[o[0] + i * s[0]], vbp[o[1] + i * s[1]]);
      });
    });
  });
}

void sort(const Tensor& x, int64_t dim, int64_t k, bool descending, const Tensor& values, const Tensor& indices) {
  KOAN_ASSERT(values.dtype() == x.dtype() && indices.dtype() == DType::Int64);
  const int64_t n = x.shape()[dim];
  KOAN_ASSERT(k >= 0 && k <= n && values.shape()[dim] == k && indices.shape()[dim] == k);
  if (k == 0 || values.numel() == 0) return;
  Shape outer;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (d != dim) outer.push_back(x.shape()[d]);
  Strides xs = drop(x.strides(), dim), vs = drop(values.strides(), dim), is = drop(indices.strides(), dim);
  const int64_t xstep = x.strides()[dim], vstep = values.strides()[dim], istep = indices.strides()[dim];
  auto plan = plan_loop<3>(outer, {&xs, &vs, &is});
  visit_dtype(x.dtype(), [&]<class T>() {
    const T* xp = base_ptr<T>(x) + x.offset();
    T* vp = base_ptr<T>(values) + values.offset();
    int64_t* ip = base_ptr<int64_t>(indices) + indices.offset();
    strided_loop<3>(
        plan,
        [&](const std::array<int64_t, 3>& off, const std::array<int64_t, 3>& st, int64_t m) {
          std::vector<T> row(n);
          std::vector<int64_t> perm(n);
          for (int64_t r = 0; r < m; ++r) {
            const T* xr = xp + off[0] + r * st[0];
            for (int64_t j = 0; j < n; ++j) row[j] = xr[j * xstep];
            std::iota(perm.begin(), perm.end(), int64_t{0});
            // Ties broken by position, so the (partial) sort is stable and deterministic.
            auto before = [&](int64_t a, int64_t b) {
              bool ab = descending ? sorts_before(row[b], row[a]) : sorts_before(row[a], row[b]);
              if (ab) return true;
              bool ba = descending ? sorts_before(row[a], row[b]) : sorts_before(row[b], row[a]);
              return !ba && a < b;
            };
            if (k < n) std::partial_sort(perm.begin(), perm.begin() + k, perm.end(), before);
            else std::sort(perm.begin(), perm.end(), before);
            T* vr = vp + off[1] + r * st[1];
            int64_t* ir = ip + off[2] + r * st[2];
            for (int64_t j = 0; j < k; ++j) {
              vr[j * vstep] = row[perm[j]];
              ir[j * istep] = perm[j];
            }
          }
        },
        std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1)));
  });
}

}  // namespace koan::kernels
