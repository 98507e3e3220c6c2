// Checkpoints: everything needed to resume training, in one safetensors file.
//
//   io::Checkpoint ckpt;
//   ckpt.tensors["model"] = model->state_dict();          // any std::map<std::string, Tensor>
//   ckpt.tensors["optimizer"] = optimizer_state_tensors;
//   ckpt.state = {{"epoch", 3}, {"step", 2814}, {"optimizer", {{"lr", 1e-3}, {"betas", {0.9, 0.999}}}}};
//   ckpt.save_default_rng();                               // koan::default_generator()
//   io::save_checkpoint("run/ckpt.safetensors", ckpt);     // atomic: old or new, never half
//
//   io::Checkpoint back = io::load_checkpoint("run/ckpt.safetensors");
//   back.restore_default_rng();
//   int epoch = back.state.at("epoch");
//
// The file is an ordinary safetensors file (readable by any safetensors tool): tensor "g/name" is
// tensor `name` of group `g`, and __metadata__["koan.checkpoint"] holds a JSON document with the
// format version, each group's tensor names, `state` and the generator states.  io/ knows tensors
// and JSON only: turning modules and optimizers into these maps is the caller's business.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "koan/tensor/random.h"
#include "koan/tensor/tensor.h"

namespace koan::io {

// A Generator's position in its stream: restoring it replays the same numbers.
struct GeneratorState {
  uint64_t seed = 0, offset = 0;
  bool operator==(const GeneratorState&) const = default;
};

inline constexpr int kCheckpointVersion = 1;
// The __metadata__ key that carries the checkpoint's JSON.
inline constexpr const char* kCheckpointKey = "koan.checkpoint";

struct Checkpoint {
  // Named groups of named tensors ("model", "optimizer", ...).  Group names are non-empty and
  // contain no '/'; tensor names are free.
  std::map<std::string, std::map<std::string, Tensor>> tensors;
  // Scalars, strings and nested values: hyper-parameters, scheduler state, epoch, step.
  nlohmann::json state = nlohmann::json::object();
  // Generator states by name; "default" is koan::default_generator().
  std::map<std::string, GeneratorState> rng;

  void save_rng(const std::string& name, const Generator& g);
  // Sets g to the saved state; ValueError if the checkpoint has no generator `name`.
  void restore_rng(const std::string& name, Generator& g) const;
  void save_default_rng() { save_rng("default", default_generator()); }
  void restore_default_rng() const { restore_rng("default", default_generator()); }
};

void save_checkpoint(const std::string& path, const Checkpoint& ckpt);
// Validates the file and its JSON; any inconsistency is an IOError naming the path.
Checkpoint load_checkpoint(const std::string& path);

// The same on in-memory bytes (`what` names the source in errors).
std::string serialize_checkpoint(const Checkpoint& ckpt);
Checkpoint parse_checkpoint(const std::string& bytes, const std::string& what = "buffer");

}  // namespace koan::io
