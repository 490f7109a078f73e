// Exercise 3.4: replaying hand-compiled Programs — forward against a direct computation,
// backward against central differences of that computation, replays that do not accumulate,
// constants without gradients, and the loss checks. Every test runs replay_forward first, so
// each fails on the generated stub.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/philox.hpp"
#include "replay.hpp"

namespace {

using gnm::ch03::Matrix;
using gnm::ch03::Op;
using gnm::ch03::Program;
using gnm::ch03::Slot;
using gnm::ch03::Step;

constexpr double kEps = std::numeric_limits<double>::epsilon();

Matrix sample(std::int64_t r, std::int64_t c, std::uint64_t seed) {
  Matrix m(r, c);
  const gnm::PhiloxRng rng(seed);
  for (std::size_t i = 0; i < m.values().size(); ++i) m.values()[i] = 2.0 * static_cast<double>(rng.uniform(i)) - 1.0;
  return m;
}

Slot slot(const char* name, std::int64_t r, std::int64_t c, bool needs_grad) {
  Slot s;
  s.name = name;
  // Poisoned: a replay that forgets to write a value or zero a gradient shows up as NaN.
  s.value = Matrix(r, c, std::numeric_limits<double>::quiet_NaN());
  if (needs_grad) s.grad = Matrix(r, c, std::numeric_limits<double>::quiet_NaN());
  s.needs_grad = needs_grad;
  return s;
}

Step step(Op op, std::int32_t out, std::int32_t in0, std::int32_t in1 = -1) {
  Step s;
  s.op = op;
  s.out = out;
  s.in0 = in0;
  s.in1 = in1;
  return s;
}

// loss = softmax_ce(tanh(x·W + b) ⊙ C, labels): x (5, 3) input, W (3, 4) and b (1, 4)
// parameters, C (5, 4) a constant.
struct Net {
  Matrix x = sample(5, 3, 1), w = sample(3, 4, 2), b = sample(1, 4, 3), c = sample(5, 4, 4);
  std::vector<std::int32_t> labels = {0, 3, 1, 2, 3};
};

Program make_program(const Net& n) {
  Program p;
  p.slots = {slot("x", 5, 3, false), slot("W", 3, 4, true), slot("b", 1, 4, true),
             slot("C", 5, 4, false), slot("z", 5, 4, true), slot("a", 5, 4, true),
             slot("t", 5, 4, true), slot("m", 5, 4, true), slot("loss", 1, 1, true)};
  p.slots[0].value = n.x;
  p.slots[1].value = n.w;
  p.slots[2].value = n.b;
  p.slots[3].value = n.c;
  p.slots[8].aux = Matrix(5, 4);
  p.steps = {step(Op::matmul, 4, 0, 1), step(Op::add_bias, 5, 4, 2), step(Op::tanh, 6, 5),
             step(Op::mul, 7, 6, 3), step(Op::softmax_ce, 8, 7)};
  p.loss = 8;
  p.labels = n.labels;
  return p;
}

// The same loss, written out directly.
double reference_loss(const Net& n) {
  double total = 0.0;
  for (int i = 0; i < 5; ++i) {
    double m[4], mx = -1e300;
    for (int j = 0; j < 4; ++j) {
      double z = n.b(0, j);
      for (int k = 0; k < 3; ++k) z += n.x(i, k) * n.w(k, j);
      m[j] = std::tanh(z) * n.c(i, j);
      mx = std::max(mx, m[j]);
    }
    double s = 0.0;
    for (double v : m) s += std::exp(v - mx);
    total += mx + std::log(s) - m[n.labels[static_cast<std::size_t>(i)]];
  }
  return total / 5.0;
}

TEST(Ch03Replay, ForwardComputesTheLoss) {
  const Net n;
  Program p = make_program(n);
  gnm::ch03::replay_forward(p);
  EXPECT_NEAR(p.slots[8].value(0, 0), reference_loss(n), 64 * kEps);
  for (double v : p.slots[6].value.values()) EXPECT_TRUE(std::isfinite(v));  // every step wrote
}

TEST(Ch03Replay, BackwardMatchesCentralDifferences) {
  Net n;
  Program p = make_program(n);
  gnm::ch03::replay_forward(p);
  gnm::ch03::replay_backward(p);
  // Note [Central-difference tolerance]: h = 1e-5, |L'''| ≤ 100, L a sum of O(20) terms of O(1).
  const double h = 1e-5, tol = h * h * 100.0 / 6.0 + 64.0 * kEps * 20.0 / h;
  for (Matrix* param : {&n.w, &n.b}) {
    const Matrix& grad = param == &n.w ? p.slots[1].grad : p.slots[2].grad;
    for (std::size_t i = 0; i < param->values().size(); ++i) {
      const double x0 = param->values()[i];
      param->values()[i] = x0 + h;
      const double up = reference_loss(n);
      param->values()[i] = x0 - h;
      const double down = reference_loss(n);
      param->values()[i] = x0;
      EXPECT_NEAR(grad.values()[i], (up - down) / (2 * h), tol) << (param == &n.w ? "W" : "b") << i;
    }
  }
  EXPECT_DOUBLE_EQ(p.slots[8].grad(0, 0), 1.0);  // the seed
}

TEST(Ch03Replay, ReplaysOverwriteAndFollowNewInputs) {
  Net n;
  Program p = make_program(n);
  gnm::ch03::replay_forward(p);
  gnm::ch03::replay_backward(p);
  const Matrix first = p.slots[1].grad;
  gnm::ch03::replay_forward(p);
  gnm::ch03::replay_backward(p);
  EXPECT_EQ(p.slots[1].grad.values(), first.values()) << "gradients accumulated across replays";
  // A new batch in the input slot and new labels: the replay computes the new loss.
  n.x = sample(5, 3, 9);
  n.labels = {2, 2, 0, 1, 0};
  p.slots[0].value = n.x;
  p.labels = n.labels;
  gnm::ch03::replay_forward(p);
  EXPECT_NEAR(p.slots[8].value(0, 0), reference_loss(n), 64 * kEps);
}

TEST(Ch03Replay, SlotsWithoutGradientsStayUntouched) {
  const Net n;
  Program p = make_program(n);
  gnm::ch03::replay_forward(p);
  gnm::ch03::replay_backward(p);
  EXPECT_EQ(p.slots[0].grad.numel(), 0);  // the input x: no buffer, nothing written
  EXPECT_EQ(p.slots[3].grad.numel(), 0);  // the constant C
  EXPECT_EQ(p.slots[0].value.values(), n.x.values());
  for (double v : p.slots[1].grad.values()) EXPECT_TRUE(std::isfinite(v));
}

TEST(Ch03Replay, LossMustBeAScalarThatNeedsAGradient) {
  const Net n;
  Program p = make_program(n);
  gnm::ch03::replay_forward(p);
  Program not_scalar = p;
  not_scalar.loss = 6;  // t is (5, 4)
  EXPECT_THROW(gnm::ch03::replay_backward(not_scalar), gnm::Error);
  Program no_params = p;
  for (Slot& s : no_params.slots) s.needs_grad = false;
  EXPECT_THROW(gnm::ch03::replay_backward(no_params), gnm::Error);
  Program no_loss = p;
  no_loss.loss = -1;
  EXPECT_THROW(gnm::ch03::replay_backward(no_loss), gnm::Error);
}

}  // namespace
