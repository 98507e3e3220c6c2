// Initialisers, as torch.nn.init: they fill a tensor in place (not recorded by autograd).
//
//   nn::init::kaiming_normal_(conv->weight, {.mode = nn::init::FanMode::FanOut});
//   nn::init::orthogonal_(rnn_weight, /*gain=*/1.0);
#pragma once
#include <string>

#include "koan/tensor/random.h"
#include "koan/tensor/tensor.h"

namespace koan::nn::init {

enum class FanMode { FanIn, FanOut };

// torch.nn.init.calculate_gain: linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2),
// leaky_relu sqrt(2 / (1 + slope^2)), selu 3/4.
double calculate_gain(const std::string& nonlinearity, double param = 0.01);
// (fan_in, fan_out) of a weight of shape (out, in, *kernel).
std::pair<int64_t, int64_t> fan_in_and_out(const Tensor& t);

Tensor& uniform_(Tensor& t, double a = 0, double b = 1, Generator* gen = nullptr);
Tensor& normal_(Tensor& t, double mean = 0, double std = 1, Generator* gen = nullptr);
Tensor& constant_(Tensor& t, double value);
Tensor& zeros_(Tensor& t);
Tensor& ones_(Tensor& t);
Tensor& xavier_uniform_(Tensor& t, double gain = 1.0, Generator* gen = nullptr);
Tensor& xavier_normal_(Tensor& t, double gain = 1.0, Generator* gen = nullptr);

struct KaimingOptions {
  double a = 0;                      // negative slope of the leaky_relu that follows
  FanMode mode = FanMode::FanIn;
  std::string nonlinearity = "leaky_relu";
};
Tensor& kaiming_uniform_(Tensor& t, KaimingOptions o = {}, Generator* gen = nullptr);
Tensor& kaiming_normal_(Tensor& t, KaimingOptions o = {}, Generator* gen = nullptr);
// A (semi-)orthogonal matrix from the QR decomposition of a normal one (rows flattened).
Tensor& orthogonal_(Tensor& t, double gain = 1.0, Generator* gen = nullptr);

}  // namespace koan::nn::init
