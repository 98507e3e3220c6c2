// The op table: one row per op in src/koan/ops/op_list.h.
//
// A row says how to call the op on a list of inputs; the shared driver (op_table_test.cpp) then
// checks, for every case in the op's fixture: forward against PyTorch (float32 and float64),
// gradients against PyTorch, the same on non-contiguous inputs, and float64 gradcheck.  Error
// cases are calls that must throw a koan::Error.
//
//   KOAN_OP_ROW(exp, "unary", [](const Inputs& x) { return koan::exp(x[0]); });
#pragma once
#include <functional>
#include <map>
#include <string>

#include "support/testing.h"

namespace koan::testing {

using Inputs = std::vector<Tensor>;

struct OpRow {
  std::string op;
  std::string family;   // fixture file
  Fn fn;
  bool differentiable = true;
  // Inputs whose values must not be perturbed by gradcheck (indices, masks, ties): by index.
  std::vector<size_t> no_gradcheck_inputs;
  // Calls that must throw a koan::Error (wrong shapes, dtypes, dims).
  std::vector<std::function<void()>> errors;
  // Tolerance for float32 parity.
  double rtol32 = 1e-5, atol32 = 1e-6;
  // Skip the non-contiguous check (ops whose inputs are not dense tensors).
  bool check_noncontiguous = true;
};

std::map<std::string, OpRow>& op_rows();

struct RegisterRow {
  explicit RegisterRow(OpRow row);
};

}  // namespace koan::testing

#define KOAN_OP_ROW_CAT2(a, b) a##b
#define KOAN_OP_ROW_CAT(a, b) KOAN_OP_ROW_CAT2(a, b)
// KOAN_OP_ROW({.op = "exp", .family = "unary", .fn = ...})
#define KOAN_OP_ROW(...) \
  static ::koan::testing::RegisterRow KOAN_OP_ROW_CAT(koan_op_row_, __LINE__)(::koan::testing::OpRow __VA_ARGS__)
