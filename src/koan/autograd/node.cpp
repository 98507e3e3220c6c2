#include "koan/autograd/node.h"

#include <atomic>

#include "koan/autograd/function.h"
#include "koan/autograd/grad_mode.h"
#include "koan/kernels/elementwise.h"

namespace koan::autograd {

namespace {
std::atomic<uint64_t> next_sequence_nr{0};
}

std::string node_name(const Node& node) { return node.name(); }

Node::Node() : seq_(next_sequence_nr.fetch_add(1, std::memory_order_relaxed)) {}

Node::~Node() {
  // Freeing a long chain recursively (node -> edge -> node ...) overflows the stack.  Instead the
  // outermost destructor drains a queue: a nested destructor only enqueues its edges.
  static thread_local std::vector<std::shared_ptr<Node>> pending;
  static thread_local bool draining = false;
  for (Edge& e : next_)
    if (e.fn) pending.push_back(std::move(e.fn));
  if (draining) return;
  draining = true;
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    n.reset();
  }
  draining = false;
}

SavedTensor::SavedTensor(const Tensor& t, bool is_output) : is_output_(is_output) {
  if (!t.defined()) return;
  version_ = t.version();
  requires_grad_ = t.requires_grad();
  if (is_output) {
    data_ = Tensor(t.storage(), t.layout(), t.dtype());  // no grad_fn: no cycle
    output_nr_ = t.impl()->output_nr;
  } else if (t.grad_fn()) {
    // A fresh handle on the same data and history: if an in-place op later rebases t onto the
    // node saving it, the node must not own t itself (that would be a reference cycle).
    data_ = Tensor(t.storage(), t.layout(), t.dtype());
    data_.impl()->requires_grad = true;
    data_.impl()->grad_fn = t.grad_fn();
    data_.impl()->output_nr = t.impl()->output_nr;
  } else {
    data_ = t;  // leaves keep their identity: their gradient accumulates into this very tensor
  }
}

Tensor SavedTensor::unpack(const std::shared_ptr<Node>& self) const {
  KOAN_CHECK(data_.defined(), AutogradError,
             "backward: trying to backward through the graph a second time (or to use saved tensors "
             "after they were freed); pass retain_graph=true to the first backward call");
  KOAN_CHECK(data_.version() == version_, AutogradError,
             "backward: a tensor needed for the gradient of ", self ? self->name() : "an op",
             " was modified by an in-place operation (its version is ", data_.version(),
             ", expected ", version_, "); use the out-of-place op or clone() it first");
  // Outputs of a recorded node always carry its history (requires_grad is set after saving).
  if (!is_output_ || !is_floating(data_.dtype())) return data_;
  Tensor t(data_.storage(), data_.layout(), data_.dtype());
  t.impl()->requires_grad = true;
  t.impl()->grad_fn = self;
  t.impl()->output_nr = output_nr_;
  return t;
}

std::vector<Tensor> FunctionNode::apply(std::vector<Tensor>&& grads) {
  KOAN_CHECK(!released_, AutogradError, "backward: trying to backward through ", name_,
             " a second time, but its saved tensors were freed after the first backward; pass "
             "retain_graph=true to the first backward call");
  return call(grads);
}

Tensor run_hooks(TensorImpl& t, Tensor grad) {
  for (auto& [id, fn] : t.hooks) {
    Tensor r = fn(grad);
    if (r.defined()) {
      KOAN_CHECK(r.shape() == grad.shape(), ShapeError, "hook: returned a gradient of shape ",
                 r.shape(), " for a tensor of shape ", grad.shape());
      grad = r;
    }
  }
  return grad;
}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>&& grads) {
  Tensor g = std::move(grads[0]);
  if (!g.defined()) return {};
  g = run_hooks(*leaf_, g);
  TensorImpl& leaf = *leaf_;
  if (!leaf.grad) {
    if (GradMode::enabled()) {
      leaf.grad = g.impl_ptr();  // create_graph: keep the graph of the gradient
    } else if (g.impl_ptr().use_count() == 1 && g.is_contiguous() && !g.requires_grad()) {
      leaf.grad = g.impl_ptr();  // nobody else holds it: steal the buffer
    } else {
      Tensor c = empty(g.shape(), {.dtype = g.dtype()});
      kernels::copy(g, c);
      leaf.grad = c.impl_ptr();
    }
  } else if (GradMode::enabled()) {
    leaf.grad = add_for_engine(Tensor(leaf.grad), g).impl_ptr();
  } else {
    Tensor acc(leaf.grad);
    kernels::binary(kernels::BinaryOp::Add, acc, g, acc);
    acc.bump_version();
  }
  return {};
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  TensorImpl* impl = t.impl();
  if (impl->grad_fn) return {impl->grad_fn, impl->output_nr};
  std::shared_ptr<Node> acc = impl->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    acc->outputs.push_back({t.shape(), t.dtype(), {}});
    impl->grad_accumulator = acc;
  }
  return {acc, 0};
}

}  // namespace koan::autograd
