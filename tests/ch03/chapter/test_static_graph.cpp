// Sections 3.1, 3.4 and 3.5 outside the exercises: the static graph's simplifications and
// errors, static against dynamic, typed tensors against the tape (tape merging included), and
// the forward/reverse operation counts.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "forward_reverse.hpp"
#include "gnm/core/error.hpp"
#include "sections.hpp"
#include "static_graph.hpp"
#include "typed_tensor.hpp"

namespace {

using namespace chapter3;

TEST(Ch03StaticGraph, SimplifiesAndAgreesWithTheTape) {
  const StaticDynamic r = run_static_dynamic(32, 0);
  EXPECT_EQ(r.nodes_built, 17);
  EXPECT_EQ(r.nodes_after_dce, 15);      // the probe branch (relu, mean) is dead
  EXPECT_EQ(r.nodes_folded, 2);          // log(prior) and its scaling are constants
  EXPECT_EQ(r.nodes_after_folding, 13);  // and prior itself is now dead
  EXPECT_EQ(r.steps, 7);
  EXPECT_EQ(r.tape_operations, 11);      // the dynamic tape runs all of them, every step
  EXPECT_NEAR(r.loss_static, r.loss_dynamic, 1e-12);
  EXPECT_LE(r.max_grad_diff, 1e-12);
}

TEST(Ch03StaticGraph, ShapeErrorsAtBuildTime) {
  GraphBuilder g;
  const auto x = g.input("x", {8, 3});
  const auto w = g.parameter("W", {4, 2});
  try {
    g.apply(Op::matmul, x, w);
    FAIL() << "no ShapeError";
  } catch (const gnm::ShapeError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("(8, 3)"), std::string::npos) << m;
    EXPECT_NE(m.find("(4, 2)"), std::string::npos) << m;
  }
  EXPECT_EQ(g.nodes().size(), 2u);
  EXPECT_THROW(g.apply(Op::tanh, 7), gnm::Error);
}

TEST(Ch03StaticGraph, CycleIsReportedWithTheNodeName) {
  GraphBuilder g;
  const auto x = g.parameter("x", {2, 2});
  const auto a = g.apply(Op::tanh, x, -1, 0, "a");
  const auto b = g.apply(Op::exp, a, -1, 0, "b");
  const auto loss = g.apply(Op::mean, b, -1, 0, "loss");
  g.replace_input(a, 0, b);  // a = tanh(b), b = exp(a): a cycle
  try {
    (void)compile(g, loss);
    FAIL() << "no error";
  } catch (const gnm::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cycle"), std::string::npos) << m;
    EXPECT_TRUE(m.find("'a'") != std::string::npos || m.find("'b'") != std::string::npos) << m;
  }
  const auto v = g.parameter("v", {3, 1});
  EXPECT_THROW(g.replace_input(loss, 0, v), gnm::ShapeError);  // a rewrite may not change a shape
}

TEST(Ch03StaticGraph, CompiledProgramReplays) {
  GraphBuilder g;
  const auto w = g.parameter("w", {1, 3});
  const auto c = g.constant("c", Matrix(1, 3, {1.0, 2.0, 3.0}));
  const auto two = g.apply(Op::scale, c, -1, 2.0);                 // folded
  const auto loss = g.apply(Op::sum, g.apply(Op::mul, w, two));  // Σ w ⊙ 2c
  CompileStats stats;
  Program p = compile(g, loss, &stats);
  EXPECT_EQ(stats.folded, 1);
  EXPECT_EQ(stats.steps, 2);
  p.slots[static_cast<std::size_t>(gnm::ch03::find_slot(p, "w"))].value = Matrix(1, 3, {1.0, 1.0, 1.0});
  gnm::ch03::replay_forward(p);
  gnm::ch03::replay_backward(p);
  EXPECT_EQ(p.slots[static_cast<std::size_t>(p.loss)].value(0, 0), 12.0);
  EXPECT_EQ(p.slots[static_cast<std::size_t>(gnm::ch03::find_slot(p, "w"))].grad.values(),
            (std::vector<double>{2.0, 4.0, 6.0}));
  EXPECT_THROW(gnm::ch03::find_slot(p, "c"), gnm::Error);  // folded away
}

TEST(Ch03Typed, MatchesTheTape) {
  const TypedCheck r = check_typed_against_tape();
  EXPECT_NEAR(r.loss_typed, r.loss_tape, 1e-12);
  EXPECT_EQ(r.loss_no_tape, r.loss_typed);
  EXPECT_LE(r.max_grad_diff, 1e-12);
  EXPECT_EQ(r.recorded_ops, 2u);
  EXPECT_EQ(r.bytes_no_tape, sizeof(std::shared_ptr<const std::vector<double>>) + sizeof(std::uint64_t));
}

TEST(Ch03Typed, MergedTapesRunInReverseCreationOrder) {
  using typed::Shape;
  using typed::Tensor;
  const auto x = Tensor<Shape<2, 2>>::from({0.1, -0.2, 0.3, 0.4});
  // Two branches from x, recorded on two tapes, merged with the later branch first: the tape's
  // entries are then out of creation order, and backward must sort them.
  auto early = typed::tanh(x.traced());          // d/dx: 1 − tanh²
  auto late = typed::tanh(typed::tanh(x.traced()));
  const auto grads = typed::backward(typed::mean(typed::add(std::move(late), std::move(early))));
  const auto g = grads.grad(x).values();
  for (std::size_t i = 0; i < 4; ++i) {
    const double v = x.values()[i], t = std::tanh(v), tt = std::tanh(t);
    const double want = ((1 - t * t) + (1 - tt * tt) * (1 - t * t)) / 4.0;
    EXPECT_NEAR(g[i], want, 1e-15);
  }
}

TEST(Ch03ForwardReverse, CountsAndDerivatives) {
  const ForwardReverseResult r = run_forward_reverse(100, true);
  EXPECT_TRUE(r.verified);
  for (const ModeRow& row : r.rows) {
    if (row.function == "R^n -> R") {
      EXPECT_EQ(row.primal_ops, 3LL * row.inputs - 1);
      EXPECT_EQ(row.forward_ops, row.inputs * row.primal_ops);  // n sweeps
      EXPECT_EQ(row.reverse_ops, 2 * row.primal_ops);           // one forward, one backward
    } else {
      EXPECT_EQ(row.forward_ops, row.primal_ops);  // one sweep
      EXPECT_EQ(row.reverse_sweeps, row.outputs);
    }
  }
}

}  // namespace
