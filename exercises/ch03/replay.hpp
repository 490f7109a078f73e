// Exercise 3.4 — replaying a compiled static graph, forward and backward (section 3.5).
//
// Write, in exercises/ch03/replay.cpp, replay_forward() and replay_backward(). Then:
//   cmake --build build && ctest --test-dir build -L exercise -R ch03/exercise/Ch03Replay
//
// A define-then-run graph is built once, simplified, and compiled into a Program: a flat list of
// steps over numbered slots whose buffers were all allocated at compile time. Running it is a
// loop with no graph construction, no sorting and no allocation, repeated for every batch. The
// chapter's compiler (chapters/ch03_autodiff/static_graph.cpp) produces Programs; the tests also
// write small ones by hand.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mat.hpp"
#include "ops.hpp"

namespace gnm::ch03 {

/// One value of a Program: an input, a parameter, a constant or the output of one step.
struct Slot {
  std::string name;         ///< For messages and lookups (find_slot).
  Matrix value;             ///< Its value: set by the caller (inputs, parameters), or by a step.
  Matrix aux;               ///< A step's auxiliary output (softmax_ce's probabilities), else empty.
  Matrix grad;              ///< ∂loss/∂value after replay_backward, when needs_grad.
  bool needs_grad = false;  ///< A parameter, or a value computed from one.
};

/// One operation: slots[out] = op(slots[in0], slots[in1]).
struct Step {
  Op op = Op::add;      ///< The primitive (never leaf or constant).
  std::int32_t out = -1;  ///< The slot written.
  std::int32_t in0 = -1;  ///< The first operand's slot.
  std::int32_t in1 = -1;  ///< The second operand's slot, or -1 for a unary op.
  double scalar = 0.0;    ///< OpAttrs::scalar (Op::scale).
};

/// A compiled graph: steps in topological order over slots whose shapes are fixed.
struct Program {
  std::vector<Slot> slots;           ///< Every value; value/grad/aux allocated at their shapes.
  std::vector<Step> steps;           ///< Forward order: each step's operands are ready before it.
  std::int32_t loss = -1;            ///< The (1, 1) slot that replay_backward differentiates.
  std::vector<std::int32_t> labels;  ///< The class labels every softmax_ce step reads.
};

/// The index of the slot called `name`; gnm::Error naming it when there is none (given).
std::int32_t find_slot(const Program& p, std::string_view name);

/// Ex 3.4. Runs every step in order: forward_op(step.op, slot values of in0 and in1, attrs,
/// the value of slot out, the aux of slot out). The attrs are {step.scalar, p.labels}. A unary
/// step passes an empty ConstMat as b. Slot buffers already have their shapes: allocate nothing.
void replay_forward(Program& p);

/// Ex 3.4. Reverse-mode sweep over the steps of the last replay_forward:
/// 1. zero the grad of every slot that needs_grad (a replay overwrites, it does not accumulate
///    across calls);
/// 2. seed: the loss slot (gnm::Error unless it is a (1, 1) slot that needs_grad) gets grad 1;
/// 3. for each step in reverse order whose output needs_grad: backward_op(...) with the saved
///    values and the output's grad, passing a null Mat ({nullptr, rows, cols}) as grad_a or
///    grad_b for an operand that does not need a gradient.
void replay_backward(Program& p);

}  // namespace gnm::ch03
