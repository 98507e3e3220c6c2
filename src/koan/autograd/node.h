// The backward graph: a Node per recorded op, edges pointing to the nodes of its inputs.
//
// Ops create nodes through ops/autograd_support.h; users meet nodes only as `t.grad_fn()`.
// See docs/autograd.md for the engine and docs/notes/saved-tensors.md for the version checks.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "koan/autograd/inline_list.h"
#include "koan/tensor/tensor.h"

namespace koan::autograd {

class Node;

// Where a gradient goes: input slot `input_nr` of `fn` (null: the input needs no gradient).
struct Edge {
  std::shared_ptr<Node> fn;
  uint32_t input_nr = 0;
  bool valid() const { return fn != nullptr; }
};

// A tensor saved for backward, with the storage version it had when saved: unpacking it after
// an in-place op changed it is an error, as in PyTorch.
class SavedTensor {
 public:
  SavedTensor() = default;
  // `is_output`: the tensor is an output of the node saving it.  It is stored without its
  // grad_fn (that would be a reference cycle) and re-attached to the node when unpacked, so
  // double backward still differentiates through it.
  SavedTensor(const Tensor& t, bool is_output);
  Tensor unpack(const std::shared_ptr<Node>& self) const;
  bool defined() const { return data_.defined(); }
  void reset() { data_ = Tensor(); }

 private:
  Tensor data_;
  uint64_t version_ = 0;
  bool is_output_ = false;
  bool requires_grad_ = false;
  uint32_t output_nr_ = 0;
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  Node();
  virtual ~Node();  // iterative: a chain of 100 000 nodes is freed without deep recursion
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Gradients w.r.t. this node's outputs (one per output; undefined = zero) -> gradients w.r.t.
  // its inputs, one per next edge.
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grads) = 0;
  virtual std::string name() const = 0;
  // Drops saved tensors after backward (unless retain_graph).
  virtual void release() {}

  using Edges = InlineList<Edge, 2>;
  const Edges& next_edges() const { return next_; }
  Edges& mutable_next_edges() { return next_; }
  uint64_t sequence_nr() const { return seq_; }
  uint32_t num_outputs() const { return num_outputs_; }
  void set_num_outputs(uint32_t n) { num_outputs_ = n; }
  // One per output: shape and dtype, so the engine can make zero gradients for unused outputs,
  // and the tensor, weakly: its hooks and retain_grad run on the gradient flowing in.  One
  // list, not three, held inside the node for up to two outputs: no allocation of its own.
  struct Output {
    Shape shape;
    DType dtype = DType::Float32;
    std::weak_ptr<TensorImpl> tensor;
  };
  InlineList<Output, 2> outputs;

 protected:
  Edges next_;
  uint64_t seq_;
  uint32_t num_outputs_ = 1;
};

// A node whose backward is a closure: how every op in ops/ records itself.  The closure gets
// the node (to unpack saved outputs) and the output gradients, and returns input gradients.
// The closure lives inside the node (ClosureNode below), so recording an op allocates the node
// once, with everything its backward saved, instead of a node plus a std::function block.
class FunctionNode : public Node {
 public:
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) final;
  std::string name() const final { return name_; }
  void release() final {
    released_ = true;
    drop_closure();
  }
  std::shared_ptr<Node> self() { return shared_from_this(); }

 protected:
  explicit FunctionNode(std::string name) : name_(std::move(name)) {}
  virtual std::vector<Tensor> call(std::vector<Tensor>& grads) = 0;
  // Frees what the closure saved (after backward without retain_graph).
  virtual void drop_closure() = 0;

 private:
  std::string name_;
  bool released_ = false;
};

template <class F>
class ClosureNode final : public FunctionNode {
 public:
  template <class G>
  ClosureNode(std::string name, G&& fn) : FunctionNode(std::move(name)), fn_(std::forward<G>(fn)) {}

 private:
  std::vector<Tensor> call(std::vector<Tensor>& grads) override { return (*fn_)(*this, grads); }
  void drop_closure() override { fn_.reset(); }
  std::optional<F> fn_;
};

// Sums incoming gradients into a leaf's .grad.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {}
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override;
  std::string name() const override { return "AccumulateGrad"; }
  const std::shared_ptr<TensorImpl>& leaf() const { return leaf_; }

 private:
  std::shared_ptr<TensorImpl> leaf_;
};

// The edge a gradient for `t` must flow into: its grad_fn, or its leaf accumulator (created on
// demand), or nothing if it does not require grad.
Edge gradient_edge(const Tensor& t);

// Runs t's hooks on a gradient flowing into it.
Tensor run_hooks(TensorImpl& t, Tensor grad);

}  // namespace koan::autograd
