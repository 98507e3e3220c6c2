// Every op, named once.  The test suite walks this list and fails for any op without a row in
// the op table (tests/ops/), so no op ships untested.  Add an op here when you add it.
#pragma once

// clang-format off
#define KOAN_OPS_UNARY(X) \
  X(neg) X(abs) X(exp) X(log) X(log1p) X(expm1) X(sqrt) X(rsqrt) X(sin) X(cos) X(tanh) \
  X(sigmoid) X(relu) X(leaky_relu) X(elu) X(gelu) X(silu) X(softplus) X(erf) X(sign) \
  X(floor) X(ceil) X(round) X(reciprocal) X(square) X(clamp) X(pow_scalar) X(logical_not)

#define KOAN_OPS_BINARY(X) \
  X(add) X(sub) X(mul) X(div) X(pow) X(maximum) X(minimum) X(remainder) X(atan2) \
  X(eq) X(ne) X(lt) X(le) X(gt) X(ge) X(logical_and) X(logical_or) X(logical_xor) X(where)

#define KOAN_OPS_REDUCE(X) \
  X(sum) X(mean) X(max) X(min) X(max_dim) X(min_dim) X(argmax) X(argmin) X(amax) X(amin) \
  X(prod) X(var) X(std) X(logsumexp) X(norm) X(softmax) X(log_softmax) X(cumsum) X(any) X(all)

#define KOAN_OPS_JOIN(X) \
  X(cat) X(stack) X(split) X(chunk) X(repeat) X(pad) X(flip) X(tril) X(triu)

#define KOAN_OPS_INDEX(X) \
  X(index_select) X(gather) X(scatter) X(scatter_add) X(index_add) X(masked_fill) X(masked_select) \
  X(index) X(index_put) X(sort) X(argsort) X(topk) X(one_hot)

#define KOAN_OPS_SHAPE(X) \
  X(view) X(reshape) X(transpose) X(permute) X(narrow) X(slice) X(select) X(expand) \
  X(squeeze) X(unsqueeze) X(flatten) X(unflatten) X(contiguous) X(clone) X(to)

#define KOAN_OPS_LINALG(X) \
  X(matmul) X(linear)

// Fused ops for the nn layer: convolution and pooling, normalisation and dropout, losses,
// recurrent cells and attention.
#define KOAN_OPS_CONV(X) \
  X(conv1d) X(conv2d) X(conv2d_relu) X(conv2d_relu_max_pool2d) X(conv_transpose2d) X(max_pool1d) X(max_pool2d) X(avg_pool2d) X(adaptive_avg_pool2d)

#define KOAN_OPS_NORM(X) \
  X(batch_norm) X(layer_norm) X(dropout) X(embedding)

#define KOAN_OPS_LOSS(X) \
  X(mse_loss) X(l1_loss) X(smooth_l1_loss) X(huber_loss) X(binary_cross_entropy) \
  X(binary_cross_entropy_with_logits) X(cross_entropy) X(nll_loss) X(kl_div)

#define KOAN_OPS_RNN(X) \
  X(rnn_tanh_cell) X(rnn_relu_cell) X(lstm_cell) X(gru_cell) X(rnn_sequence) X(scaled_dot_product_attention) X(masked_softmax) X(unbind)

#define KOAN_OPS(X) \
  KOAN_OPS_UNARY(X) KOAN_OPS_BINARY(X) KOAN_OPS_REDUCE(X) KOAN_OPS_SHAPE(X) KOAN_OPS_LINALG(X) \
  KOAN_OPS_JOIN(X) KOAN_OPS_INDEX(X) KOAN_OPS_CONV(X) KOAN_OPS_NORM(X) KOAN_OPS_LOSS(X) KOAN_OPS_RNN(X)
// clang-format on
