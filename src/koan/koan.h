// Everything koan offers, in one include.
//
//   #include <koan/koan.h>
//   using namespace koan;
//   Tensor w = randn({3, 1}).requires_grad_();
#pragma once

#include "koan/autograd/engine.h"
#include "koan/autograd/grad_mode.h"
#include "koan/core/dtype.h"
#include "koan/core/error.h"
#include "koan/core/parallel.h"
#include "koan/io/safetensors.h"
#include "koan/ops/binary.h"
#include "koan/ops/index.h"
#include "koan/ops/inplace.h"
#include "koan/ops/linalg.h"
#include "koan/ops/operators.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"
#include "koan/ops/sort.h"
#include "koan/ops/unary.h"
#include "koan/tensor/allocator.h"
#include "koan/tensor/creation.h"
#include "koan/tensor/tensor.h"
#include "koan/ops/join.h"
#include "koan/ops/pad.h"
#include "koan/ops/scan.h"
#include "koan/ops/softmax.h"
