// Training checkpoints: the model, the optimizer (and its schedule's lr), the RNG and the epoch, in
// one atomically written file, so a run can stop anywhere and resume exactly.
//
//   train::save_checkpoint("run/ckpt.safetensors", model, /*epoch=*/2);
//   ...new process...
//   int next_epoch = train::load_checkpoint("run/ckpt.safetensors", model);
//   model.fit(x, y, {.epochs = 2, .initial_epoch = next_epoch});   // same weights as 4 epochs straight
#pragma once
#include <string>

#include "koan/train/model.h"

namespace koan::train {

// `epochs_done`: how many epochs the model has finished (the next fit's initial_epoch).
void save_checkpoint(const std::string& path, Model& model, int epochs_done);
// Loads into an already compiled model with the same architecture and optimizer type; returns
// the epochs done.  Mismatches are errors naming the key.
int load_checkpoint(const std::string& path, Model& model);

}  // namespace koan::train
