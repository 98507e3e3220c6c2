// Tensor's op methods (declared in tensor/tensor.h) forward to the free functions, as libtorch's
// methods do; keeping them here lets the tensor layer stay below the ops layer.
#include "koan/ops/inplace.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"

namespace koan {

Tensor Tensor::view(const Shape& s) const { return koan::view(*this, s); }
Tensor Tensor::reshape(const Shape& s) const { return koan::reshape(*this, s); }
Tensor Tensor::transpose(int64_t d0, int64_t d1) const { return koan::transpose(*this, d0, d1); }
Tensor Tensor::t() const { return koan::t(*this); }
Tensor Tensor::permute(const std::vector<int64_t>& dims) const { return koan::permute(*this, dims); }
Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const { return koan::narrow(*this, dim, start, length); }
Tensor Tensor::slice(int64_t dim, int64_t start, int64_t end, int64_t step) const { return koan::slice(*this, dim, start, end, step); }
Tensor Tensor::select(int64_t dim, int64_t index) const { return koan::select(*this, dim, index); }
Tensor Tensor::expand(const Shape& s) const { return koan::expand(*this, s); }
Tensor Tensor::squeeze(std::optional<int64_t> dim) const { return koan::squeeze(*this, dim); }
Tensor Tensor::unsqueeze(int64_t dim) const { return koan::unsqueeze(*this, dim); }
Tensor Tensor::flatten(int64_t s, int64_t e) const { return koan::flatten(*this, s, e); }
Tensor Tensor::contiguous() const { return koan::contiguous(*this); }
Tensor Tensor::clone() const { return koan::clone(*this); }
Tensor Tensor::detach() const { return koan::detach(*this); }
Tensor Tensor::to(DType dtype) const { return koan::to(*this, dtype); }
Tensor Tensor::sum() const { return koan::sum(*this); }
Tensor Tensor::mean() const { return koan::mean(*this); }
Tensor& Tensor::zero_() { return koan::zero_(*this); }
Tensor& Tensor::fill_(Scalar v) { return koan::fill_(*this, v); }
Tensor& Tensor::copy_(const Tensor& src) { return koan::copy_(*this, src); }

}  // namespace koan
