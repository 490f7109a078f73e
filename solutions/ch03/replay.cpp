// Exercise 3.4: replaying a compiled Program forward and backward (see exercises/ch03/replay.hpp
// for the task statement).
#include "replay.hpp"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "gnm/core/check.hpp"

namespace gnm::ch03 {

std::int32_t find_slot(const Program& p, std::string_view name) {
  for (std::size_t i = 0; i < p.slots.size(); ++i) {
    if (p.slots[i].name == name) return static_cast<std::int32_t>(i);
  }
  throw Error("find_slot: the program has no slot named '" + std::string(name) + "'");
}

//! [replay_forward]
void replay_forward(Program& p) {
  // BEGIN SOLUTION("ex 3.4", "for each step: forward_op(step.op, value of in0, value of in1 (or an empty ConstMat), {step.scalar, p.labels}, out.value.view(), out.aux.view())")
  for (const Step& s : p.steps) {
    Slot& out = p.slots[static_cast<std::size_t>(s.out)];
    const ConstMat a = p.slots[static_cast<std::size_t>(s.in0)].value.view();
    const ConstMat b = s.in1 >= 0 ? p.slots[static_cast<std::size_t>(s.in1)].value.view() : ConstMat{};
    forward_op(s.op, a, b, OpAttrs{s.scalar, p.labels}, out.value.view(), out.aux.view());
  }
  // END SOLUTION
}
//! [replay_forward]

//! [replay_backward]
void replay_backward(Program& p) {
  // BEGIN SOLUTION("ex 3.4", "zero every needs_grad grad; check and seed the loss grad with 1; walk the steps backwards calling backward_op, with a null Mat for operands that need no grad")
  GNM_CHECK(p.loss >= 0 && static_cast<std::size_t>(p.loss) < p.slots.size(),
            "replay_backward: the program has no loss slot", p.loss);
  Slot& loss = p.slots[static_cast<std::size_t>(p.loss)];
  GNM_CHECK(loss.value.rows() == 1 && loss.value.cols() == 1 && loss.needs_grad,
            "replay_backward: the loss must be a (1, 1) slot that depends on a parameter",
            loss.name, loss.value.rows(), loss.value.cols(), loss.needs_grad);
  for (Slot& s : p.slots) {
    if (s.needs_grad) std::fill(s.grad.values().begin(), s.grad.values().end(), 0.0);
  }
  loss.grad(0, 0) = 1.0;  // ∂loss/∂loss
  // The gradient a Slot receives, or a null view of its shape when nobody wants it.
  auto grad_of = [&](std::int32_t i) -> Mat {
    if (i < 0) return {};
    Slot& s = p.slots[static_cast<std::size_t>(i)];
    if (!s.needs_grad) return {nullptr, s.value.rows(), s.value.cols()};
    return s.grad.view();
  };
  auto value_of = [&](std::int32_t i) -> ConstMat {
    return i < 0 ? ConstMat{} : std::as_const(p.slots[static_cast<std::size_t>(i)].value).view();
  };
  for (auto it = p.steps.rbegin(); it != p.steps.rend(); ++it) {
    const Step& s = *it;
    const Slot& out = p.slots[static_cast<std::size_t>(s.out)];
    if (!out.needs_grad) continue;  // no parameter upstream: nothing to propagate
    backward_op(s.op, value_of(s.in0), value_of(s.in1), out.value.view(), out.aux.view(),
                OpAttrs{s.scalar, p.labels}, out.grad.view(), grad_of(s.in0), grad_of(s.in1));
  }
  // END SOLUTION
}
//! [replay_backward]

}  // namespace gnm::ch03
