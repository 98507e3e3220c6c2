// The driver for the op table: walks the op list, checks each op's row against its fixtures.
#include <algorithm>
#include <set>

#include "koan/ops/op_list.h"
#include "ops/op_table.h"

namespace koan::testing {

std::map<std::string, OpRow>& op_rows() {
  static std::map<std::string, OpRow> rows;
  return rows;
}

RegisterRow::RegisterRow(OpRow row) {
  std::string op = row.op;
  op_rows().emplace(op, std::move(row));
}

namespace {

std::vector<std::string> all_ops() {
  std::vector<std::string> v;
#define KOAN_NAME(x) v.push_back(#x);
  KOAN_OPS(KOAN_NAME)
#undef KOAN_NAME
  return v;
}

TEST(OpTable, EveryOpHasARow) {
  std::set<std::string> listed;
  for (auto& op : all_ops()) {
    listed.insert(op);
    EXPECT_TRUE(op_rows().count(op)) << "op \"" << op << "\" is in op_list.h but has no KOAN_OP_ROW";
  }
  for (auto& [op, row] : op_rows())
    EXPECT_TRUE(listed.count(op)) << "row \"" << op << "\" names no op in op_list.h";
}

std::vector<Tensor> load_inputs(const Fixture& fx, const std::string& c) {
  std::vector<Tensor> in;
  for (int i = 0; fx.has(c + "/in" + std::to_string(i)); ++i) in.push_back(fx.get(c + "/in" + std::to_string(i)));
  return in;
}

bool is_f64_case(const std::vector<Tensor>& in) {
  for (auto& t : in)
    if (t.dtype() == DType::Float64) return true;
  return false;
}

class OpParity : public ::testing::TestWithParam<std::string> {};

TEST_P(OpParity, MatchesPyTorch) {
  const std::string& op = GetParam();
  auto it = op_rows().find(op);
  ASSERT_NE(it, op_rows().end()) << "no row for " << op;
  const OpRow& row = it->second;
  Fixture fx(row.family);
  auto cases = fx.cases(op);
  ASSERT_FALSE(cases.empty()) << "fixture " << row.family << " has no cases for " << op
                              << "; add them to tests/fixtures/gen_fixtures.py";
  for (const std::string& c : cases) {
    SCOPED_TRACE(c);
    std::vector<Tensor> in = load_inputs(fx, c);
    bool f64 = is_f64_case(in);
    double rtol = f64 ? 1e-9 : row.rtol32, atol = f64 ? 1e-10 : row.atol32;
    // Forward (with gradient tracking on the inputs the fixture has gradients for).
    std::vector<Tensor> wrt;
    std::vector<size_t> wrt_idx;
    for (size_t i = 0; i < in.size(); ++i)
      if (fx.has(c + "/grad" + std::to_string(i))) {
        in[i].requires_grad_();
        wrt.push_back(in[i]);
        wrt_idx.push_back(i);
      }
    Tensor out = row.fn(in);
    EXPECT_EQ(out.dtype(), fx.get(c + "/out").dtype()) << "dtype differs from PyTorch's";
    EXPECT_TRUE(close(out, fx.get(c + "/out"), rtol, atol)) << "forward";
    // Gradients.
    if (!wrt.empty()) {
      auto grads = autograd::grad({out}, wrt, {fx.get(c + "/gout")}, false, false, true);
      for (size_t k = 0; k < wrt.size(); ++k) {
        Tensor expected = fx.get(c + "/grad" + std::to_string(wrt_idx[k]));
        Tensor g = grads[k].defined() ? grads[k] : zeros_like(expected);
        EXPECT_TRUE(close(g, expected, rtol, atol)) << "gradient of input " << wrt_idx[k];
      }
    }
    // Same values through non-contiguous inputs.
    if (row.check_noncontiguous) {
      std::vector<Tensor> nc;
      for (auto& t : in) nc.push_back(non_contiguous(t.detach()));
      Tensor out2 = row.fn(nc);
      EXPECT_TRUE(close(out2, fx.get(c + "/out"), rtol, atol)) << "forward on non-contiguous inputs";
    }
    // float64 gradcheck on the fixture's inputs.
    if (row.differentiable && f64 && !wrt.empty()) {
      // Inputs listed in no_gradcheck_inputs stay fixed: gradcheck perturbs only the others.
      std::vector<Tensor> fixed;
      std::vector<size_t> free_idx;
      std::vector<Tensor> gin;
      for (size_t i = 0; i < in.size(); ++i) {
        fixed.push_back(in[i].detach());
        bool hold = std::find(row.no_gradcheck_inputs.begin(), row.no_gradcheck_inputs.end(), i) !=
                    row.no_gradcheck_inputs.end();
        if (!hold) {
          free_idx.push_back(i);
          gin.push_back(in[i].detach());
        }
      }
      Fn partial = [&](const std::vector<Tensor>& v) {
        std::vector<Tensor> all = fixed;
        for (size_t k = 0; k < free_idx.size(); ++k) all[free_idx[k]] = v[k];
        return row.fn(all);
      };
      EXPECT_TRUE(gradcheck(partial, gin)) << "gradcheck";
    }
  }
  for (size_t i = 0; i < row.errors.size(); ++i)
    EXPECT_THROW(row.errors[i](), koan::Error) << "error case " << i << " did not throw";
}

INSTANTIATE_TEST_SUITE_P(Ops, OpParity, ::testing::ValuesIn(all_ops()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace koan::testing
