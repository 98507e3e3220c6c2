// What ops/pool.cpp (max pooling) and ops/conv.cpp (the fused convolution + ReLU + pooling)
// share.
#pragma once
#include "koan/kernels/pool.h"
#include "koan/tensor/tensor.h"

namespace koan::ops_detail {

// The gradient of max pooling: g scattered to the argmax positions (int64 indices) of each plane
// of an input of in_shape.  One kernel when nothing records; under create_graph, scatter_add, so
// it differentiates again.
Tensor max_pool_grad(const Tensor& g, const Tensor& idx, const Shape& in_shape, const kernels::PoolGeom& pg);

}  // namespace koan::ops_detail
