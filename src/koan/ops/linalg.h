// Matrix products.
//
//   Tensor y = koan::matmul(x, w);     // torch.matmul: 1-D to N-D, batched, broadcast
//   Tensor z = koan::linear(x, w, b);  // x @ w^T + b, as torch.nn.functional.linear
#pragma once
#include "koan/tensor/tensor.h"

namespace koan {

Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);   // 2-D only
Tensor bmm(const Tensor& a, const Tensor& b);  // 3-D only, equal batch
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace koan
