#include "text/train_lm.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <vector>

#include "koan/core/error.h"
#include "koan/ops/loss.h"
#include "koan/ops/shape.h"
#include "koan/optim/adam.h"
#include "koan/optim/clip_grad.h"

using namespace koan;

namespace text {
namespace {

// CPU seconds of this process (all threads): the budget is CPU time, as the reference's
// "10 CPU-minutes", so other programs sharing the machine do not shorten a run.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

LMTrainResult train_char_model(CharModel& model, const CharCorpus& corpus, const LMTrainOptions& o) {
  KOAN_CHECK(o.minutes > 0 || o.max_steps > 0, ValueError, "train_char_model: give minutes > 0 or max_steps > 0");
  KOAN_CHECK(o.eval_every > 0, ValueError, "train_char_model: eval_every must be positive, got ", o.eval_every);
  using clock = std::chrono::steady_clock;
  const std::vector<int64_t> eval_ids =
      o.eval_chars > 0 && o.eval_chars < static_cast<int64_t>(corpus.heldout.size())
          ? std::vector<int64_t>(corpus.heldout.begin(), corpus.heldout.begin() + o.eval_chars)
          : corpus.heldout;
  optim::Adam opt(model.parameters(), {.lr = o.lr});
  Generator gen(o.seed);
  LMTrainResult r;
  model.train();
  double since_sum = 0;
  int64_t since_n = 0;
  auto budget_left = [&] {
    if (o.max_steps > 0 && r.steps >= o.max_steps) return false;
    return o.minutes <= 0 || r.train_cpu_seconds < o.minutes * 60;
  };
  while (budget_left()) {
    const auto t0 = clock::now();
    const double c0 = cpu_seconds();
    Tensor x, y;
    random_windows(corpus.train, o.batch, o.context, gen, x, y);
    Tensor logits = model.forward(x);
    Tensor loss = cross_entropy(reshape(logits, {o.batch * o.context, model.vocab_size()}), reshape(y, {-1}));
    opt.zero_grad();
    loss.backward();
    if (o.clip > 0) optim::clip_grad_norm_(model.parameters(), o.clip);
    opt.step();
    since_sum += loss.item<float>();
    ++since_n;
    ++r.steps;
    r.train_seconds += std::chrono::duration<double>(clock::now() - t0).count();
    r.train_cpu_seconds += cpu_seconds() - c0;
    if (r.steps % o.eval_every == 0 || !budget_left()) {
      const double val = model.heldout_nats(eval_ids, o.context, o.batch);
      r.history.append({{"loss", since_sum / static_cast<double>(since_n)},
                        {"val_loss", val}});
      r.eval_steps.push_back(r.steps);
      r.eval_seconds.push_back(r.train_cpu_seconds);
      if (o.out)
        *o.out << str("step ", r.steps, "  ", static_cast<int64_t>(r.train_cpu_seconds), " s  train loss ")
               << std::fixed << std::setprecision(4) << since_sum / static_cast<double>(since_n)
               << "  held-out " << val << " nats/char" << std::endl;
      r.heldout_nats = val;
      since_sum = 0;
      since_n = 0;
    }
  }
  return r;
}

}  // namespace text
