// 2-D convolution kernels: im2col + GEMM on contiguous NCHW tensors (float32 through oneDNN's
// sgemm, float64 through OpenBLAS), parallel over the batch.
//
//   kernels::ConvGeom g{.n = 64, .c = 1, .h = 28, .w = 28, .o = 32, .kh = 3, .kw = 3, .oh = 26, .ow = 26};
//   kernels::conv2d_forward(x, w, bias, g, y);
//
// The three kernels are the three faces of one bilinear map y = conv(x, w): the forward, its
// adjoint in x (the input gradient, which is also conv_transpose2d's forward) and its adjoint in
// w (the weight gradient).  The geometry is explicit (output size included), so asymmetric
// padding ("same" with an even kernel) and conv_transpose2d's output_padding need no special case:
// input positions outside [0, h) x [0, w) read as zero and receive nothing.
#pragma once
#include "koan/tensor/tensor.h"

namespace koan::kernels {

struct ConvGeom {
  int64_t n = 1, c = 1, h = 1, w = 1;  // input (n, c, h, w)
  int64_t o = 1, kh = 1, kw = 1;       // weight (o, c / groups, kh, kw)
  int64_t oh = 1, ow = 1;              // output (n, o, oh, ow)
  int64_t sh = 1, sw = 1;              // stride
  int64_t ph = 0, pw = 0;              // padding before the first row / column
  int64_t dh = 1, dw = 1;              // dilation
  int64_t groups = 1;
};

// How a convolution computes its products.  For 3x3 kernels with unit stride and dilation and one
// group, automatic takes Winograd F(2x2, 3x3) (kernels/cpu/winograd.h) from 8 input channels up,
// and direct 2x2 tiles (kernels/cpu/conv3x3_direct.h) for 1 or 2; im2col otherwise (the fused
// convolution + ReLU + pooling below takes direct tiles for every count under 8).  Tests name one
// to compare them.
enum class ConvAlgo { automatic, im2col, winograd, direct };

// y = conv(x, w) + bias[o] (bias may be undefined), then max(y, 0) when relu is set.  All
// contiguous, one floating dtype.
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeom& g,
                    const Tensor& y, bool relu = false, ConvAlgo algo = ConvAlgo::automatic);
// gx = adjoint of conv2d_forward in x applied to gy, plus bias[c] when defined
// (conv_transpose2d's forward).  gx (n, c, h, w) is overwritten.
void conv2d_input_grad(const Tensor& gy, const Tensor& w, const Tensor& bias, const ConvGeom& g,
                       const Tensor& gx);
// The first-order backward of y = conv(x, w) + b, or of y = relu(conv(x, w) + b) when relu_out
// (that y) is defined, in one pass over the samples: gw always, gx and gb (the bias gradient)
// where defined.  Each sample's gradient is masked into a scratch buffer that stays in cache, so
// the activations are read once instead of by four kernels (ReLU backward, input gradient,
// weight gradient, bias sum).  On the im2col path gx and gw equal conv2d_input_grad's and
// conv2d_weight_grad's bit for bit (with Winograd or direct, up to rounding); gb is summed in double, per
// sample and then per block of samples.  algo must be the forward's.
void conv2d_backward(const Tensor& gy, const Tensor& relu_out, const Tensor& x, const Tensor& w, const ConvGeom& g,
                     const Tensor& gx, const Tensor& gw, const Tensor& gb, ConvAlgo algo = ConvAlgo::automatic);
// Whether winograd and direct can compute geometry g (3x3, unit stride and dilation, one group).
bool conv2d_winograd_supports(const ConvGeom& g);
// The algorithm automatic runs for geometry g: for the plain convolution, or for the fused
// convolution + ReLU + pooling when pooled.
ConvAlgo conv2d_algorithm(const ConvGeom& g, bool pooled = false);

// The fused convolution + ReLU + pooling: for 3x3 kernels with unit stride and dilation and one
// group, automatic takes Winograd F(2x2, 3x3) from 8 input channels up and direct 2x2 tiles
// (kernels/cpu/conv3x3_direct.h) below; im2col otherwise.
// out = max_pool2d(relu(conv(x, w) + bias), 2), and the pooling's uint8 taps as max_pool2d
// writes them (out and taps (n, o, oh / 2, ow / 2); g.oh, g.ow >= 2).  Each sample's convolution
// output is pooled while it is in cache and never stored: the full-size activation is neither
// written, read back by the pooling, nor kept for the backward.  With im2col, equal bit for bit
// to conv2d_forward(relu) followed by max_pool2d; with winograd or direct, equal up to rounding.
// reserve, when defined (conv2d_relu_pool2x2_reserve(g, algo) elements of x's dtype, contiguous),
// receives what the algorithm can hand its backward (Winograd's transformed input) so that the
// backward need not compute it again, like cuDNN's reserve space.
void conv2d_relu_pool2x2_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeom& g,
                                 const Tensor& out, const Tensor& taps, ConvAlgo algo = ConvAlgo::automatic,
                                 const Tensor& reserve = {});
// Its first-order backward from the pooled gradient gout, the pooled output and the taps: the
// gradient at each tap where pooled > 0 (the ReLU's mask there), zero elsewhere.  With im2col it
// is built per sample in cache, then conv2d_backward's pass, equal bit for bit to
// max_pool2d_backward followed by conv2d_backward with relu_out.  algo must be the forward's;
// reserve the forward's (same x and w), or undefined.
void conv2d_relu_pool2x2_backward(const Tensor& gout, const Tensor& pooled, const Tensor& taps, const Tensor& x,
                                  const Tensor& w, const ConvGeom& g, const Tensor& gx, const Tensor& gw,
                                  const Tensor& gb, ConvAlgo algo = ConvAlgo::automatic, const Tensor& reserve = {});
// Elements of the reserve the forward can fill for the backward: 0 when the algorithm keeps
// nothing (im2col, direct).
int64_t conv2d_relu_pool2x2_reserve(const ConvGeom& g, ConvAlgo algo = ConvAlgo::automatic);
// gw[o, c, i, j] = sum over n and output positions of gy * x (the weight gradient).
// gw (o, c / groups, kh, kw) is overwritten.  Summed in a fixed order of sample blocks, so the
// result does not depend on the thread count.
void conv2d_weight_grad(const Tensor& x, const Tensor& gy, const ConvGeom& g, const Tensor& gw);

}  // namespace koan::kernels
