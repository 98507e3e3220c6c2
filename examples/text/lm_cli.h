// The command-line options both character-level LM examples (text, transformer) share.
#pragma once
#include <CLI/CLI.hpp>

#include "text/train_lm.h"

namespace text {

// --minutes --steps --eval-every --eval-chars --batch --context --clip, bound to `o`.
inline void add_lm_train_options(CLI::App& app, LMTrainOptions& o) {
  app.add_option("--minutes", o.minutes, "CPU minutes of training per model (evaluations not counted)");
  app.add_option("--steps", o.max_steps, "Stop after this many steps (0: only the time limit)");
  app.add_option("--eval-every", o.eval_every, "Steps between held-out evaluations");
  app.add_option("--eval-chars", o.eval_chars, "Evaluate during training on the first N held-out chars (0: all)");
  app.add_option("--batch", o.batch, "Windows per step");
  app.add_option("--context", o.context, "Characters per window (a Transformer's positions)");
  app.add_option("--clip", o.clip, "Gradient norm clipping (0: none)");
}

}  // namespace text
