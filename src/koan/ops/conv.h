// Convolutions over (N, C, L) and (N, C, H, W) tensors, as torch.nn.functional.
//
//   Tensor y = koan::conv2d(x, w, b);                                  // x (N, C, H, W), w (O, C, kh, kw)
//   Tensor z = koan::conv2d(x, w, {}, /*stride=*/2, /*padding=*/1);
//   Tensor s = koan::conv2d(x, w, b, 1, "same", /*dilation=*/2, /*groups=*/2);
//   Tensor u = koan::conv_transpose2d(y, w, {}, 2, 1, /*output_padding=*/1);
//   Tensor v = koan::conv1d(seq, w1, b1, 1, "valid");                   // seq (N, C, L), w1 (O, C, k)
//
// Unbatched inputs ((C, H, W), (C, L)) are accepted and give unbatched outputs.  Each op
// differentiates to the others (the input gradient of conv2d is conv_transpose2d, the weight
// gradient a convolution of input and output gradient), so gradients of any order work.
#pragma once
#include <string_view>

#include "koan/tensor/tensor.h"

namespace koan {

// Two sizes, (height, width); one int means the same for both: `2` or `{2, 1}`.
struct Int2 {
  int64_t h = 0, w = 0;
  Int2(int64_t v) : h(v), w(v) {}  // NOLINT: implicit on purpose, like PyTorch's int-or-tuple
  Int2(int64_t h_, int64_t w_) : h(h_), w(w_) {}
  int64_t operator[](int i) const { return i == 0 ? h : w; }
  bool operator==(const Int2&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Int2& v);  // "3" when square, else "(3, 5)"

enum class PadMode { Explicit, Same, Valid };

// A convolution's padding: sizes, or "same" (output as large as the input; stride 1 only) or
// "valid" (no padding).
struct Padding2 {
  Int2 size = 0;
  PadMode mode = PadMode::Explicit;
  Padding2(int64_t v) : size(v) {}  // NOLINT
  Padding2(int64_t h, int64_t w) : size(h, w) {}
  Padding2(Int2 s) : size(s) {}  // NOLINT
  // "same" or "valid", else ValueError.  A literal binds to the array (so `0` stays an int).
  template <size_t N>
  Padding2(const char (&s)[N]) : Padding2(std::string_view(s, N - 1)) {}  // NOLINT
  explicit Padding2(std::string_view s);
  bool operator==(const Padding2&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Padding2& p);

// conv1d's padding: one size, "same" or "valid".
struct Padding1 {
  int64_t size = 0;
  PadMode mode = PadMode::Explicit;
  Padding1(int64_t v) : size(v) {}  // NOLINT
  template <size_t N>
  Padding1(const char (&s)[N]) : Padding1(std::string_view(s, N - 1)) {}  // NOLINT
  explicit Padding1(std::string_view s);
  bool operator==(const Padding1&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Padding1& p);

// x (N, C, L) or (C, L); w (O, C / groups, k); bias (O) or undefined.
Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& bias = {}, int64_t stride = 1,
              Padding1 padding = 0, int64_t dilation = 1, int64_t groups = 1);
// x (N, C, H, W) or (C, H, W); w (O, C / groups, kh, kw); bias (O) or undefined.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias = {}, Int2 stride = 1,
              Padding2 padding = 0, Int2 dilation = 1, int64_t groups = 1);
// relu(conv2d(...)) in one kernel: bias and ReLU are applied while each sample's output is in
// cache (as Keras' Conv2D(activation="relu"); nn::Conv2d with .activation = "relu").
Tensor conv2d_relu(const Tensor& x, const Tensor& w, const Tensor& bias = {}, Int2 stride = 1,
                   Padding2 padding = 0, Int2 dilation = 1, int64_t groups = 1);
// max_pool2d(relu(conv2d(...)), 2) in one kernel: each sample's convolution output is pooled
// while in cache and never stored (nn::Sequential runs it for a Conv2d with activation "relu"
// followed by MaxPool2d(2)).  Output (N, O, OH / 2, OW / 2) with OH, OW conv2d's.
Tensor conv2d_relu_max_pool2d(const Tensor& x, const Tensor& w, const Tensor& bias = {}, Int2 stride = 1,
                              Padding2 padding = 0, Int2 dilation = 1, int64_t groups = 1);
// The adjoint of conv2d in its input ("deconvolution").  x (N, Cin, H, W) or (C, H, W);
// w (Cin, Cout / groups, kh, kw); bias (Cout).  Output size per dim:
// (H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.
Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& bias = {}, Int2 stride = 1,
                        Int2 padding = 0, Int2 output_padding = 0, int64_t groups = 1,
                        Int2 dilation = 1);

}  // namespace koan
