#include "koan/train/checkpoint.h"

#include "koan/io/checkpoint.h"

namespace koan::train {

void save_checkpoint(const std::string& path, Model& model, int epochs_done) {
  io::Checkpoint ck;
  for (auto& [k, v] : model.net().state_dict()) ck.tensors["model"][k] = v;
  optim::StateDict os = model.optimizer().state_dict();
  if (!os.tensors.empty()) ck.tensors["optimizer"] = os.tensors;
  nlohmann::json scalars = nlohmann::json::object();
  for (auto& [k, v] : os.scalars) scalars[k] = v;
  ck.state = {{"epochs_done", epochs_done}, {"optimizer", scalars}};
  ck.save_default_rng();
  io::save_checkpoint(path, ck);
}

int load_checkpoint(const std::string& path, Model& model) {
  io::Checkpoint ck = io::load_checkpoint(path);
  KOAN_CHECK(ck.tensors.count("model"), IOError, "load_checkpoint: \"", path, "\" has no model weights");
  KOAN_CHECK(ck.state.contains("epochs_done") && ck.state["epochs_done"].is_number_integer(), IOError,
             "load_checkpoint: \"", path, "\" has no integer epochs_done");
  nn::StateDict sd(ck.tensors["model"].begin(), ck.tensors["model"].end());
  model.net().load_state_dict(sd);
  optim::StateDict os;
  if (ck.tensors.count("optimizer")) os.tensors = ck.tensors["optimizer"];
  if (ck.state.contains("optimizer"))
    for (auto& [k, v] : ck.state["optimizer"].items()) os.scalars[k] = v.get<double>();
  model.optimizer().load_state_dict(os);
  if (ck.rng.count("default")) ck.restore_default_rng();
  return ck.state["epochs_done"].get<int>();
}

}  // namespace koan::train
