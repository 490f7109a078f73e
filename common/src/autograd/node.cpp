// Nodes, grad mode and the recording helpers every differentiable op uses.
#include "gnm/autograd/node.hpp"

#include <atomic>

#include "gnm/tensor/ops.hpp"

namespace gnm::autograd {

namespace {
std::atomic<std::uint64_t> g_sequence{0};
thread_local bool t_grad_enabled = true;
}  // namespace

Node::Node() : sequence_nr(g_sequence.fetch_add(1, std::memory_order_relaxed)) {}
Node::~Node() = default;

void Node::release() { released_ = true; }

void Node::check_not_released() const {
  GNM_CHECK(!released_,
            "trying to backward through the graph a second time (or to use saved tensors after "
            "they were freed); pass retain_graph = true to the first backward",
            name());
}

AccumulateGrad::AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf) : leaf_(leaf) {}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>&& grads) {
  auto leaf_impl = leaf_.lock();
  if (!leaf_impl) return {};  // the parameter is gone: nothing to accumulate into
  Tensor leaf(leaf_impl);
  Tensor g = grads[0];
  if (!leaf_impl->grad) {
    // Steal the incoming gradient only when nothing else can see its memory (its storage has one
    // impl, held here and in `grads`); otherwise copy: AddBackward hands the same tensor to both
    // inputs, and an in-place clip of one .grad must not scale the other.
    const bool exclusive = g.is_contiguous() && g.storage().use_count() == 1 &&
                           g.impl_ptr().use_count() <= 2;
    leaf.set_grad(exclusive ? g : g.clone().detach());
  } else {
    Tensor old(leaf_impl->grad);
    leaf.set_grad(add(old, g).detach());
  }
  return {};
}

bool grad_mode_enabled() noexcept { return t_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }
EnableGradGuard::EnableGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = true; }
EnableGradGuard::~EnableGradGuard() { t_grad_enabled = previous_; }

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t != nullptr && t->defined() && t->requires_grad()) return true;
  return false;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  TensorImpl& impl = t.impl();
  if (impl.grad_fn) return {impl.grad_fn, impl.output_nr};
  std::shared_ptr<Node> acc = impl.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    impl.grad_accumulator = acc;
  }
  return {acc, 0};
}

void set_history(const std::shared_ptr<Node>& node, std::initializer_list<const Tensor*> inputs,
                 std::initializer_list<Tensor*> outputs) {
  node->next_edges.clear();
  for (const Tensor* t : inputs) node->next_edges.push_back(t ? gradient_edge(*t) : Edge{});
  node->num_outputs = static_cast<int>(outputs.size());
  int nr = 0;
  for (Tensor* out : outputs) {
    TensorImpl& impl = out->impl();
    impl.requires_grad = true;
    impl.grad_fn = node;
    impl.output_nr = nr++;
    node->output_shapes.push_back(impl.shape);
    node->output_dtypes.push_back(impl.dtype);
    node->output_devices.push_back(out->device());
  }
}

}  // namespace gnm::autograd
