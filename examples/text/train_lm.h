// Training a character language model on random windows for a fixed time (or number of steps),
// with the held-out loss measured every `eval_every` steps: the loop both char-LM projects use.
//
//   text::LMTrainOptions o{.batch = 64, .context = 128, .lr = 2e-3, .clip = 1.0, .minutes = 10};
//   text::LMTrainResult r = text::train_char_model(*model, corpus, o);
//   r.history.plot_svg("curves.svg");      // train loss and held-out loss per evaluation
#pragma once
#include <cstdint>
#include <iostream>
#include <vector>

#include "koan/train/history.h"
#include "text/char_corpus.h"
#include "text/char_model.h"

namespace text {

struct LMTrainOptions {
  int64_t batch = 64;
  int64_t context = 128;
  double lr = 2e-3;          // Adam
  double clip = 1.0;         // global gradient norm; 0: none
  double minutes = 10;       // training budget in CPU minutes of this process (evaluations not counted) ...
  int64_t max_steps = 0;     // ... or a number of steps (> 0 stops there, whichever comes first)
  int64_t eval_every = 250;  // steps between held-out evaluations (and one at the end)
  int64_t eval_chars = 0;    // evaluate on the first N held-out characters; 0: all of them
  uint64_t seed = 0;         // window offsets
  std::ostream* out = &std::cout;  // progress lines; nullptr: silent
};

struct LMTrainResult {
  // Per evaluation: loss (train, mean since the previous one) and val_loss (held-out), at these
  // steps and CPU seconds of training.
  koan::train::History history;
  std::vector<int64_t> eval_steps;
  std::vector<double> eval_seconds;
  double heldout_nats = 0;       // at the end, on all eval characters
  int64_t steps = 0;
  double train_seconds = 0;      // wall time of the training steps (evaluations excluded)
  double train_cpu_seconds = 0;  // CPU time of the process during those steps (the budget)
};

LMTrainResult train_char_model(CharModel& model, const CharCorpus& corpus, const LMTrainOptions& o);

}  // namespace text
