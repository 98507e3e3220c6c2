#include "koan/ops/join.h"

#include <sstream>

#include "koan/kernels/elementwise.h"
#include "koan/ops/common.h"
#include "koan/ops/shape.h"

namespace koan {
using namespace ops_detail;

namespace {
std::string shapes_of(const std::vector<Tensor>& ts) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < ts.size(); ++i) os << (i ? ", " : "") << str(ts[i].shape());
  os << "]";
  return os.str();
}
}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  KOAN_CHECK(!tensors.empty(), ValueError, "cat: expects a non-empty list of tensors");
  for (size_t i = 0; i < tensors.size(); ++i)
    KOAN_CHECK(tensors[i].defined(), ValueError, "cat: tensor ", i, " is undefined");
  // torch skips legacy 1-D empty tensors, whatever the others' rank.
  std::vector<Tensor> in;
  std::vector<size_t> idx;  // position of each kept input in `tensors`
  for (size_t i = 0; i < tensors.size(); ++i)
    if (!(tensors[i].dim() == 1 && tensors[i].numel() == 0)) {
      in.push_back(tensors[i]);
      idx.push_back(i);
    }
  DType dt = tensors[0].dtype();
  for (const Tensor& t : tensors) dt = promote_types(dt, t.dtype());
  if (in.empty()) return empty({0}, {.dtype = dt});
  const Shape& ref = in[0].shape();
  KOAN_CHECK(in[0].dim() > 0, ShapeError, "cat: zero-dimensional tensor (at position ", idx[0],
             ") cannot be concatenated");
  int64_t d = wrap_dim(dim, in[0].dim(), "cat");
  int64_t total = 0;
  for (size_t k = 0; k < in.size(); ++k) {
    const Shape& s = in[k].shape();
    bool ok = s.size() == ref.size();
    for (size_t j = 0; ok && j < s.size(); ++j) ok = static_cast<int64_t>(j) == d || s[j] == ref[j];
    KOAN_CHECK(ok, ShapeError, "cat: sizes of tensors must match except in dim ", d,
               ": tensor 0 has shape ", ref, " but tensor ", idx[k], " has shape ", s,
               " (all shapes: ", shapes_of(tensors), ")");
    total += s[d];
  }
  Shape out_shape = ref;
  out_shape[d] = total;
  Tensor out = new_output(out_shape, dt);
  std::vector<int64_t> starts;
  int64_t at = 0;
  for (const Tensor& t : in) {
    starts.push_back(at);
    // kernels::copy converts the dtype on the way in.
    kernels::copy(t, alias_with_layout(out, koan::narrow(out.layout(), d, at, t.shape()[d])));
    at += t.shape()[d];
  }
  if (autograd::needs_grad(in)) {
    std::vector<int64_t> sizes;
    std::vector<DType> dtypes;
    for (const Tensor& t : in) {
      sizes.push_back(t.shape()[d]);
      dtypes.push_back(t.dtype());
    }
    autograd::record("CatBackward", in, {out},
                     [d, starts, sizes, dtypes](FunctionNode&, Grads& g) {
                       Grads r;
                       for (size_t k = 0; k < sizes.size(); ++k)
                         r.push_back(cast(narrow(g[0], d, starts[k], sizes[k]), dtypes[k]));
                       return r;
                     });
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  KOAN_CHECK(!tensors.empty(), ValueError, "stack: expects a non-empty list of tensors");
  for (size_t i = 0; i < tensors.size(); ++i) {
    KOAN_CHECK(tensors[i].defined(), ValueError, "stack: tensor ", i, " is undefined");
    KOAN_CHECK(tensors[i].shape() == tensors[0].shape(), ShapeError,
               "stack: expects each tensor to be equal size, but got ", tensors[0].shape(),
               " at entry 0 and ", tensors[i].shape(), " at entry ", i);
  }
  int64_t d = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  for (const Tensor& t : tensors) parts.push_back(unsqueeze(t, d));
  return cat(parts, d);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  KOAN_CHECK(x.dim() > 0, ShapeError, "split: cannot split a 0-d tensor");
  int64_t d = wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    KOAN_CHECK(s >= 0, ValueError, "split: sizes must be non-negative, got ", sizes);
    total += s;
  }
  KOAN_CHECK(total == x.shape()[d], ShapeError, "split: sizes ", sizes, " sum to ", total,
             " but dim ", d, " of the input (shape ", x.shape(), ") has size ", x.shape()[d]);
  std::vector<Tensor> r;
  int64_t at = 0;
  for (int64_t s : sizes) {
    r.push_back(narrow(x, d, at, s));
    at += s;
  }
  return r;
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  KOAN_CHECK(x.dim() > 0, ShapeError, "split: cannot split a 0-d tensor");
  int64_t d = wrap_dim(dim, x.dim(), "split");
  int64_t n = x.shape()[d];
  KOAN_CHECK(split_size > 0 || (split_size == 0 && n == 0), ValueError,
             "split: split_size must be positive, got ", split_size, " for dim ", d, " of size ", n);
  if (n == 0) return {x};
  std::vector<int64_t> sizes;
  for (int64_t at = 0; at < n; at += split_size) sizes.push_back(std::min(split_size, n - at));
  return split(x, sizes, d);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  KOAN_CHECK(chunks > 0, ValueError, "chunk: chunks must be positive, got ", chunks);
  KOAN_CHECK(x.dim() > 0, ShapeError, "chunk: cannot chunk a 0-d tensor");
  int64_t d = wrap_dim(dim, x.dim(), "chunk");
  int64_t n = x.shape()[d];
  int64_t size = (n + chunks - 1) / chunks;
  if (size == 0) {  // empty dim: `chunks` empty views, as torch
    return split(x, std::vector<int64_t>(chunks, 0), d);
  }
  return split(x, size, d);
}

Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats) {
  KOAN_CHECK(x.defined(), ValueError, "repeat: input is undefined");
  KOAN_CHECK(static_cast<int64_t>(repeats.size()) >= x.dim(), ShapeError,
             "repeat: number of repeats ", repeats, " can not be smaller than the number of dims of "
             "the input (shape ", x.shape(), ")");
  for (int64_t r : repeats)
    KOAN_CHECK(r >= 0, ValueError, "repeat: repeats must be non-negative, got ", repeats);
  // Pad x's shape with leading 1s, put a size-1 dim before each, expand those to the repeat
  // counts, materialise and merge each (repeat, size) pair.  Expand's backward (sum-to-shape)
  // is then the backward of repeat.
  size_t lead = repeats.size() - x.dim();
  Shape padded(lead, 1);
  padded.insert(padded.end(), x.shape().begin(), x.shape().end());
  Shape inter, target, out_shape;
  for (size_t i = 0; i < repeats.size(); ++i) {
    inter.push_back(1);
    inter.push_back(padded[i]);
    target.push_back(repeats[i]);
    target.push_back(padded[i]);
    out_shape.push_back(repeats[i] * padded[i]);
  }
  Tensor e = expand(reshape(x, inter), target);
  return reshape(contiguous(e), out_shape);
}

}  // namespace koan
