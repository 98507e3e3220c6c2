// The engine: no recursion anywhere (deep graphs), dependency counting, a ready queue ordered by
// creation (latest first, so results are deterministic), gradients summed per input slot.
#include "koan/autograd/engine.h"

#include <algorithm>
#include <queue>
#include <unordered_map>

#include "koan/kernels/elementwise.h"

namespace koan::autograd {
namespace {

struct Target {  // a (node, slot) whose incoming gradient grad() returns
  Node* node;
  uint32_t slot;
};

// What a run keeps per node, in one hash map: one entry (and one lookup) per node instead of a
// map each for the gradient buffers, the dependency counts and the visited set.
struct NodeState {
  std::vector<Tensor> buffer;  // gradients summed per output slot, until the node runs
  int deps = 0;                // edges still to deliver a gradient; -1 once queued
  bool needed = true;          // for grad(): leads to one of the inputs
};

Tensor sum_grads(const Tensor& acc, const Tensor& g, bool create_graph) {
  if (!acc.defined()) return g;
  if (create_graph) return add_for_engine(acc, g);
  Tensor out = empty(acc.shape(), {.dtype = acc.dtype()});
  kernels::binary(kernels::BinaryOp::Add, acc, g, out);
  return out;
}

Tensor zeros_for(const Node& n, uint32_t slot) {
  const Node::Output& o = n.outputs.at(slot);
  Tensor z = empty(o.shape, {.dtype = o.dtype});
  kernels::fill(z, 0);
  return z;
}

std::vector<Tensor> run(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                        bool retain_graph, bool create_graph, const std::vector<Tensor>* inputs,
                        bool allow_unused) {
  KOAN_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), ValueError,
             "backward: got ", grad_outputs.size(), " gradients for ", outputs.size(), " outputs");
  // 1. Roots and their seed gradients.
  std::unordered_map<Node*, NodeState> state;
  state.reserve(64);
  std::vector<std::shared_ptr<Node>> roots;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    KOAN_CHECK(out.defined() && out.requires_grad(), AutogradError, "backward: output ", i,
               " does not require grad and has no grad_fn (was it computed under NoGradGuard, or "
               "from tensors without requires_grad?)");
    Tensor g = grad_outputs.empty() ? Tensor() : grad_outputs[i];
    if (!g.defined()) {
      KOAN_CHECK(out.numel() == 1, ValueError, "backward: a gradient can be implied only for ",
                 "scalar outputs, but output ", i, " has shape ", out.shape(),
                 "; pass its gradient explicitly");
      g = empty(out.shape(), {.dtype = out.dtype()});
      kernels::fill(g, 1);
    } else {
      KOAN_CHECK(g.shape() == out.shape(), ShapeError, "backward: gradient ", i, " has shape ",
                 g.shape(), " but the output has shape ", out.shape());
    }
    Edge e = gradient_edge(out);
    auto& buf = state[e.fn.get()].buffer;
    buf.resize(e.fn->num_outputs());
    buf[e.input_nr] = sum_grads(buf[e.input_nr], g, create_graph);
    roots.push_back(e.fn);
  }

  // 2. Discover the graph (explicit stack) and its topological order.
  // A node is seen once it has a state entry; the roots have theirs from step 1.
  std::vector<Node*> order;
  std::vector<Node*> stack;
  for (auto& r : roots)
    if (std::find(stack.begin(), stack.end(), r.get()) == stack.end()) stack.push_back(r.get());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    order.push_back(n);
    for (const Edge& e : n->next_edges())
      if (e.fn && state.try_emplace(e.fn.get()).second) stack.push_back(e.fn.get());
  }

  // 3. Which nodes must run: all of them for backward(); for grad(), those leading to an input.
  std::vector<Target> targets;
  if (inputs) {
    for (const Tensor& t : *inputs) {
      KOAN_CHECK(t.defined() && t.requires_grad(), AutogradError,
                 "grad: one of the inputs does not require grad");
      Node* n = t.grad_fn() ? t.grad_fn().get() : t.impl()->grad_accumulator.lock().get();
      targets.push_back({n, t.grad_fn() ? t.impl()->output_nr : 0u});
    }
    // Reverse reachability to the targets: iterate to a fixed point over the discovered order
    // (sequence numbers give a topological order: inputs are created before outputs).
    std::vector<Node*> by_seq = order;
    std::sort(by_seq.begin(), by_seq.end(),
              [](Node* a, Node* b) { return a->sequence_nr() < b->sequence_nr(); });
    for (Node* n : order) state[n].needed = false;
    for (auto& t : targets)
      if (t.node && state.count(t.node)) state[t.node].needed = true;
    for (Node* n : by_seq) {
      NodeState& ns = state[n];
      if (ns.needed) continue;
      for (const Edge& e : n->next_edges())
        if (e.fn && state[e.fn.get()].needed) {
          ns.needed = true;
          break;
        }
    }
  }

  // 4. Dependency counts over the edges that will carry gradients.
  for (Node* n : order) {
    if (!state[n].needed) continue;
    for (const Edge& e : n->next_edges())
      if (e.fn) {
        NodeState& to = state[e.fn.get()];
        if (to.needed) to.deps++;
      }
  }

  auto later_first = [](Node* a, Node* b) { return a->sequence_nr() < b->sequence_nr(); };
  std::priority_queue<Node*, std::vector<Node*>, decltype(later_first)> ready(later_first);
  for (auto& r : roots) {
    NodeState& rs = state[r.get()];
    if (rs.needed && rs.deps == 0) {
      ready.push(r.get());
      rs.deps = -1;  // queued
    }
  }

  std::vector<Tensor> captured(inputs ? inputs->size() : 0);
  EnableGradGuard grad_mode(create_graph);
  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    std::vector<Tensor> grads = std::move(state[n].buffer);
    grads.resize(n->num_outputs());
    // Hooks and retain_grad of the tensors this node produced.
    for (uint32_t k = 0; k < n->outputs.size(); ++k) {
      auto impl = n->outputs[k].tensor.lock();
      if (!impl || !grads[k].defined()) continue;
      if (!impl->hooks.empty()) grads[k] = run_hooks(*impl, grads[k]);
      if (impl->retains_grad) {
        Tensor g = grads[k];
        impl->grad = impl->grad ? sum_grads(Tensor(impl->grad), g, create_graph).impl_ptr() : g.impl_ptr();
      }
    }
    for (size_t i = 0; i < targets.size(); ++i)
      if (targets[i].node == n) {
        Tensor g = grads[targets[i].slot];
        if (g.defined() && dynamic_cast<AccumulateGrad*>(n)) {
          g = run_hooks(*static_cast<AccumulateGrad*>(n)->leaf(), g);
        }
        captured[i] = g;
      }
    if (inputs && dynamic_cast<AccumulateGrad*>(n)) continue;  // grad() never touches .grad

    bool any = false;
    for (auto& g : grads) any |= g.defined();
    std::vector<Tensor> in_grads;
    if (any) {
      for (uint32_t k = 0; k < grads.size(); ++k)
        if (!grads[k].defined() && k < n->outputs.size()) grads[k] = zeros_for(*n, k);
      in_grads = n->apply(std::move(grads));
    }
    if (!retain_graph) n->release();

    const auto& edges = n->next_edges();
    for (size_t i = 0; i < edges.size(); ++i) {
      const Edge& e = edges[i];
      if (!e.fn) continue;
      NodeState& to = state[e.fn.get()];
      if (!to.needed) continue;
      if (i < in_grads.size() && in_grads[i].defined()) {
        auto& buf = to.buffer;
        buf.resize(e.fn->num_outputs());
        Tensor g = in_grads[i];
        KOAN_ASSERT(e.input_nr >= e.fn->outputs.size() || g.shape() == e.fn->outputs[e.input_nr].shape,
                    "backward of ", n->name(), " returned gradient ", i, " of shape ", g.shape(),
                    ", expected ", e.fn->outputs[e.input_nr].shape);
        buf[e.input_nr] = sum_grads(buf[e.input_nr], g, create_graph);
      }
      if (--to.deps == 0) ready.push(e.fn.get());
    }
  }

  if (inputs)
    for (size_t i = 0; i < captured.size(); ++i)
      KOAN_CHECK(captured[i].defined() || allow_unused, AutogradError, "grad: input ", i,
                 " was not used to compute the outputs; pass allow_unused=true to get an undefined "
                 "gradient for it");
  return captured;
}

}  // namespace

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph,
                         bool create_graph, bool allow_unused) {
  return run(outputs, grad_outputs, retain_graph || create_graph, create_graph, &inputs, allow_unused);
}

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              bool retain_graph, bool create_graph) {
  run(outputs, grad_outputs, retain_graph || create_graph, create_graph, nullptr, false);
}

}  // namespace koan::autograd

namespace koan {
void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  autograd::backward({*this}, {gradient}, retain_graph, create_graph);
}
}  // namespace koan
