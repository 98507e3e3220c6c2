#include "text/char_model.h"

#include <algorithm>

#include "koan/autograd/grad_mode.h"
#include "koan/core/error.h"
#include "koan/ops/loss.h"
#include "koan/ops/shape.h"
#include "koan/tensor/creation.h"
#include "text/char_corpus.h"

using namespace koan;

namespace text {
namespace {

// Summed cross-entropy of windows of equal length l starting at `starts`.
double window_nll(CharModel& m, const std::vector<int64_t>& ids, const std::vector<int64_t>& starts, int64_t l) {
  const auto b = static_cast<int64_t>(starts.size());
  std::vector<int64_t> xs(static_cast<size_t>(b * l)), ys(xs.size());
  for (int64_t i = 0; i < b; ++i) {
    std::copy_n(ids.begin() + starts[static_cast<size_t>(i)], l, xs.begin() + i * l);
    std::copy_n(ids.begin() + starts[static_cast<size_t>(i)] + 1, l, ys.begin() + i * l);
  }
  Tensor logits = m.forward(from_vector(xs, Shape{b, l}));
  Tensor loss = cross_entropy(reshape(logits, {b * l, m.vocab_size()}), from_vector(ys),
                              {.reduction = Reduction::Sum});
  return to(loss, DType::Float64).item<double>();
}

}  // namespace

double CharModel::heldout_nats(const std::vector<int64_t>& ids, int64_t context, int64_t batch) {
  const auto n = static_cast<int64_t>(ids.size());
  KOAN_CHECK(n >= 2 && context > 0 && batch > 0, ValueError, "heldout_nats: ", n, " ids, context ", context,
             ", batch ", batch);
  const bool was_training = is_training();
  eval();
  NoGradGuard no_grad;
  double nll = 0;
  const int64_t full = (n - 1) / context;  // windows of exactly `context` targets
  for (int64_t w = 0; w < full; w += batch) {
    std::vector<int64_t> starts;
    for (int64_t i = w; i < std::min(full, w + batch); ++i) starts.push_back(i * context);
    nll += window_nll(*this, ids, starts, context);
  }
  if (const int64_t rest = (n - 1) - full * context; rest > 0) nll += window_nll(*this, ids, {full * context}, rest);
  train(was_training);
  return nll / static_cast<double>(n - 1);
}

std::vector<int64_t> CharModel::generate(const std::vector<int64_t>& prime, int64_t n, double temperature,
                                         Generator& gen, int64_t context) {
  KOAN_CHECK(!prime.empty(), ValueError, "generate: the prime text is empty");
  const bool was_training = is_training();
  eval();
  NoGradGuard no_grad;
  std::vector<int64_t> seq = prime;
  for (int64_t i = 0; i < n; ++i) {
    const auto l = std::min<int64_t>(context, static_cast<int64_t>(seq.size()));
    std::vector<int64_t> window(seq.end() - l, seq.end());
    Tensor logits = forward(from_vector(window, Shape{1, l}));
    seq.push_back(sample_index(select(select(logits, 0, 0), 0, l - 1), temperature, gen));
  }
  train(was_training);
  return {seq.begin() + static_cast<int64_t>(prime.size()), seq.end()};
}

}  // namespace text
