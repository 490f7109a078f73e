/// \file
/// The autograd graph (chapter 9.5): a Node per recorded op, Edges to the Nodes of its inputs, and
/// the grad mode switch. The engine (gnm::autograd::backward) walks this graph from the loss.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gnm/tensor/tensor.hpp"

namespace gnm::autograd {

/// Where a gradient goes: input slot `input_nr` of Node `fn`. Invalid (null fn) for an input that
/// needs no gradient.
struct Edge {
  std::shared_ptr<Node> fn;  ///< The Node that receives the gradient.
  int input_nr = 0;          ///< Which of its outputs' gradients this is.
  /// True when the edge leads somewhere.
  bool valid() const noexcept { return fn != nullptr; }
};

/// One recorded op: the backward function of its forward.
///
/// A Node receives the gradients of its forward's outputs and returns the gradients of the
/// forward's inputs, in the order of next_edges (an undefined Tensor for an input that needs
/// none). After a backward without retain_graph the engine calls release(); apply() on a released
/// node throws gnm::Error ("backward through the graph a second time").
class Node : public std::enable_shared_from_this<Node> {
 public:
  Node();
  virtual ~Node();
  Node(const Node&) = delete;             ///< Identity matters (graph vertex).
  Node& operator=(const Node&) = delete;  ///< Identity matters (graph vertex).

  /// The PyTorch-style name, e.g. "MulBackward0" (printed after grad_fn= in Tensor::str()).
  virtual std::string name() const = 0;
  /// Gradients of the inputs from the gradients of the outputs (`grads.size()` == num_outputs).
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grads) = 0;
  /// Frees saved tensors; later apply() throws. The base version marks the node released.
  virtual void release();
  /// True after release().
  bool released() const noexcept { return released_; }
  /// Throws the "backward through the graph a second time" gnm::Error when released.
  void check_not_released() const;

  std::vector<Edge> next_edges;  ///< One per forward input, in order.
  int num_outputs = 1;           ///< Forward outputs (gradient slots).
  std::uint64_t sequence_nr;     ///< Creation order; the engine runs later nodes first.
  /// Shape, dtype and device of each forward output: incoming gradients are checked against them.
  std::vector<Shape> output_shapes;
  std::vector<DType> output_dtypes;    ///< See output_shapes.
  std::vector<Device> output_devices;  ///< See output_shapes.

 protected:
  bool released_ = false;  ///< Set by release().
};

/// The sink of a leaf tensor: adds the incoming gradient into the leaf's .grad.
class AccumulateGrad final : public Node {
 public:
  /// Accumulates into `leaf` (held weakly: a graph does not keep parameters alive).
  explicit AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf);
  std::string name() const override { return "AccumulateGrad"; }  ///< As PyTorch names it.
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override;  ///< leaf.grad += grads[0].
  void release() override {}  ///< Never released: a leaf can take any number of backwards.

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

/// \name Grad mode
///@{

/// True unless a NoGradGuard is alive on this thread: ops record nodes only when enabled.
bool grad_mode_enabled() noexcept;
/// Disables recording on this thread for its lifetime (torch.no_grad()).
class NoGradGuard {
 public:
  NoGradGuard();   ///< Disables grad mode.
  ~NoGradGuard();  ///< Restores the previous mode.
  NoGradGuard(const NoGradGuard&) = delete;             ///< Scoped.
  NoGradGuard& operator=(const NoGradGuard&) = delete;  ///< Scoped.

 private:
  bool previous_;
};
/// Enables recording on this thread for its lifetime, also inside a NoGradGuard or a backward
/// (torch.enable_grad): gradient checkpointing records its recomputation with it.
class EnableGradGuard {
 public:
  EnableGradGuard();   ///< Enables grad mode.
  ~EnableGradGuard();  ///< Restores the previous mode.
  EnableGradGuard(const EnableGradGuard&) = delete;             ///< Scoped.
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;  ///< Scoped.

 private:
  bool previous_;
};
///@}

/// \name Recording helpers used by every differentiable op
///@{

/// True when grad mode is on and any of `inputs` requires grad: the op must record a node.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
/// The edge into the graph for input `t`: its grad_fn, its leaf AccumulateGrad (created once and
/// cached weakly), or an invalid edge when it needs no gradient.
Edge gradient_edge(const Tensor& t);
/// Connects `node` to `inputs` (next_edges) and makes `outputs` its results: each gets
/// requires_grad, grad_fn = node and its output_nr; node records their shapes/dtypes/devices.
void set_history(const std::shared_ptr<Node>& node, std::initializer_list<const Tensor*> inputs,
                 std::initializer_list<Tensor*> outputs);
///@}

/// Runs backward from `roots` with initial gradients `grads` (same count; each defined, with its
/// root's shape). Gradients reach leaves' .grad; saved tensors are released unless retain_graph.
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads,
              bool retain_graph = false);

/// The gradients of `outputs` (with `grad_outputs`) with respect to `inputs`, returned instead of
/// accumulated into .grad (torch.autograd.grad). Inputs that are not reached get an undefined
/// Tensor unless `allow_unused` is false (then gnm::Error names the input index).
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph = false,
                         bool allow_unused = false);

}  // namespace gnm::autograd
