// Op table rows for the rnn family (fixtures: tests/fixtures/rnn.safetensors, made by gen_rnn.py).
// An empty input tensor stands for "none" (no bias, no mask); per-case flags travel as int64.
#include "koan/ops/attention.h"
#include "koan/ops/rnn.h"
#include "ops/op_table.h"

namespace koan::testing {
namespace {

Tensor opt(const Tensor& t) { return t.numel() ? t : Tensor(); }
Tensor f32(const Shape& s) { return randn(s); }
Tensor f64(const Shape& s) { return randn(s, {.dtype = DType::Float64}); }

KOAN_OP_ROW({.op = "rnn_tanh_cell", .family = "rnn",
             .fn = [](const Inputs& x) { return rnn_tanh_cell(x[0], x[1], x[2], x[3], opt(x[4]), opt(x[5])); },
             .errors = {[] { (void)rnn_tanh_cell(f32({2, 4}), f32({2, 3}), f32({3, 5}), f32({3, 3})); },
                        [] { (void)rnn_tanh_cell(f32({2, 4}), f64({2, 3}), f32({3, 4}), f32({3, 3})); },
                        [] { (void)rnn_tanh_cell(f32({1, 2, 4}), f32({2, 3}), f32({3, 4}), f32({3, 3})); },
                        [] { (void)rnn_tanh_cell(f32({2, 4}), f32({5, 3}), f32({3, 4}), f32({3, 3})); }}});

KOAN_OP_ROW({.op = "rnn_relu_cell", .family = "rnn",
             .fn = [](const Inputs& x) { return rnn_relu_cell(x[0], x[1], x[2], x[3], opt(x[4]), opt(x[5])); },
             .errors = {[] { (void)rnn_relu_cell(f32({2, 4}), f32({2, 3}), f32({3, 4}), f32({3, 4})); },
                        [] { (void)rnn_relu_cell(f32({2, 4}), f32({2, 3}), f32({3, 4}), f32({3, 3}), f32({4})); }}});

KOAN_OP_ROW({.op = "lstm_cell", .family = "rnn",
             .fn = [](const Inputs& x) {
               auto [h, c] = lstm_cell(x[0], {x[1], x[2]}, x[3], x[4], opt(x[5]), opt(x[6]));
               return cat({h, c}, -1);
             },
             .errors = {[] { (void)lstm_cell(f32({2, 4}), {f32({2, 3}), f32({2, 3})}, f32({12, 4}), f32({3, 3})); },
                        [] { (void)lstm_cell(f32({2, 4}), {f32({2, 3}), f32({2, 4})}, f32({12, 4}), f32({12, 3})); },
                        [] { (void)lstm_cell(f32({2, 4}), {f32({2, 3}), f32({2, 3})}, f32({12, 4}), f32({12, 3}),
                                             f32({12}), f32({9})); }}});

KOAN_OP_ROW({.op = "gru_cell", .family = "rnn",
             .fn = [](const Inputs& x) { return gru_cell(x[0], x[1], x[2], x[3], opt(x[4]), opt(x[5])); },
             .errors = {[] { (void)gru_cell(randint(0, 3, {2, 4}), Tensor(), f32({9, 4}), f32({9, 3})); },
                        [] { (void)gru_cell(f32({4}), f32({2, 3}), f32({9, 4}), f32({9, 3})); },
                        [] { (void)gru_cell(f32({2, 4}), f32({2, 3}), f32({12, 4}), f32({12, 3})); }}});

RNNCellKind kind_of(const Tensor& p) {
  const RNNCellKind kinds[] = {RNNCellKind::Tanh, RNNCellKind::Relu, RNNCellKind::LSTM, RNNCellKind::GRU};
  return kinds[p.to_vector<int64_t>().at(0)];
}

KOAN_OP_ROW({.op = "rnn_sequence", .family = "rnn",
             .fn = [](const Inputs& x) {
               auto r = rnn_sequence(kind_of(x[5]), x[0], opt(x[1]), opt(x[2]), x[3], opt(x[4]),
                                     x[6].to_vector<int64_t>().at(0) != 0);
               std::vector<Tensor> flat;
               for (auto& t : r) flat.push_back(reshape(t, {-1}));
               return cat(flat, 0);
             },
             .errors = {[] { (void)rnn_sequence(RNNCellKind::LSTM, f32({3, 2, 12}), Tensor(), Tensor(), f32({12, 4})); },
                        [] { (void)rnn_sequence(RNNCellKind::GRU, f32({2, 9}), Tensor(), Tensor(), f32({9, 3})); },
                        [] { (void)rnn_sequence(RNNCellKind::GRU, f32({0, 2, 9}), Tensor(), Tensor(), f32({9, 3})); },
                        [] { (void)rnn_sequence(RNNCellKind::LSTM, f32({3, 2, 12}), f32({3, 3}), Tensor(), f32({12, 3})); },
                        [] { (void)rnn_sequence(RNNCellKind::Tanh, f32({3, 2, 3}), Tensor(), f32({2, 3}), f32({3, 3})); },
                        [] { (void)rnn_sequence(RNNCellKind::Tanh, f32({3, 2, 3}), Tensor(), Tensor(), f64({3, 3})); },
                        [] { (void)rnn_sequence(RNNCellKind::LSTM, f32({3, 2, 12}), Tensor(), Tensor(), f32({12, 3}),
                                                f32({9})); }}});

KOAN_OP_ROW({.op = "scaled_dot_product_attention", .family = "rnn",
             .fn = [](const Inputs& x) {
               return scaled_dot_product_attention(x[0], x[1], x[2], opt(x[3]), 0.0, x[4].item<int64_t>() != 0);
             },
             .errors = {[] { (void)scaled_dot_product_attention(f32({2, 3, 4}), f32({2, 5, 3}), f32({2, 5, 4})); },
                        [] { (void)scaled_dot_product_attention(f32({2, 3, 4}), f32({2, 5, 4}), f32({2, 6, 4})); },
                        [] { (void)scaled_dot_product_attention(f32({3, 4}), f32({5, 4}), f32({5, 4}),
                                                                ones({3, 5}, {.dtype = DType::Bool}), 0.0, true); },
                        [] { (void)scaled_dot_product_attention(f32({3, 4}), f64({5, 4}), f32({5, 4})); },
                        [] { (void)scaled_dot_product_attention(f32({3, 4}), f32({5, 4}), f32({5, 4}), f64({3, 5})); },
                        [] { (void)scaled_dot_product_attention(f32({4}), f32({5, 4}), f32({5, 4})); }}});

KOAN_OP_ROW({.op = "unbind", .family = "rnn",
             .fn = [](const Inputs& x) {
               auto u = unbind(x[0], x[1].to_vector<int64_t>().at(0));
               std::vector<Tensor> every_other;
               for (size_t i = 0; i < u.size(); i += 2) every_other.push_back(u[i]);
               return stack(every_other, 0);
             },
             .errors = {[] { (void)unbind(f32({})); }, [] { (void)unbind(f32({2, 3}), 2); }}});

}  // namespace
}  // namespace koan::testing
