// The runnable snippet of docs/losses.md: each loss on a small input, then the numerically hard
// cases (logits of +-1e4, probabilities of exactly 0 and 1) whose losses and gradients stay
// finite.  Run build/examples/losses_tour to see the output shown in the doc.
#include <cmath>
#include <cstdio>
#include <string>

#include "koan/koan.h"

using namespace koan;

namespace {

std::string vals(const Tensor& t, int decimals = 4) {
  Tensor c = contiguous(detach(t).to(DType::Float64));
  const double* p = c.data_ptr<double>();
  std::string s = c.dim() == 0 ? "" : "[";
  for (int64_t i = 0; i < c.numel(); ++i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s%.*f", i ? ", " : "", decimals, p[i]);
    s += buf;
  }
  return c.dim() == 0 ? s : s + "]";
}

void row(const char* name, const Tensor& v) { std::printf("  %-44s %s\n", name, vals(v).c_str()); }

}  // namespace

int main() {
  // ---- regression
  Tensor pred = tensor({0.0f, 0.5f, 2.0f, -3.0f}), y = tensor({0.0f, 0.0f, 0.0f, 0.0f});
  std::printf("regression: pred [0, 0.5, 2, -3], target 0 (reduction none, then mean)\n");
  row("mse_loss", mse_loss(pred, y, "none"));
  row("l1_loss", l1_loss(pred, y, "none"));
  row("smooth_l1_loss beta=1", smooth_l1_loss(pred, y, "none", 1.0));
  row("huber_loss delta=2", huber_loss(pred, y, "none", 2.0));
  row("smooth_l1_loss beta=2 (= huber / 2)", smooth_l1_loss(pred, y, "none", 2.0));
  row("mse_loss mean", mse_loss(pred, y));

  // ---- binary
  Tensor logits = tensor({-2.0f, 0.0f, 3.0f}), targets = tensor({0.0f, 1.0f, 1.0f});
  std::printf("\nbinary: logits [-2, 0, 3], targets [0, 1, 1]\n");
  row("binary_cross_entropy(sigmoid(x)) none", binary_cross_entropy(sigmoid(logits), targets, {}, "none"));
  row("binary_cross_entropy_with_logits none", binary_cross_entropy_with_logits(logits, targets, {}, {}, "none"));
  row("  with pos_weight 3", binary_cross_entropy_with_logits(logits, targets, {}, full({3}, 3.0), "none"));

  // ---- multi-class
  Tensor x = tensor({{2.0f, 1.0f, 0.1f}, {0.5f, 2.5f, 0.3f}, {1.0f, 1.0f, 1.0f}});
  Tensor lab = tensor({0, 1, 2}, DType::Int64);
  std::printf("\ncross entropy: logits [[2, 1, 0.1], [0.5, 2.5, 0.3], [1, 1, 1]], labels [0, 1, 2]\n");
  row("cross_entropy none", cross_entropy(x, lab, {.reduction = Reduction::None}));
  row("cross_entropy mean", cross_entropy(x, lab));
  row("nll_loss(log_softmax(x)) mean", nll_loss(log_softmax(x, 1), lab));
  Tensor cw = tensor({1.0f, 2.0f, 0.5f});
  row("weight [1, 2, 0.5] mean (/ sum of w_t = 3.5)", cross_entropy(x, lab, {.weight = cw}));
  row("ignore_index=2 mean (over 2 rows)",
      cross_entropy(x, lab, {.ignore_index = 2}));
  row("label_smoothing=0.1 none", cross_entropy(x, lab, {.label_smoothing = 0.1, .reduction = Reduction::None}));
  Tensor probs = tensor({{0.8f, 0.2f, 0.0f}, {0.0f, 1.0f, 0.0f}, {0.2f, 0.3f, 0.5f}});
  row("probability targets none", cross_entropy(x, probs, {.reduction = Reduction::None}));
  Tensor xg = x.detach().requires_grad_();
  cross_entropy(xg, lab, {.reduction = Reduction::Sum}).backward();
  row("d/dx sum, row 0 (softmax - onehot)", select(xg.grad(), 0, 0));
  row("softmax(x) row 0", select(softmax(x, 1), 0, 0));

  // ---- KL divergence
  Tensor p = tensor({{0.5f, 0.5f, 0.0f}, {0.1f, 0.2f, 0.7f}});
  Tensor logq = log(tensor({{0.25f, 0.25f, 0.5f}, {0.3f, 0.3f, 0.4f}}));
  std::printf("\nkl_div: input log q, q = [[.25, .25, .5], [.3, .3, .4]], target p = [[.5, .5, 0], [.1, .2, .7]]\n");
  row("kl_div none", kl_div(logq, p, "none"));
  row("kl_div batchmean (sum / 2)", kl_div(logq, p, "batchmean"));
  row("kl_div mean (sum / 6)", kl_div(logq, p, "mean"));
  Tensor logp = log(tensor({{0.5f, 0.5f, 1e-30f}, {0.1f, 0.2f, 0.7f}}));
  row("log_target=true batchmean", kl_div(logq, logp, "batchmean", true));

  // ---- extreme inputs
  std::printf("\nextreme logits (float32): loss, then gradient\n");
  Tensor big = tensor({1e4f, -1e4f, 1e4f, -1e4f}).requires_grad_();
  Tensor tb = tensor({1.0f, 0.0f, 0.0f, 1.0f});
  Tensor lb = binary_cross_entropy_with_logits(big, tb, {}, {}, "none");
  sum(lb).backward();
  row("bce_with_logits x=[1e4,-1e4,1e4,-1e4] y=[1,0,0,1]", lb);
  row("  gradient sigmoid(x) - y", big.grad());
  Tensor naive = neg(add(mul(tb, log(sigmoid(big))), mul(rsub(tb, 1), log(rsub(sigmoid(big), 1)))));
  row("  naive -y log s(x) - (1-y) log(1-s(x))", naive);
  row("binary_cross_entropy on p = [1, 0, 1, 0]", binary_cross_entropy(tensor({1.0f, 0.0f, 1.0f, 0.0f}), tb, {}, "none"));
  Tensor xe = tensor({{1e4f, -1e4f, 0.0f}, {-1e4f, 1e4f, 1e4f}}).requires_grad_();
  Tensor le = cross_entropy(xe, tensor({1, 1}, DType::Int64), {.reduction = Reduction::None});
  sum(le).backward();
  row("cross_entropy x=[[1e4,-1e4,0],[-1e4,1e4,1e4]] t=[1,1]", le);
  row("  gradient", xe.grad());
  row("  with label_smoothing 0.1", cross_entropy(xe, tensor({1, 1}, DType::Int64),
                                                   {.label_smoothing = 0.1, .reduction = Reduction::None}));
  Tensor naive_ce = neg(log(select(softmax(xe, 1), 1, 1)));
  row("  naive -log(softmax(x)[t])", naive_ce);
  Tensor xd = tensor({1e8f, 0.0f, -1e8f});
  row("cross_entropy float32 x=[1e8, 0, -1e8] t=0", cross_entropy(xd, scalar_tensor(0, DType::Int64)));
  return 0;
}
