// Indexing kernels: gather / scatter along one dim, advanced (integer-array) indexing, sort.
//
// Kernels know layouts and pointers, nothing of autograd.  Every index is range-checked (a
// serial pass before any thread starts) and a bad one throws koan::IndexError naming the op,
// the value and the dim size, so no kernel reads or writes out of bounds.  Index tensors are
// int64 with any strides (0 strides too: index_select passes its 1-D index expanded).
#pragma once
#include "koan/tensor/tensor.h"

namespace koan::kernels {

// Throws IndexError unless every value of `index` (int64) lies in [0, size), or in
// [-size, size) with `allow_negative` (negatives then count from the end).
void check_index_range(const Tensor& index, int64_t size, const char* op, int64_t dim,
                       bool allow_negative);

// out[p] = x[p with p[dim] = index[p]] for every position p of out.  index has out's shape;
// x.size(d) >= out.size(d) for d != dim; x and out share a dtype.
void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out, const char* op);

enum class ScatterMode { Assign, Add };
// For every position p of index: out[p with p[dim] = index[p]] (= or +=) src[p].
// out.size(d) >= index.size(d) for d != dim; src.size(d) >= index.size(d).  Deterministic:
// positions that could collide (same coordinates off `dim`) run on one thread in index order.
void scatter(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, ScatterMode mode,
             const char* op);

// Flattens k index tensors (int64, all expanded to one shape, negatives allowed) into offsets
// of a row-major tensor of shape `sizes` (k dims): out = sum_j wrap(index_j) * prod(sizes[j+1:]).
void linear_index(const std::vector<Tensor>& indices, const Shape& sizes, const Tensor& out,
                  const char* op);
// The coordinates of the true elements of a bool tensor, in row-major order: one 1-D int64
// tensor per dim of mask.
std::vector<Tensor> nonzero(const Tensor& mask);

// x[index_0[b], ..., index_{k-1}[b], rest...] (= or +=) values[b, rest...] for each b of the
// indices' common shape B.  indices are expanded to B; values expanded to B + x.shape[k:].
// Runs in index order, so duplicates resolve deterministically (last write wins / all add).
void index_put(const Tensor& x, const std::vector<Tensor>& indices, const Tensor& values,
               bool accumulate, const char* op);

// The first k elements of each row along dim in ascending (or descending) order, stably
// (equal values keep their input order; NaN sorts as the largest, as in PyTorch).
// values (x's dtype) and indices (int64) are contiguous with x's shape but size k along dim.
void sort(const Tensor& x, int64_t dim, int64_t k, bool descending, const Tensor& values,
          const Tensor& indices);

}  // namespace koan::kernels
