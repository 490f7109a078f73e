// The backward engine (chapter 9.5): dependency counting, then nodes in reverse creation order.
//
// Note [Engine order]: a node may run only after every node that feeds it gradients has run. The
// engine first walks the graph from the roots to count, for each node, how many edges point at
// it; a node is ready when that count reaches zero. Among ready nodes the one created last runs
// first (a max-heap on sequence_nr), which follows the forward order backwards and frees the
// largest saved activations early.
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "gnm/autograd/node.hpp"
#include "gnm/tensor/ops.hpp"

namespace gnm::autograd {

namespace {

struct ByLatest {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr < b->sequence_nr; }
};

void check_grad(const Node& node, int slot, const Tensor& g) {
  if (!g.defined()) return;
  const auto s = static_cast<std::size_t>(slot);
  if (s >= node.output_shapes.size()) return;  // AccumulateGrad records no outputs
  GNM_CHECK_SHAPE(g.shape() == node.output_shapes[s], "gradient shape does not match the output",
                  node.name(), shape_str(g.shape()), shape_str(node.output_shapes[s]));
  GNM_CHECK(g.dtype() == node.output_dtypes[s], "gradient dtype does not match the output",
            node.name(), dtype_name(g.dtype()), dtype_name(node.output_dtypes[s]));
  GNM_CHECK(g.device() == node.output_devices[s], "gradient device does not match the output",
            node.name(), g.device().str(), node.output_devices[s].str());
}

// Runs the graph; when `capture` is non-null, gradients arriving at the captured nodes' slots are
// stored there instead of flowing further (autograd::grad).
void run(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph,
         std::unordered_map<const Node*, std::vector<Tensor>>* capture) {
  GNM_CHECK(roots.size() == grads.size(), "backward needs one gradient per root", roots.size(),
            grads.size());
  NoGradGuard no_grad;  // backward formulas are not themselves recorded (no double backward)

  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  std::unordered_map<Node*, int> deps;
  std::vector<std::shared_ptr<Node>> keep_alive;
  std::vector<Node*> stack;
  std::unordered_set<Node*> seen;

  auto add_to_buffer = [&](Node* fn, int slot, const Tensor& g) {
    auto& buf = buffers[fn];
    if (buf.size() < static_cast<std::size_t>(fn->num_outputs)) buf.resize(static_cast<std::size_t>(fn->num_outputs));
    Tensor& cur = buf[static_cast<std::size_t>(slot)];
    cur = cur.defined() ? add(cur, g) : g;
  };

  for (std::size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    GNM_CHECK(r.defined() && r.requires_grad(), "backward root does not require grad", i);
    GNM_CHECK(grads[i].defined(), "backward root has no gradient", i);
    GNM_CHECK_SHAPE(grads[i].shape() == r.shape(), "gradient shape does not match the root",
                    shape_str(grads[i].shape()), shape_str(r.shape()));
    GNM_CHECK(grads[i].dtype() == r.dtype() && grads[i].device() == r.device(),
              "gradient dtype/device does not match the root", dtype_name(grads[i].dtype()),
              dtype_name(r.dtype()), grads[i].device().str(), r.device().str());
    const Edge e = gradient_edge(r);
    keep_alive.push_back(e.fn);
    add_to_buffer(e.fn.get(), e.input_nr, grads[i]);
    if (seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
  }
  // Count dependencies.
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    deps.try_emplace(n, 0);
    if (capture && capture->count(n)) continue;  // do not go past captured nodes
    for (const Edge& e : n->next_edges) {
      if (!e.valid()) continue;
      ++deps[e.fn.get()];
      if (seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
    }
  }
  std::priority_queue<Node*, std::vector<Node*>, ByLatest> ready;
  for (Node* n : seen)
    if (deps[n] == 0) ready.push(n);

  //! [engine_loop]
  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    std::vector<Tensor> in = std::move(buffers[n]);
    buffers.erase(n);
    in.resize(static_cast<std::size_t>(n->num_outputs));
    if (capture) {
      auto it = capture->find(n);
      if (it != capture->end()) {
        it->second = std::move(in);
        continue;
      }
    }
    // autograd::grad() returns gradients instead of accumulating: leaves it was not asked about
    // keep their .grad untouched.
    if (capture && dynamic_cast<AccumulateGrad*>(n) != nullptr) continue;
    for (int s = 0; s < n->num_outputs; ++s) check_grad(*n, s, in[static_cast<std::size_t>(s)]);
    std::vector<Tensor> out;
    bool any = false;
    for (const Tensor& g : in) any = any || g.defined();
    if (any) {
      out = n->apply(std::move(in));
    }
    if (!retain_graph) n->release();
    for (std::size_t k = 0; k < n->next_edges.size(); ++k) {
      const Edge& e = n->next_edges[k];
      if (!e.valid()) continue;
      if (k < out.size() && out[k].defined()) add_to_buffer(e.fn.get(), e.input_nr, out[k]);
      if (--deps[e.fn.get()] == 0) ready.push(e.fn.get());
    }
  }
  //! [engine_loop]
}

}  // namespace

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph) {
  run(roots, grads, retain_graph, nullptr);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph,
                         bool allow_unused) {
  std::unordered_map<const Node*, std::vector<Tensor>> capture;
  std::vector<Edge> edges;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    GNM_CHECK(inputs[i].defined() && inputs[i].requires_grad(), "grad input does not require grad", i);
    edges.push_back(gradient_edge(inputs[i]));
    capture[edges.back().fn.get()];
  }
  run(outputs, grad_outputs, retain_graph, &capture);
  std::vector<Tensor> result;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto& slots = capture[edges[i].fn.get()];
    const auto slot = static_cast<std::size_t>(edges[i].input_nr);
    Tensor g = slot < slots.size() ? slots[slot] : Tensor();
    GNM_CHECK(g.defined() || allow_unused, "an input of grad() was not used in the graph", i);
    result.push_back(g);
  }
  return result;
}

}  // namespace gnm::autograd
