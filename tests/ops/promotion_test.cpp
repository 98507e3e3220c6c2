// Type promotion of binary ops against PyTorch's rules (torch.result_type).  The expected dtypes
// are PyTorch 1.13's, read off torch and written down here; they are the spec, not koan's output.
//
// Three regimes: two dimensioned tensors (plain promote_types); a dimensioned tensor with a 0-d
// one (the 0-d operand only matters when it is of a higher category: bool < integer < floating,
// and then its own dtype is used); a tensor with a C++ scalar (a "wrapped number": higher
// category gives int64 or the default float32, never float64).
#include <array>

#include "support/testing.h"

namespace koan::testing {
namespace {

constexpr DType B = DType::Bool, U8 = DType::UInt8, I32 = DType::Int32, I64 = DType::Int64,
                F32 = DType::Float32, F64 = DType::Float64;
constexpr std::array<DType, 6> kAll = {B, U8, I32, I64, F32, F64};
using Table = std::array<std::array<DType, 6>, 6>;  // [row = a's dtype][column = b's dtype]

// torch.ones(2, dtype=a) + torch.ones(2, dtype=b)
constexpr Table kDimDim = {{
    {B, U8, I32, I64, F32, F64},        // bool
    {U8, U8, I32, I64, F32, F64},       // uint8
    {I32, I32, I32, I64, F32, F64},     // int32
    {I64, I64, I64, I64, F32, F64},     // int64
    {F32, F32, F32, F32, F32, F64},     // float32
    {F64, F64, F64, F64, F64, F64},     // float64
}};
// torch.ones(2, dtype=a) + torch.ones((), dtype=b)
constexpr Table kDimZero = {{
    {B, U8, I32, I64, F32, F64},        // bool: any higher category wins, with its own dtype
    {U8, U8, U8, U8, F32, F64},         // uint8: integers of any width do not widen it
    {I32, I32, I32, I32, F32, F64},     // int32
    {I64, I64, I64, I64, F32, F64},     // int64
    {F32, F32, F32, F32, F32, F32},     // float32: a float64 0-d does not widen it
    {F64, F64, F64, F64, F64, F64},     // float64
}};
// torch.ones((), dtype=a) + torch.ones((), dtype=b): 0-d with 0-d is plain promotion.
constexpr const Table& kZeroZero = kDimDim;

Tensor dim_t(DType t) { return ones({2}, {.dtype = t}); }
Tensor zero_t(DType t) { return ones({}, {.dtype = t}); }

std::string pair(DType a, DType b) { return str(name(a), " with ", name(b)); }

TEST(Promotion, DimensionedTensors) {
  for (size_t i = 0; i < 6; ++i)
    for (size_t j = 0; j < 6; ++j) {
      SCOPED_TRACE(pair(kAll[i], kAll[j]));
      EXPECT_EQ(promote_types(kAll[i], kAll[j]), kDimDim[i][j]);
      EXPECT_EQ(koan::add(dim_t(kAll[i]), dim_t(kAll[j])).dtype(), kDimDim[i][j]);
      EXPECT_EQ(koan::mul(dim_t(kAll[i]), dim_t(kAll[j])).dtype(), kDimDim[i][j]);
      EXPECT_EQ(koan::maximum(dim_t(kAll[i]), dim_t(kAll[j])).dtype(), kDimDim[i][j]);
    }
}

TEST(Promotion, ZeroDimOperandOnEitherSide) {
  for (size_t i = 0; i < 6; ++i)
    for (size_t j = 0; j < 6; ++j) {
      SCOPED_TRACE(pair(kAll[i], kAll[j]));
      EXPECT_EQ(koan::add(dim_t(kAll[i]), zero_t(kAll[j])).dtype(), kDimZero[i][j]) << "dim + 0-d";
      EXPECT_EQ(koan::add(zero_t(kAll[j]), dim_t(kAll[i])).dtype(), kDimZero[i][j]) << "0-d + dim";
      EXPECT_EQ(koan::add(zero_t(kAll[i]), zero_t(kAll[j])).dtype(), kZeroZero[i][j]) << "0-d + 0-d";
      // The result keeps the broadcast shape whatever decides the dtype.
      EXPECT_EQ(koan::add(dim_t(kAll[i]), zero_t(kAll[j])).shape(), Shape{2});
      EXPECT_EQ(koan::add(zero_t(kAll[i]), zero_t(kAll[j])).shape(), Shape{});
    }
}

TEST(Promotion, ZeroDimFloat64KeepsItsPrecisionOverIntegers) {
  // int64 [1, 2] + float64 0.1 (0-d): float64, so 1.1 is exact to double precision.
  Tensor a = koan::tensor({1.0, 2.0}, {.dtype = I64});
  Tensor b = full({}, 0.1, {.dtype = F64});
  Tensor y = koan::add(a, b);
  ASSERT_EQ(y.dtype(), F64);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{1.0 + 0.1, 2.0 + 0.1}));
}

TEST(Promotion, TensorWithScalar) {
  // torch.ones(2, dtype=a) + True / 3 / 2.5; the same for a 0-d tensor.
  constexpr std::array<std::array<DType, 3>, 6> kScalar = {{
      {B, I64, F32},     // bool
      {U8, U8, F32},     // uint8
      {I32, I32, F32},   // int32
      {I64, I64, F32},   // int64
      {F32, F32, F32},   // float32
      {F64, F64, F64},   // float64
  }};
  for (size_t i = 0; i < 6; ++i) {
    SCOPED_TRACE(name(kAll[i]));
    for (const Tensor& t : {dim_t(kAll[i]), zero_t(kAll[i])}) {
      EXPECT_EQ(koan::add(t, true).dtype(), kScalar[i][0]);
      EXPECT_EQ(koan::add(t, 3).dtype(), kScalar[i][1]);
      EXPECT_EQ(koan::add(t, 2.5).dtype(), kScalar[i][2]);
      EXPECT_EQ(koan::mul(t, 3).dtype(), kScalar[i][1]);
      EXPECT_EQ(koan::mul(t, 2.5).dtype(), kScalar[i][2]);
      if (kAll[i] != B) {  // bool - x is refused, as in PyTorch
        EXPECT_EQ(koan::sub(t, 3).dtype(), kScalar[i][1]);
        EXPECT_EQ(koan::rsub(t, 2.5).dtype(), kScalar[i][2]);
      }
    }
  }
}

TEST(Promotion, TrueDivisionAndAtan2GiveFloats) {
  // torch.div / torch.atan2: integer and bool results become float32; floats follow promotion.
  for (size_t i = 0; i < 6; ++i)
    for (size_t j = 0; j < 6; ++j) {
      SCOPED_TRACE(pair(kAll[i], kAll[j]));
      DType expect = is_floating(kDimDim[i][j]) ? kDimDim[i][j] : F32;
      EXPECT_EQ(koan::div(dim_t(kAll[i]), dim_t(kAll[j])).dtype(), expect);
      EXPECT_EQ(koan::atan2(dim_t(kAll[i]), dim_t(kAll[j])).dtype(), expect);
      DType expect0 = is_floating(kDimZero[i][j]) ? kDimZero[i][j] : F32;
      EXPECT_EQ(koan::div(dim_t(kAll[i]), zero_t(kAll[j])).dtype(), expect0);
    }
  EXPECT_EQ(koan::div(dim_t(I64), 2).dtype(), F32);
  EXPECT_EQ(koan::div(dim_t(F64), 2).dtype(), F64);
}

TEST(Promotion, PowOfScalarBase) {
  // torch.pow(2, t) / torch.pow(2.5, t)
  EXPECT_EQ(koan::pow(2, dim_t(I64)).dtype(), I64);
  EXPECT_EQ(koan::pow(2, dim_t(U8)).dtype(), U8);
  EXPECT_EQ(koan::pow(2.5, dim_t(I32)).dtype(), F32);
  EXPECT_EQ(koan::pow(2.5, dim_t(F64)).dtype(), F64);
  EXPECT_EQ(koan::pow(dim_t(I64), dim_t(F32)).dtype(), F32);
}

TEST(Promotion, ComparisonsPromoteThenGiveBool) {
  // The comparison runs in the promoted dtype: int64 2 < float32 2.5, and int 2 == float 2.0.
  Tensor i = koan::tensor({2.0, 3.0}, {.dtype = I64});
  Tensor f = koan::tensor({2.5, 3.0});
  EXPECT_EQ(koan::lt(i, f).to_vector<bool>(), (std::vector<bool>{true, false}));
  EXPECT_EQ(koan::eq(i, f).to_vector<bool>(), (std::vector<bool>{false, true}));
  // 0-d float operand: still compared as floating point.
  EXPECT_EQ(koan::lt(i, full({}, 2.5, {.dtype = F64})).to_vector<bool>(), (std::vector<bool>{true, false}));
  // uint8 200 vs int32 -1: promoted to int32, so 200 > -1 (no wrap-around).
  Tensor u = full({1}, 200, {.dtype = U8});
  EXPECT_TRUE(koan::gt(u, full({1}, -1, {.dtype = I32})).item<bool>());
  for (size_t a = 0; a < 6; ++a)
    for (size_t b = 0; b < 6; ++b) {
      SCOPED_TRACE(pair(kAll[a], kAll[b]));
      EXPECT_EQ(koan::le(dim_t(kAll[a]), zero_t(kAll[b])).dtype(), B);
      EXPECT_EQ(koan::logical_xor(dim_t(kAll[a]), dim_t(kAll[b])).dtype(), B);
    }
}

TEST(Promotion, WhereValues) {
  // torch.where(cond, a, b): a and b promote like a binary op (0-d rules included).
  Tensor c = ones({2}, {.dtype = B});
  for (size_t i = 0; i < 6; ++i)
    for (size_t j = 0; j < 6; ++j) {
      SCOPED_TRACE(pair(kAll[i], kAll[j]));
      EXPECT_EQ(koan::where(c, dim_t(kAll[i]), dim_t(kAll[j])).dtype(), kDimDim[i][j]);
      EXPECT_EQ(koan::where(c, dim_t(kAll[i]), zero_t(kAll[j])).dtype(), kDimZero[i][j]);
    }
  EXPECT_EQ(koan::where(c, dim_t(I64), 0.5).dtype(), F32);
  EXPECT_EQ(koan::where(c, dim_t(F64), 0.5).dtype(), F64);
  EXPECT_EQ(koan::where(c, dim_t(U8), 7).dtype(), U8);
}

TEST(Promotion, GradientComesBackInTheInputsDtype) {
  // float32 x * float64 0-d w computes in float32; each gradient has its own input's dtype.
  Tensor x = koan::tensor({1.0, 2.0}).requires_grad_();
  Tensor w = full({}, 3.0, {.dtype = F64}).requires_grad_();
  Tensor y = koan::mul(x, w);
  ASSERT_EQ(y.dtype(), F32);
  auto g = autograd::grad({koan::sum(y)}, {x, w});
  EXPECT_EQ(g[0].dtype(), F32);
  EXPECT_EQ(g[1].dtype(), F64);
  EXPECT_EQ(g[1].shape(), Shape{});
  EXPECT_DOUBLE_EQ(g[1].item<double>(), 3.0);
}

}  // namespace
}  // namespace koan::testing
