// Models from JSON configs: Keras-style initialisers, errors that name the key, file round trip.
#include <cmath>
#include <filesystem>

#include "koan/koan.h"
#include "koan/train/model_file.h"
#include "support/testing.h"

namespace koan {
namespace {

using json = nlohmann::json;

double item(const Tensor& t) { return to(t, DType::Float64).item<double>(); }

Tensor param(const nn::Module& m, const std::string& name) {
  for (auto& [k, v] : m.named_parameters())
    if (k == name) return v;
  ADD_FAILURE() << "no parameter " << name;
  return Tensor();
}

TEST(ModelConfig, KerasInitialisersSetWeightsAndBiases) {
  manual_seed(0);
  auto net = train::build_sequential(json::parse(R"([
    {"type": "Conv2d", "in": 3, "out": 64, "kernel": 3, "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"},
    {"type": "Flatten"},
    {"type": "Linear", "in": 400, "out": 300, "kernel_initializer": "he_normal", "bias_initializer": "ones"},
    {"type": "Linear", "in": 300, "out": 10}])"));
  // glorot_uniform: U(-b, b) with b = sqrt(6 / (fan_in + fan_out)), fans counting the 3x3 field.
  const double b = std::sqrt(6.0 / (3 * 9 + 64 * 9));
  EXPECT_LE(item(amax(abs(param(*net, "0.weight")))), b);
  EXPECT_GT(item(amax(abs(param(*net, "0.weight")))), 0.95 * b);
  EXPECT_EQ(item(amax(abs(param(*net, "0.bias")))), 0.0);
  // he_normal: N(0, 2 / fan_in).
  EXPECT_NEAR(item(koan::std(param(*net, "2.weight"))), std::sqrt(2.0 / 400), 0.02 * std::sqrt(2.0 / 400));
  EXPECT_EQ(item(amin(param(*net, "2.bias"))), 1.0);
  // Without the keys the layer keeps PyTorch's defaults: bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  EXPECT_LE(item(amax(abs(param(*net, "3.bias")))), 1 / std::sqrt(300.0));
  EXPECT_GT(item(amax(abs(param(*net, "3.bias")))), 0.0);
}

TEST(ModelConfig, BadInitialiserNamesLayerKeyAndValue) {
  try {
    train::build_sequential(json::parse(R"([{"type": "Linear", "in": 4, "out": 2, "kernel_initializer": "glorot"}])"));
    FAIL() << "expected a ValueError";
  } catch (const ValueError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("layer 0"), std::string::npos) << m;
    EXPECT_NE(m.find("kernel_initializer"), std::string::npos) << m;
    EXPECT_NE(m.find("\"glorot\""), std::string::npos) << m;
  }
  // A layer without weights cannot take one.
  EXPECT_THROW(train::build_sequential(json::parse(R"([{"type": "ReLU", "kernel_initializer": "zeros"}])")), ValueError);
  EXPECT_THROW(train::build_sequential(json::parse(R"([{"type": "Linear", "in": 4, "out": 2, "bias": false,
                                                       "bias_initializer": "zeros"}])")), ValueError);
}

TEST(ModelConfig, FileRoundTripKeepsWeightsNotReinitialised) {
  manual_seed(1);
  json arch = json::parse(R"([{"type": "Linear", "in": 5, "out": 3, "kernel_initializer": "glorot_uniform"}, {"type": "Tanh"}])");
  auto net = train::build_sequential(arch);
  auto path = (koan::testing::temp_path("koan_model_file_test.koan")).string();
  train::save_model(path, *net, arch);
  manual_seed(2);
  auto back = train::load_model(path);
  EXPECT_TRUE(testing::close(param(*back, "0.weight"), param(*net, "0.weight"), 0, 0));
  EXPECT_EQ(train::model_architecture(path), arch);
  std::filesystem::remove(path);
}

// Every type the header lists builds; shapes as torch gives them.
TEST(ModelConfig, OneDimensionalAndTransposedLayersBuild) {
  auto net1 = train::build_sequential(json::parse(R"([
    {"type": "Conv1d", "in": 2, "out": 4, "kernel": 3, "padding": "same"}, {"type": "ReLU"},
    {"type": "MaxPool1d", "kernel": 2}, {"type": "Conv1d", "in": 4, "out": 3, "kernel": 3, "stride": 2}])"));
  EXPECT_EQ((*net1)(randn({5, 2, 16})).shape(), (Shape{5, 3, 3}));  // 16 -> 16 -> 8 -> 3
  auto net2 = train::build_sequential(json::parse(R"([
    {"type": "ConvTranspose2d", "in": 3, "out": 2, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1}])"));
  EXPECT_EQ((*net2)(randn({1, 3, 7, 7})).shape(), (Shape{1, 2, 14, 14}));
  EXPECT_THROW(train::build_sequential(json::parse(R"([{"type": "MaxPool1d", "kernel": 2, "ceil": true}])")), ValueError);
}

}  // namespace
}  // namespace koan
