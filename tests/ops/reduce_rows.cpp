// Op table rows for the reduce family (fixtures: tests/fixtures/reduce.safetensors, made by
// gen_reduce.py).  Per-case arguments arrive as int64 inputs: x[1] the dims (empty = all, or
// None for single-dim ops), x[2] keepdim, x[3] an op parameter (see gen_reduce.py).
#include <cmath>
#include <limits>

#include "ops/op_table.h"

namespace koan::testing {
namespace {

std::vector<int64_t> dims(const Tensor& t) { return t.to_vector<int64_t>(); }
int64_t dim(const Tensor& t) { return t.to_vector<int64_t>().at(0); }
bool keep(const Tensor& t) { return t.item<int64_t>() != 0; }

// norm's p arrives as 2p, with +-1e6 standing for +-infinity.
double norm_p(const Tensor& t) {
  int64_t p2 = t.item<int64_t>();
  if (p2 == 1000000) return std::numeric_limits<double>::infinity();
  if (p2 == -1000000) return -std::numeric_limits<double>::infinity();
  return static_cast<double>(p2) / 2;
}

Tensor f32(const Shape& s) { return randn(s); }
Tensor i64(const Shape& s) { return randint(-5, 5, s); }

KOAN_OP_ROW({.op = "sum", .family = "reduce",
             .fn = [](const Inputs& x) {
               auto d = dims(x[1]);
               return d.empty() && !keep(x[2]) ? koan::sum(x[0]) : koan::sum(x[0], d, keep(x[2]));
             },
             .errors = {[] { (void)koan::sum(f32({2, 3}), {2}); },
                        [] { (void)koan::sum(f32({2, 3}), {-3}); },
                        [] { (void)koan::sum(f32({2, 3}), {0, -2}); },
                        [] { (void)koan::sum(Tensor()); }}});

KOAN_OP_ROW({.op = "mean", .family = "reduce",
             .fn = [](const Inputs& x) {
               auto d = dims(x[1]);
               return d.empty() && !keep(x[2]) ? koan::mean(x[0]) : koan::mean(x[0], d, keep(x[2]));
             },
             .errors = {[] { (void)koan::mean(i64({2, 3})); },
                        [] { (void)koan::mean(ones({2}, {.dtype = DType::Bool})); },
                        [] { (void)koan::mean(f32({2, 3}), {1, 1}); },
                        [] { (void)koan::mean(f32({2, 3}), {5}); }}});

KOAN_OP_ROW({.op = "max", .family = "reduce",
             .fn = [](const Inputs& x) { return koan::max(x[0]); },
             .errors = {[] { (void)koan::max(f32({0})); }, [] { (void)koan::max(f32({3, 0})); }}});
KOAN_OP_ROW({.op = "min", .family = "reduce",
             .fn = [](const Inputs& x) { return koan::min(x[0]); },
             .errors = {[] { (void)koan::min(f32({0})); }, [] { (void)koan::min(f32({0, 2})); }}});

KOAN_OP_ROW({.op = "max_dim", .family = "reduce",
             .fn = [](const Inputs& x) { return koan::max(x[0], dim(x[1]), keep(x[2])).first; },
             .errors = {[] { (void)koan::max(f32({2, 3}), 2); },
                        [] { (void)koan::max(f32({2, 3}), -3); },
                        [] { (void)koan::max(f32({2, 0}), 1); }}});
KOAN_OP_ROW({.op = "min_dim", .family = "reduce",
             .fn = [](const Inputs& x) { return koan::min(x[0], dim(x[1]), keep(x[2])).first; },
             .errors = {[] { (void)koan::min(f32({2, 3}), 2); },
                        [] { (void)koan::min(f32({0, 3}), 0); }}});

Tensor arg_call(bool is_max, const Inputs& x) {
  auto d = dims(x[1]);
  std::optional<int64_t> od = d.empty() ? std::nullopt : std::optional<int64_t>(d[0]);
  return is_max ? koan::argmax(x[0], od, keep(x[2])) : koan::argmin(x[0], od, keep(x[2]));
}
KOAN_OP_ROW({.op = "argmax", .family = "reduce",
             .fn = [](const Inputs& x) { return arg_call(true, x); },
             .differentiable = false,
             .errors = {[] { (void)koan::argmax(f32({2, 3}), 3); },
                        [] { (void)koan::argmax(f32({0})); },
                        [] { (void)koan::argmax(f32({2, 0}), 1); }}});
KOAN_OP_ROW({.op = "argmin", .family = "reduce",
             .fn = [](const Inputs& x) { return arg_call(false, x); },
             .differentiable = false,
             .errors = {[] { (void)koan::argmin(f32({2, 3}), -3); },
                        [] { (void)koan::argmin(f32({0, 4})); }}});

KOAN_OP_ROW({.op = "amax", .family = "reduce",
             .fn = [](const Inputs& x) { return koan::amax(x[0], dims(x[1]), keep(x[2])); },
             .errors = {[] { (void)koan::amax(f32({2, 3}), {0, 0}); },
                        [] { (void)koan::amax(f32({2, 0}), {1}); },
                        [] { (void)koan::amax(f32({0})); },
                        [] { (void)koan::amax(f32({2, 3}), {2}); }}});
KOAN_OP_ROW({.op = "amin", .family = "reduce",
             .fn = [](const Inputs& x) { return koan::amin(x[0], dims(x[1]), keep(x[2])); },
             .errors = {[] { (void)koan::amin(f32({2, 3}), {-1, 1}); },
                        [] { (void)koan::amin(f32({0, 3}), {0}); }}});

KOAN_OP_ROW({.op = "prod", .family = "reduce",
             .fn = [](const Inputs& x) {
               auto d = dims(x[1]);
               return d.empty() && !keep(x[2]) ? koan::prod(x[0]) : koan::prod(x[0], d, keep(x[2]));
             },
             .errors = {[] { (void)koan::prod(f32({2, 3}), {2}); },
                        [] { (void)koan::prod(f32({2, 3}), {1, -1}); }}});

KOAN_OP_ROW({.op = "var", .family = "reduce",
             .fn = [](const Inputs& x) {
               return koan::var(x[0], dims(x[1]), static_cast<double>(x[3].item<int64_t>()), keep(x[2]));
             },
             .errors = {[] { (void)koan::var(i64({2, 3})); },
                        [] { (void)koan::var(f32({2, 3}), {2}); },
                        [] { (void)koan::var(f32({2, 3}), {0, 0}); }}});
KOAN_OP_ROW({.op = "std", .family = "reduce",
             .fn = [](const Inputs& x) {
               return koan::std(x[0], dims(x[1]), static_cast<double>(x[3].item<int64_t>()), keep(x[2]));
             },
             .errors = {[] { (void)koan::std(i64({2, 3}), {1}); },
                        [] { (void)koan::std(f32({2, 3}), {-3}); }}});

KOAN_OP_ROW({.op = "logsumexp", .family = "reduce",
             .fn = [](const Inputs& x) { return koan::logsumexp(x[0], dims(x[1]), keep(x[2])); },
             .errors = {[] { (void)koan::logsumexp(f32({2, 3}), {2}); },
                        [] { (void)koan::logsumexp(f32({2, 3}), {1, -1}); }}});

KOAN_OP_ROW({.op = "norm", .family = "reduce",
             .fn = [](const Inputs& x) { return koan::norm(x[0], norm_p(x[3]), dims(x[1]), keep(x[2])); },
             .errors = {[] { (void)koan::norm(i64({2, 3})); },
                        [] { (void)koan::norm(f32({2, 3}), 2, {2}); },
                        [] { (void)koan::norm(f32({2, 0}), std::numeric_limits<double>::infinity(), {1}); },
                        [] { (void)koan::norm(f32({2, 3}), std::nan("")); }}});

KOAN_OP_ROW({.op = "softmax", .family = "reduce",
             .fn = [](const Inputs& x) { return koan::softmax(x[0], dim(x[1])); },
             .errors = {[] { (void)koan::softmax(i64({2, 3}), 1); },
                        [] { (void)koan::softmax(f32({2, 3}), 2); },
                        [] { (void)koan::softmax(Tensor(), 0); }}});
KOAN_OP_ROW({.op = "log_softmax", .family = "reduce",
             .fn = [](const Inputs& x) { return koan::log_softmax(x[0], dim(x[1])); },
             .errors = {[] { (void)koan::log_softmax(i64({2, 3}), 0); },
                        [] { (void)koan::log_softmax(f32({2, 3}), -3); }}});

KOAN_OP_ROW({.op = "cumsum", .family = "reduce",
             .fn = [](const Inputs& x) { return koan::cumsum(x[0], dim(x[1])); },
             .errors = {[] { (void)koan::cumsum(f32({2, 3}), 2); },
                        [] { (void)koan::cumsum(f32({4}), -2); }}});

KOAN_OP_ROW({.op = "any", .family = "reduce",
             .fn = [](const Inputs& x) {
               auto d = dims(x[1]);
               return d.empty() && !keep(x[2]) ? koan::any(x[0]) : koan::any(x[0], d, keep(x[2]));
             },
             .differentiable = false,
             .errors = {[] { (void)koan::any(f32({2, 3}), {2}); },
                        [] { (void)koan::any(f32({2, 3}), {0, -2}); }}});
KOAN_OP_ROW({.op = "all", .family = "reduce",
             .fn = [](const Inputs& x) {
               auto d = dims(x[1]);
               return d.empty() && !keep(x[2]) ? koan::all(x[0]) : koan::all(x[0], d, keep(x[2]));
             },
             .differentiable = false,
             .errors = {[] { (void)koan::all(f32({2, 3}), {-3}); },
                        [] { (void)koan::all(f32({2, 3}), {1, 1}); }}});

}  // namespace
}  // namespace koan::testing
