// In-place ops: they write into the tensor's storage and bump its version counter, so autograd
// can refuse a backward that would read the overwritten values.
//
//   { koan::NoGradGuard g; koan::add_(w, w.grad(), -0.1); }   // w -= 0.1 * grad
#pragma once
#include <optional>

#include "koan/tensor/tensor.h"

namespace koan {

Tensor& add_(Tensor& self, const Tensor& other, Scalar alpha = 1);
Tensor& add_(Tensor& self, Scalar other);
Tensor& sub_(Tensor& self, const Tensor& other, Scalar alpha = 1);
Tensor& sub_(Tensor& self, Scalar other);
Tensor& mul_(Tensor& self, const Tensor& other);
Tensor& mul_(Tensor& self, Scalar other);
Tensor& div_(Tensor& self, const Tensor& other);
Tensor& div_(Tensor& self, Scalar other);
Tensor& zero_(Tensor& self);
Tensor& fill_(Tensor& self, Scalar value);
// Copies src (broadcast to self's shape, converted to self's dtype) into self.
Tensor& copy_(Tensor& self, const Tensor& src);
Tensor& clamp_(Tensor& self, std::optional<double> min, std::optional<double> max);
Tensor& relu_(Tensor& self);
Tensor& masked_fill_(Tensor& self, const Tensor& mask, Scalar value);

namespace ops_detail {
// Runs f(self_value) and stores the result in self.  With autograd live, self's history is
// rebased onto the result's; otherwise the kernel result is copied in (or written directly).
Tensor& apply_inplace(Tensor& self, const char* op, const std::function<Tensor(const Tensor&)>& f,
                      const std::vector<const Tensor*>& others = {});
}

}  // namespace koan
