// The engine: no recursion anywhere (deep graphs), dependency counting, a ready queue ordered by
// creation (latest first, so results are deterministic), gradients summed per input slot.
#include "koan/autograd/engine.h"

#include <algorithm>
#include <queue>

#include "koan/kernels/elementwise.h"

namespace koan::autograd {
namespace {

struct Target {  // a (node, slot) whose incoming gradient grad() returns
  Node* node;
  uint32_t slot;
};

// Node* -> dense index 0..n-1 in one open-addressing array: discovering a graph of n nodes makes
// O(log n) allocations instead of one hash node per graph node (unordered_map/set), which was a
// good part of a small training step's cost.
class NodeIndex {
 public:
  NodeIndex() : slots_(32) {}
  // The index of n, which becomes the next index if it is new; second: whether it was new.
  std::pair<size_t, bool> insert(Node* n) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    Slot& s = slots_[place(n)];
    if (s.node == n) return {s.index, false};
    s = {n, count_};
    return {count_++, true};
  }
  size_t at(Node* n) const {
    const Slot& s = slots_[place(n)];
    KOAN_ASSERT(n && s.node == n, "backward: node ", n ? n->name() : "null", " is not in the graph");
    return s.index;
  }
  bool contains(Node* n) const { return n && slots_[place(n)].node == n; }

 private:
  struct Slot {
    Node* node = nullptr;
    size_t index = 0;
  };
  size_t place(Node* n) const {  // n's slot, or the empty slot where it would go
    const size_t mask = slots_.size() - 1;
    uint64_t h = (reinterpret_cast<uintptr_t>(n) >> 4) * 0x9E3779B97F4A7C15ull;
    size_t i = static_cast<size_t>(h ^ (h >> 29)) & mask;
    while (slots_[i].node && slots_[i].node != n) i = (i + 1) & mask;
    return i;
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old)
      if (s.node) slots_[place(s.node)] = s;
  }
  std::vector<Slot> slots_;
  size_t count_ = 0;
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
  struct Seed {
    std::shared_ptr<Node> fn;
    uint32_t slot;
    Tensor grad;
  };
  std::vector<Seed> seeds;
  seeds.reserve(outputs.size());
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
    seeds.push_back({std::move(e.fn), e.input_nr, std::move(g)});
  }

  // 2. Discover the graph (explicit stack); every node gets a dense index into the arrays below.
  NodeIndex index;
  std::vector<Node*> nodes;  // by index
  std::vector<Node*> stack;
  auto discover = [&](Node* n) {
    if (!index.insert(n).second) return;
    nodes.push_back(n);
    stack.push_back(n);
  };
  for (auto& s : seeds) discover(s.fn.get());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges())
      if (e.fn) discover(e.fn.get());
  }
  const size_t count = nodes.size();
  std::vector<std::vector<Tensor>> buffers(count);  // gradients flowing into each node
  for (auto& s : seeds) {
    auto& buf = buffers[index.at(s.fn.get())];
    buf.resize(s.fn->num_outputs());
    buf[s.slot] = sum_grads(buf[s.slot], s.grad, create_graph);
  }

  // 3. Which nodes must run: all of them for backward(); for grad(), those leading to an input.
  std::vector<Target> targets;
  std::vector<char> needed;  // by index, for grad() only
  if (inputs) {
    needed.assign(count, 0);
    for (const Tensor& t : *inputs) {
      KOAN_CHECK(t.defined() && t.requires_grad(), AutogradError,
                 "grad: one of the inputs does not require grad");
      Node* n = t.grad_fn() ? t.grad_fn().get() : t.impl()->grad_accumulator.lock().get();
      targets.push_back({n, t.grad_fn() ? t.impl()->output_nr : 0u});
    }
    // Reverse reachability to the targets: iterate to a fixed point over the discovered order
    // (sequence numbers give a topological order: inputs are created before outputs).
    std::vector<Node*> by_seq = nodes;
    std::sort(by_seq.begin(), by_seq.end(),
              [](Node* a, Node* b) { return a->sequence_nr() < b->sequence_nr(); });
    for (auto& t : targets)
      if (index.contains(t.node)) needed[index.at(t.node)] = 1;
    for (Node* n : by_seq) {
      char& me = needed[index.at(n)];
      if (me) continue;
      for (const Edge& e : n->next_edges())
        if (e.fn && needed[index.at(e.fn.get())]) {
          me = 1;
          break;
        }
    }
  }
  auto is_needed = [&](size_t k) { return !inputs || needed[k]; };

  // 4. Dependency counts over the edges that will carry gradients.
  std::vector<int> deps(count, 0);
  for (size_t k = 0; k < count; ++k) {
    if (!is_needed(k)) continue;
    for (const Edge& e : nodes[k]->next_edges())
      if (e.fn) {
        size_t j = index.at(e.fn.get());
        if (is_needed(j)) deps[j]++;
      }
  }

  auto later_first = [](Node* a, Node* b) { return a->sequence_nr() < b->sequence_nr(); };
  std::priority_queue<Node*, std::vector<Node*>, decltype(later_first)> ready(later_first);
  for (auto& s : seeds) {
    size_t k = index.at(s.fn.get());
    if (is_needed(k) && deps[k] == 0) {
      ready.push(s.fn.get());
      deps[k] = -1;  // queued
    }
  }

  std::vector<Tensor> captured(inputs ? inputs->size() : 0);
  EnableGradGuard grad_mode(create_graph);
  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    std::vector<Tensor> grads = std::move(buffers[index.at(n)]);
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
      const size_t j = index.at(e.fn.get());
      if (!is_needed(j)) continue;
      if (i < in_grads.size() && in_grads[i].defined()) {
        auto& buf = buffers[j];
        buf.resize(e.fn->num_outputs());
        Tensor g = in_grads[i];
        KOAN_ASSERT(e.input_nr >= e.fn->outputs.size() || g.shape() == e.fn->outputs[e.input_nr].shape,
                    "backward of ", n->name(), " returned gradient ", i, " of shape ", g.shape(),
                    ", expected ", e.fn->outputs[e.input_nr].shape);
        buf[e.input_nr] = sum_grads(buf[e.input_nr], g, create_graph);
      }
      if (--deps[j] == 0) ready.push(e.fn.get());
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
