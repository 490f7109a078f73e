// Section 3.5: a define-then-run graph. The model is described once as a small IR (nodes with an
// op, inputs and a shape, shapes checked as the graph is built), simplified by dead-code
// elimination and constant folding, and compiled into a gnm::ch03::Program that
// replay_forward / replay_backward (exercise 3.4) run for every batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mat.hpp"
#include "ops.hpp"
#include "replay.hpp"

namespace chapter3 {

using gnm::ch03::Matrix;
using gnm::ch03::Op;
using gnm::ch03::Program;
using gnm::ch03::Shape2;

/// What a leaf of the IR is.
enum class LeafKind { input, parameter, constant };

/// One node of the IR.
struct IrNode {
  Op op = Op::leaf;                   ///< leaf, constant or a primitive.
  LeafKind leaf = LeafKind::input;    ///< For Op::leaf: an input (fed per run) or a parameter.
  std::vector<std::int32_t> inputs;   ///< Operand node ids.
  Shape2 shape;                       ///< Output shape, inferred when the node is added.
  double scalar = 0.0;                ///< Op::scale's factor.
  std::string name;                   ///< Unique name (slot lookup, messages).
  Matrix value;                       ///< Op::constant's value.
};

/// Builds the IR: every call adds a node and returns its id. Shapes are inferred and checked at
/// once (gnm::ShapeError naming both shapes), before any data exists.
class GraphBuilder {
 public:
  /// A value fed at every run (a batch of data).
  std::int32_t input(std::string name, Shape2 shape);
  /// A trainable value: the compiled program computes its gradient.
  std::int32_t parameter(std::string name, Shape2 shape);
  /// A value known now: foldable.
  std::int32_t constant(std::string name, Matrix value);
  /// op(a, b) (b = -1 for a unary op).
  std::int32_t apply(Op op, std::int32_t a, std::int32_t b = -1, double scalar = 0.0,
                     std::string name = {});
  /// A graph rewrite: operand `which` of `node` becomes `new_input` (same shape required). A
  /// rewrite can create a cycle; compile() reports it.
  void replace_input(std::int32_t node, int which, std::int32_t new_input);
  /// The nodes.
  const std::vector<IrNode>& nodes() const { return nodes_; }

 private:
  std::int32_t add(IrNode n);
  void check_id(std::int32_t id, const char* what) const;
  std::vector<IrNode> nodes_;
};

/// What compile() did.
struct CompileStats {
  int built = 0;          ///< Nodes in the builder.
  int after_dce = 0;      ///< Nodes the output depends on.
  int folded = 0;         ///< Operations evaluated at compile time (all inputs constant).
  int after_folding = 0;  ///< Nodes left after folding and a second elimination.
  int steps = 0;          ///< Operations in the program.
};

/// Compiles the subgraph `output` depends on into a Program whose loss slot is `output`:
/// topological order (gnm::Error naming a node on a cycle), dead-code elimination, constant
/// folding, one slot per remaining node with its buffers allocated, one step per operation.
/// Parameters and inputs keep their names as slot names (gnm::ch03::find_slot).
Program compile(const GraphBuilder& graph, std::int32_t output, CompileStats* stats = nullptr);

}  // namespace chapter3
