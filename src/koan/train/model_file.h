// Models described by a JSON config, and model files that rebuild themselves without user code.
//
//   nlohmann::json cfg = nlohmann::json::parse(R"([
//     {"type": "Conv2d", "in": 1, "out": 32, "kernel": 3}, {"type": "ReLU"},
//     {"type": "MaxPool2d", "kernel": 2}, {"type": "Flatten"},
//     {"type": "Linear", "in": 5408, "out": 10}])");
//   auto net = train::build_sequential(cfg);
//   train::save_model("cnn.koan", *net, cfg);       // architecture + weights, one safetensors file
//   auto back = train::load_model("cnn.koan");      // a Sequential with the same weights
//
// The file is a standard safetensors file: the weights under their state_dict names, and the
// architecture JSON in __metadata__["koan.architecture"], so other safetensors tools read it too.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "koan/nn/container.h"

namespace koan::train {

// One layer from {"type": "...", options...}.  Known types: Linear, Conv1d, Conv2d,
// ConvTranspose2d, MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Dropout,
// BatchNorm1d, BatchNorm2d, LayerNorm, Embedding, LSTM, GRU (output sequence only),
// GlobalMaxPool1d, GlobalAvgPool1d, ReLU, LeakyReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Softmax,
// LogSoftmax, Identity.  An unknown type or key is a ValueError naming it.
std::shared_ptr<nn::Module> build_layer(const nlohmann::json& spec);
// A Sequential from a JSON array of layer specs (or an object with a "layers" array).
std::shared_ptr<nn::Sequential> build_sequential(const nlohmann::json& config);

void save_model(const std::string& path, const nn::Module& net, const nlohmann::json& architecture);
std::shared_ptr<nn::Sequential> load_model(const std::string& path);
// The architecture stored in a model file.
nlohmann::json model_architecture(const std::string& path);

}  // namespace koan::train
