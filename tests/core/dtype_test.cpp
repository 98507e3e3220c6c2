#include "support/testing.h"

namespace koan {
namespace {

TEST(DType, PromotionFollowsPyTorch) {
  EXPECT_EQ(promote_types(DType::Int64, DType::Float32), DType::Float32);
  EXPECT_EQ(promote_types(DType::Float32, DType::Float64), DType::Float64);
  EXPECT_EQ(promote_types(DType::Bool, DType::UInt8), DType::UInt8);
  EXPECT_EQ(promote_types(DType::UInt8, DType::Int32), DType::Int32);
  EXPECT_EQ(promote_types(DType::Int32, DType::Int64), DType::Int64);
  EXPECT_EQ(promote_types(DType::Bool, DType::Float64), DType::Float64);
  EXPECT_EQ(promote_types(DType::Int64, DType::Int64), DType::Int64);
}

TEST(DType, MixedTensorOpsPromote) {
  Tensor i = arange(3);                       // int64
  Tensor f = ones({3});                       // float32
  EXPECT_EQ(add(i, f).dtype(), DType::Float32);
  EXPECT_EQ(mul(i, 2).dtype(), DType::Int64);
  EXPECT_EQ(mul(i, 2.5).dtype(), DType::Float32);
  EXPECT_EQ(div(i, i).dtype(), DType::Float32);  // true division
  // A 0-d float64 does not widen a float32 tensor (torch's rule).
  EXPECT_EQ(add(f, scalar_tensor(1.0, DType::Float64)).dtype(), DType::Float32);
  EXPECT_EQ(add(f, ones({3}, {.dtype = DType::Float64})).dtype(), DType::Float64);
  EXPECT_EQ(gt(i, f).dtype(), DType::Bool);
}

TEST(DType, UnsupportedDTypeIsATypedError) {
  EXPECT_THROW(mean(arange(4)), DTypeError);
  EXPECT_THROW(randn({2}, {.dtype = DType::Int64}), DTypeError);
  EXPECT_THROW(arange(3).requires_grad_(), DTypeError);
}

TEST(Shape, BroadcastErrorsNameTheShapes) {
  try {
    add(ones({2, 3}), ones({4}));
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("add"), std::string::npos) << m;
    EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[4]"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace koan
