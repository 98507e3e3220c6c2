// The runnable snippet of docs/layers.md: the Module system on the seed CNN, convolution and
// pooling output sizes, the input gradient of a convolution as a transposed convolution, batch
// norm's running statistics, dropout's scaling, embedding's row gradient, the LSTM cell's gate
// order, and masked attention.  Run build/examples/layers_tour to see the output shown in the doc.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "koan/koan.h"
#include "koan/nn/attention.h"
#include "koan/nn/dropout.h"
#include "koan/nn/embedding.h"
#include "koan/nn/norm.h"
#include "koan/nn/rnn.h"
#include "koan/ops/attention.h"
#include "koan/ops/dropout.h"
#include "koan/ops/norm.h"

using namespace koan;

namespace {

// "[a, b, c]" for a small tensor, any dims flattened, 4 decimals.
std::string vals(const Tensor& t, int decimals = 4) {
  Tensor c = contiguous(detach(t).to(DType::Float64));
  const double* p = c.data_ptr<double>();
  std::string s = "[";
  for (int64_t i = 0; i < c.numel(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.*f", i ? ", " : "", decimals, p[i]);
    s += buf;
  }
  return s + "]";
}

double max_diff(const Tensor& a, const Tensor& b) { return max(abs(sub(a, b))).to(DType::Float64).item<double>(); }

int64_t conv_out(int64_t h, int64_t k, int64_t s, int64_t p, int64_t d) { return (h + 2 * p - d * (k - 1) - 1) / s + 1; }

}  // namespace

int main() {
  manual_seed(0);

  // ---- 1. The Module system on the seed CNN (configs/fashion_mnist_cnn.json)
  auto cnn = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in = 1, .out = 32, .kernel = 3}),
      std::make_shared<nn::ReLU>(),
      std::make_shared<nn::MaxPool2d>(2),
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in = 32, .out = 64, .kernel = 3}),
      std::make_shared<nn::ReLU>(),
      std::make_shared<nn::MaxPool2d>(2),
      std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Linear>(nn::LinearOptions{.in = 1600, .out = 128}),
      std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(nn::LinearOptions{.in = 128, .out = 10})});
  std::printf("== 1. the seed CNN\n%s\n", cnn->summary({1, 1, 28, 28}).c_str());
  std::printf("state_dict keys:");
  for (auto& [name, t] : cnn->state_dict()) std::printf(" %s%s", name.c_str(), str(t.shape()).c_str());
  auto copy = std::dynamic_pointer_cast<nn::Sequential>(cnn->clone());
  Tensor w0 = cnn->named_parameters()[0].second, w0c = copy->named_parameters()[0].second;
  {
    NoGradGuard ng;
    add_(w0c, 1.0);  // changes the clone only
  }
  std::printf("\nclone: original 0.weight[0] %.4f, clone 0.weight[0] %.4f (independent storage)\n\n",
              reshape(w0, {-1})[0].item<float>(), reshape(w0c, {-1})[0].item<float>());

  // ---- 2. Convolution and pooling output sizes
  std::printf("== 2. output sizes for an input (1, 8, 28, 28)\n");
  Tensor x = randn({1, 8, 28, 28});
  struct Case {
    const char* what;
    std::shared_ptr<nn::Module> m;
    int64_t formula;
  };
  Case cases[] = {
      {"Conv2d k3", std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in = 8, .out = 16, .kernel = 3}), conv_out(28, 3, 1, 0, 1)},
      {"Conv2d k3 p1", std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in = 8, .out = 16, .kernel = 3, .padding = 1}), conv_out(28, 3, 1, 1, 1)},
      {"Conv2d k3 s2 p1", std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in = 8, .out = 16, .kernel = 3, .stride = 2, .padding = 1}), conv_out(28, 3, 2, 1, 1)},
      {"Conv2d k5 s3", std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in = 8, .out = 16, .kernel = 5, .stride = 3}), conv_out(28, 5, 3, 0, 1)},
      {"Conv2d k3 d2", std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in = 8, .out = 16, .kernel = 3, .dilation = 2}), conv_out(28, 3, 1, 0, 2)},
      {"Conv2d k4 \"same\"", std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in = 8, .out = 16, .kernel = 4, .padding = "same"}), 28},
      {"Conv2d k3 groups=8", std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in = 8, .out = 8, .kernel = 3, .padding = 1, .groups = 8}), conv_out(28, 3, 1, 1, 1)},
      {"ConvTranspose2d k4 s2 p1", std::make_shared<nn::ConvTranspose2d>(nn::ConvTranspose2dOptions{.in = 8, .out = 4, .kernel = 4, .stride = 2, .padding = 1}), (28 - 1) * 2 - 2 * 1 + 1 * (4 - 1) + 0 + 1},
      {"MaxPool2d 2", std::make_shared<nn::MaxPool2d>(2), conv_out(28, 2, 2, 0, 1)},
      {"MaxPool2d 3 s2", std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions{.kernel = 3, .stride = Int2(2)}), conv_out(28, 3, 2, 0, 1)},
      {"MaxPool2d 3 s2 ceil", std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions{.kernel = 3, .stride = Int2(2), .ceil_mode = true}), 14},
      {"AvgPool2d 3 s1 p1", std::make_shared<nn::AvgPool2d>(nn::AvgPool2dOptions{.kernel = 3, .stride = Int2(1), .padding = 1}), conv_out(28, 3, 1, 1, 1)},
      {"AdaptiveAvgPool2d 5", std::make_shared<nn::AdaptiveAvgPool2d>(nn::AdaptiveAvgPool2dOptions{.output_size = 5}), 5},
  };
  std::printf("%-26s %-18s %-8s %s\n", "layer", "output", "formula", "params");
  for (auto& c : cases) {
    Tensor y = c.m->forward(x);
    std::printf("%-26s %-18s %-8lld %lld\n", c.what, str(y.shape()).c_str(), static_cast<long long>(c.formula),
                static_cast<long long>(c.m->num_parameters()));
  }

  // The input gradient of a convolution is the transposed convolution of the output gradient.
  Tensor xi = randn({2, 3, 9, 9}).requires_grad_();
  Tensor w = randn({5, 3, 3, 3});
  Tensor y = conv2d(xi, w, {}, 2, 1);
  Tensor gy = randn(y.shape());
  sum(mul(y, gy)).backward();
  Tensor via_t = conv_transpose2d(gy, w, {}, 2, 1, /*output_padding=*/0);
  std::printf("\nconv2d k3 s2 p1 on (2, 3, 9, 9) -> %s; max |x.grad - conv_transpose2d(gy, w)| = %.1e\n\n",
              str(y.shape()).c_str(), max_diff(xi.grad(), via_t));

  // ---- 3. Batch norm: batch statistics in training, running ones in eval
  std::printf("== 3. BatchNorm1d(2), momentum 0.1\n");
  nn::BatchNorm1d bn({.num_features = 2});
  Tensor xb = tensor({{1.0f, 10.0f}, {2.0f, 20.0f}, {3.0f, 30.0f}, {4.0f, 40.0f}});
  Tensor yb = bn.forward(xb);
  std::printf("train output column 0   %s\n", vals(select(yb, 1, 0)).c_str());
  std::printf("running_mean            %s   (0.9 * 0 + 0.1 * batch mean [2.5, 25])\n", vals(bn.running_mean).c_str());
  std::printf("running_var             %s   (0.9 * 1 + 0.1 * unbiased var [1.6667, 166.67])\n",
              vals(bn.running_var).c_str());
  std::printf("num_batches_tracked     %lld\n", static_cast<long long>(bn.num_batches_tracked.item<int64_t>()));
  bn.eval();
  std::printf("eval output column 0    %s   ((x - 0.25) / sqrt(1.0667 + 1e-5))\n",
              vals(select(bn.forward(xb), 1, 0)).c_str());
  nn::LayerNorm ln({.normalized_shape = {4}});
  Tensor yl = ln.forward(tensor({{1.0f, 2.0f, 3.0f, 4.0f}}));
  std::printf("LayerNorm([4]) of [1, 2, 3, 4]: %s\n\n", vals(yl).c_str());

  // ---- 4. Dropout and embedding
  std::printf("== 4. Dropout(p=0.5) and Embedding\n");
  nn::Dropout drop({.p = 0.5});
  Tensor d = drop.forward(ones({10}));
  std::printf("train: %s, mean %.2f\n", vals(d, 0).c_str(), mean(d).item<float>());
  drop.eval();
  std::printf("eval:  %s\n", vals(drop.forward(ones({10})), 0).c_str());
  nn::Embedding emb({.num_embeddings = 5, .embedding_dim = 3});
  Tensor e = emb.forward(tensor({1, 3, 1}, DType::Int64));
  sum(e).backward();
  std::printf("embedding(5, 3) on indices [1, 3, 1] -> %s; weight.grad rows:\n", str(e.shape()).c_str());
  for (int64_t r = 0; r < 5; ++r) std::printf("  row %lld %s\n", static_cast<long long>(r), vals(select(emb.weight.grad(), 0, r), 0).c_str());
  std::printf("\n");

  // ---- 5. LSTM and GRU
  std::printf("== 5. recurrent layers\n");
  nn::LSTM lstm({.input_size = 4, .hidden_size = 3, .num_layers = 2, .batch_first = true});
  Tensor xs = randn({2, 5, 4});
  auto [out, state] = lstm.forward(xs, {});
  std::printf("LSTM(4, 3, num_layers=2, batch_first) on %s: output %s, h_n %s, c_n %s\n", str(xs.shape()).c_str(),
              str(out.shape()).c_str(), str(state.h.shape()).c_str(), str(state.c.shape()).c_str());
  std::printf("output[0, -1] %s = h_n[-1, 0] %s\n", vals(select(select(out, 0, 0), 0, 4)).c_str(),
              vals(select(select(state.h, 0, 1), 0, 0)).c_str());
  std::printf("parameters:");
  for (auto& [name, p] : lstm.named_parameters()) std::printf(" %s%s", name.c_str(), str(p.shape()).c_str());
  std::printf("\n");
  // One step of lstm_cell against the gate equations (chunk order i, f, g, o).
  auto wts = lstm.weights(0, 0);
  Tensor x0 = select(select(xs, 0, 0), 0, 0).unsqueeze(0), h0 = zeros({1, 3}), c0 = zeros({1, 3});
  auto [h1, c1] = lstm_cell(x0, {h0, c0}, wts[0], wts[1], wts[2], wts[3]);
  auto gates = chunk(add(add(matmul(x0, t(wts[0])), wts[2]), add(matmul(h0, t(wts[1])), wts[3])), 4, 1);
  Tensor i = sigmoid(gates[0]), f = sigmoid(gates[1]), g = tanh(gates[2]), o = sigmoid(gates[3]);
  Tensor c_ref = add(mul(f, c0), mul(i, g)), h_ref = mul(o, tanh(c_ref));
  std::printf("lstm_cell step 1: h %s, by the equations %s (max diff %.1e)\n", vals(h1).c_str(), vals(h_ref).c_str(),
              std::max(max_diff(h1, h_ref), max_diff(c1, c_ref)));
  nn::GRU gru({.input_size = 4, .hidden_size = 3, .bidirectional = true});
  auto [gout, gh] = gru.forward(randn({5, 2, 4}), Tensor());
  std::printf("GRU(4, 3, bidirectional) on (5, 2, 4): output %s, h_n %s\n\n", str(gout.shape()).c_str(),
              str(gh.shape()).c_str());

  // ---- 6. Attention
  std::printf("== 6. scaled dot-product attention\n");
  Tensor q = randn({1, 4, 8}), k = randn({1, 4, 8}), v = randn({1, 4, 8});
  auto [ao, aw] = scaled_dot_product_attention_weights(q, k, v, {}, 0.0, /*is_causal=*/true);
  std::printf("causal weights (rows: queries, columns: keys), output %s:\n", str(ao.shape()).c_str());
  for (int64_t r = 0; r < 4; ++r) std::printf("  %s\n", vals(select(select(aw, 0, 0), 0, r), 3).c_str());
  nn::MultiheadAttention mha({.embed_dim = 8, .num_heads = 2, .batch_first = true});
  Tensor seq = randn({3, 6, 8});
  Tensor pad = zeros({3, 6}, {.dtype = DType::Bool});
  auto [mo, mw] = mha.forward(seq, seq, seq, pad, true);
  std::printf("MultiheadAttention(8, heads 2) on (3, 6, 8): output %s, averaged weights %s, params %lld\n",
              str(mo.shape()).c_str(), str(mw.shape()).c_str(), static_cast<long long>(mha.num_parameters()));
  return 0;
}
