#include "koan/nn/activation.h"

#include "koan/ops/softmax.h"
#include "koan/ops/unary.h"

namespace koan::nn {

Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, slope_); }
std::string LeakyReLU::repr() const { return str("LeakyReLU(negative_slope=", slope_, ")"); }
Tensor ELU::forward(const Tensor& x) { return elu(x, alpha_); }
std::string ELU::repr() const { return str("ELU(alpha=", alpha_, ")"); }
Tensor GELU::forward(const Tensor& x) { return gelu(x, approx_); }
Tensor SiLU::forward(const Tensor& x) { return silu(x); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor Softmax::forward(const Tensor& x) { return softmax(x, dim_); }
std::string Softmax::repr() const { return str("Softmax(dim=", dim_, ")"); }
Tensor LogSoftmax::forward(const Tensor& x) { return log_softmax(x, dim_); }
std::string LogSoftmax::repr() const { return str("LogSoftmax(dim=", dim_, ")"); }

}  // namespace koan::nn
