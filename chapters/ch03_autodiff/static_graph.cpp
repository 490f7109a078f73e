// The define-then-run graph of section 3.5 (see static_graph.hpp).
#include "static_graph.hpp"

#include <optional>
#include <string_view>
#include <utility>

#include "gnm/core/check.hpp"
#include "topo_sort.hpp"

namespace chapter3 {

std::int32_t GraphBuilder::add(IrNode n) {
  if (n.name.empty()) n.name = std::string(gnm::ch03::op_name(n.op)) + std::to_string(nodes_.size());
  nodes_.push_back(std::move(n));
  return static_cast<std::int32_t>(nodes_.size() - 1);
}

void GraphBuilder::check_id(std::int32_t id, const char* what) const {
  GNM_CHECK(id >= 0 && static_cast<std::size_t>(id) < nodes_.size(),
            "GraphBuilder: not a node of this graph", what, id, nodes_.size());
}

namespace {
IrNode leaf_node(Op op, LeafKind kind, Shape2 shape, std::string name) {
  IrNode n;
  n.op = op;
  n.leaf = kind;
  n.shape = shape;
  n.name = std::move(name);
  return n;
}
}  // namespace

std::int32_t GraphBuilder::input(std::string name, Shape2 shape) {
  return add(leaf_node(Op::leaf, LeafKind::input, shape, std::move(name)));
}

std::int32_t GraphBuilder::parameter(std::string name, Shape2 shape) {
  return add(leaf_node(Op::leaf, LeafKind::parameter, shape, std::move(name)));
}

std::int32_t GraphBuilder::constant(std::string name, Matrix value) {
  IrNode n = leaf_node(Op::constant, LeafKind::constant, value.shape(), std::move(name));
  n.value = std::move(value);
  return add(std::move(n));
}

std::int32_t GraphBuilder::apply(Op op, std::int32_t a, std::int32_t b, double scalar,
                                 std::string name) {
  const int arity = gnm::ch03::op_arity(op);
  GNM_CHECK(arity >= 1, "GraphBuilder::apply: not an operation", gnm::ch03::op_name(op));
  check_id(a, "a");
  if (arity == 2) check_id(b, "b");
  const Shape2 shape = gnm::ch03::infer_shape(
      op, nodes_[static_cast<std::size_t>(a)].shape,
      arity == 2 ? nodes_[static_cast<std::size_t>(b)].shape : Shape2{});
  IrNode n;
  n.op = op;
  n.shape = shape;
  n.scalar = scalar;
  n.name = std::move(name);
  n.inputs.push_back(a);
  if (arity == 2) n.inputs.push_back(b);
  return add(std::move(n));
}

void GraphBuilder::replace_input(std::int32_t node, int which, std::int32_t new_input) {
  check_id(node, "node");
  check_id(new_input, "new_input");
  IrNode& n = nodes_[static_cast<std::size_t>(node)];
  GNM_CHECK(which >= 0 && static_cast<std::size_t>(which) < n.inputs.size(),
            "replace_input: the node has no such operand", n.name, which);
  const Shape2 old_shape = nodes_[static_cast<std::size_t>(n.inputs[static_cast<std::size_t>(which)])].shape;
  const Shape2 new_shape = nodes_[static_cast<std::size_t>(new_input)].shape;
  GNM_CHECK_SHAPE(old_shape == new_shape, "replace_input: the new operand has another shape",
                  n.name, gnm::ch03::shape_string(old_shape), gnm::ch03::shape_string(new_shape));
  n.inputs[static_cast<std::size_t>(which)] = new_input;
}

//! [compile]
Program compile(const GraphBuilder& graph, std::int32_t output, CompileStats* stats) {
  const auto& nodes = graph.nodes();
  const std::size_t n = nodes.size();
  std::vector<std::vector<std::int32_t>> inputs(n);
  std::vector<std::string_view> names(n);
  for (std::size_t i = 0; i < n; ++i) {
    inputs[i] = nodes[i].inputs;
    names[i] = nodes[i].name;
  }
  // 1. Dead-code elimination: only what the output depends on survives (and a cycle throws).
  const std::vector<std::int32_t> live = gnm::ch03::topological_order(inputs, output, names);

  // 2. Constant folding: an operation whose operands are all known is evaluated now, once.
  std::vector<std::optional<Matrix>> known(n);
  int folded = 0;
  for (std::int32_t id : live) {
    const IrNode& node = nodes[static_cast<std::size_t>(id)];
    if (node.op == Op::constant) known[static_cast<std::size_t>(id)] = node.value;
    if (node.op == Op::leaf || node.op == Op::constant || node.op == Op::softmax_ce) continue;
    bool all_known = true;
    for (std::int32_t in : node.inputs) all_known = all_known && known[static_cast<std::size_t>(in)];
    if (!all_known) continue;
    Matrix value(node.shape.rows, node.shape.cols);
    const auto& a = *known[static_cast<std::size_t>(node.inputs[0])];
    const gnm::ch03::ConstMat b = node.inputs.size() > 1
                                      ? known[static_cast<std::size_t>(node.inputs[1])]->view()
                                      : gnm::ch03::ConstMat{};
    gnm::ch03::forward_op(node.op, a.view(), b, {node.scalar, {}}, value.view(), {});
    known[static_cast<std::size_t>(id)] = std::move(value);
    inputs[static_cast<std::size_t>(id)].clear();  // now a leaf: its operands may become dead
    ++folded;
  }
  // 3. A second elimination drops the constants that only fed folded nodes.
  const std::vector<std::int32_t> order = gnm::ch03::topological_order(inputs, output, names);

  // 4. One slot per node, buffers allocated once; one step per remaining operation.
  Program p;
  std::vector<std::int32_t> slot_of(n, -1);
  for (std::int32_t id : order) {
    const IrNode& node = nodes[static_cast<std::size_t>(id)];
    gnm::ch03::Slot s;
    s.name = node.name;
    if (known[static_cast<std::size_t>(id)]) {
      s.value = *known[static_cast<std::size_t>(id)];
    } else {
      s.value = Matrix(node.shape.rows, node.shape.cols);
    }
    const bool is_op = !known[static_cast<std::size_t>(id)] && node.op != Op::leaf;
    s.needs_grad = node.op == Op::leaf && node.leaf == LeafKind::parameter;
    if (is_op) {
      for (std::int32_t in : node.inputs) {
        const auto in_slot = static_cast<std::size_t>(slot_of[static_cast<std::size_t>(in)]);
        s.needs_grad = s.needs_grad || p.slots[in_slot].needs_grad;
      }
      if (gnm::ch03::has_aux(node.op)) {
        const Shape2 in_shape = nodes[static_cast<std::size_t>(node.inputs[0])].shape;
        s.aux = Matrix(in_shape.rows, in_shape.cols);
      }
    }
    if (s.needs_grad) s.grad = Matrix(node.shape.rows, node.shape.cols);
    slot_of[static_cast<std::size_t>(id)] = static_cast<std::int32_t>(p.slots.size());
    p.slots.push_back(std::move(s));
    if (is_op) {
      gnm::ch03::Step step;
      step.op = node.op;
      step.out = slot_of[static_cast<std::size_t>(id)];
      step.in0 = slot_of[static_cast<std::size_t>(node.inputs[0])];
      step.scalar = node.scalar;
      if (node.inputs.size() > 1) step.in1 = slot_of[static_cast<std::size_t>(node.inputs[1])];
      p.steps.push_back(step);
    }
  }
  p.loss = slot_of[static_cast<std::size_t>(output)];
  if (stats) {
    *stats = {static_cast<int>(n), static_cast<int>(live.size()), folded,
              static_cast<int>(order.size()), static_cast<int>(p.steps.size())};
  }
  return p;
}
//! [compile]

}  // namespace chapter3
