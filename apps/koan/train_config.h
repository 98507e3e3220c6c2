// The `koan train CONFIG` job: a JSON config names the model, data, optimizer, schedule, epochs
// and callbacks; the job trains, evaluates, and writes the model, history CSV and curves.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace koan::app {

struct TrainResult {
  std::string model_path, history_path, curves_path, checkpoint_path;
  double test_loss = 0, test_accuracy = 0;
  double seconds = 0;
};

// Runs the job described by the config file at `path`; `overrides` (e.g. {"epochs": 1}) replace
// top-level keys.  Errors name the offending key and what was expected.  A checkpoint is written
// after every epoch; `resume` loads it and trains the remaining epochs, continuing the history.
TrainResult run_train(const std::string& path, const nlohmann::json& overrides = {}, bool resume = false);

}  // namespace koan::app
