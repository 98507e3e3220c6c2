// The demo until the Fashion-MNIST job lands: logistic regression fitted by autograd and
// gradient descent on data it generates, printing what was learned next to the truth.
#include <cstdio>

#include "koan/koan.h"

using namespace koan;

int main() {
  manual_seed(0);
  const int64_t n = 2000, d = 3;
  Tensor true_w = tensor({2.0f, -3.0f, 0.5f}).reshape({3, 1});
  float true_b = 0.7f;
  Tensor x = randn({n, d});
  Tensor p = sigmoid(add(matmul(x, true_w), true_b));
  Tensor y = bernoulli(p);  // labels drawn from the true model

  Tensor w = zeros({d, 1}).requires_grad_();
  Tensor b = zeros({1}).requires_grad_();
  const double lr = 0.5;
  std::printf("logistic regression on %lld generated points, %lld features\n",
              static_cast<long long>(n), static_cast<long long>(d));
  for (int step = 0; step <= 300; ++step) {
    Tensor logits = add(matmul(x, w), b);
    // Binary cross-entropy from logits, stable form: max(z,0) - z*y + log(1 + exp(-|z|)).
    Tensor loss = mean(add(sub(relu(logits), mul(logits, y)), log1p(exp(neg(abs(logits))))));
    w.set_grad(Tensor());
    b.set_grad(Tensor());
    loss.backward();
    {
      NoGradGuard g;
      sub_(w, mul(w.grad(), lr));
      sub_(b, mul(b.grad(), lr));
    }
    if (step % 50 == 0) {
      NoGradGuard g;
      double acc = mean(to(eq(gt(logits, 0.0), gt(y, 0.5)), DType::Float32)).item<double>();
      std::printf("step %3d  loss %.4f  accuracy %.3f\n", step, loss.item<double>(), acc);
    }
  }
  std::printf("learned w = [%.3f, %.3f, %.3f], b = %.3f\n", w.at<float>({0, 0}), w.at<float>({1, 0}),
              w.at<float>({2, 0}), b.at<float>({0}));
  std::printf("true    w = [%.3f, %.3f, %.3f], b = %.3f\n", 2.0, -3.0, 0.5, true_b);
  return 0;
}
