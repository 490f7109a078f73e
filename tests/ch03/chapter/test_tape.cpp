// The tape of sections 3.2 and 3.3: every primitive against central differences, fan-out,
// misuse (typed errors naming what is wrong), memory accounting, and the committed DOT figure.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"
#include "sections.hpp"
#include "tape.hpp"

namespace {

using namespace chapter3;

Matrix filled(std::int64_t r, std::int64_t c, double start) {
  Matrix m(r, c);
  for (std::size_t i = 0; i < m.values().size(); ++i) m.values()[i] = start + 0.1 * static_cast<double>(i);
  return m;
}

// EXPECT_THROW plus a check of the message.
template <class E, class F>
void expect_error(F f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(Ch03Tape, EveryPrimitiveMatchesCentralDifferences) {
  for (const PrimitiveCheck& c : check_all_primitives()) {
    EXPECT_TRUE(c.ok) << c.op << ": max error " << c.max_error << " > " << c.tolerance;
    EXPECT_GT(c.checked, 0) << c.op;
  }
}

TEST(Ch03Tape, MlpGradientsMatchCentralDifferences) {
  const Section s = run_graph_section("");
  EXPECT_TRUE(s.verified);
}

TEST(Ch03Tape, FanOutAccumulates) {
  Tape tape;
  const Var x = tape.leaf(filled(2, 3, -0.4), "x");
  const Var y = sum(x * x + tanh(x) + x);  // x feeds four uses
  tape.backward(y);
  const Matrix g = tape.grad(x), xv = tape.value(x);
  for (std::size_t i = 0; i < 6; ++i) {
    const double v = xv.values()[i], t = std::tanh(v);
    EXPECT_NEAR(g.values()[i], 2 * v + (1 - t * t) + 1, 1e-15);
  }
}

TEST(Ch03Tape, BackwardTwiceNeedsKeepGraph) {
  Tape tape;
  const Var w = tape.leaf(filled(2, 2, 0.3), "w");
  const Var loss = mean(exp(w, "e"), "loss");
  tape.backward(loss);
  const Matrix first = tape.grad(w);
  expect_error<gnm::Error>([&] { tape.backward(loss); }, {"second time", "keep_graph"});
  EXPECT_EQ(tape.grad(w).values(), first.values()) << "a refused backward must change nothing";

  Tape kept;
  const Var w2 = kept.leaf(filled(2, 2, 0.3), "w");
  const Var loss2 = mean(exp(w2));
  kept.backward(loss2, nullptr, /*keep_graph=*/true);
  kept.backward(loss2);  // allowed once more; gradients accumulate as in PyTorch
  for (std::size_t i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(kept.grad(w2).values()[i], 2 * first.values()[i]);
  kept.zero_grad();
  EXPECT_EQ(kept.grad(w2).values(), std::vector<double>(4, 0.0));
}

TEST(Ch03Tape, NonScalarRootNeedsASeed) {
  Tape tape;
  const Var x = tape.leaf(filled(2, 3, 0.1), "x");
  const Var y = tanh(x, "y");
  expect_error<gnm::ShapeError>([&] { tape.backward(y); }, {"seed", "(2, 3)", "y"});
  const Matrix bad(3, 2, 1.0);
  expect_error<gnm::ShapeError>([&] { tape.backward(y, &bad); }, {"(3, 2)", "(2, 3)"});
  const Matrix ones(2, 3, 1.0);
  tape.backward(y, &ones);  // the same as backward(sum(y))
  const Matrix g = tape.grad(x), xv = tape.value(x);
  for (std::size_t i = 0; i < 6; ++i) {
    const double t = std::tanh(xv.values()[i]);
    EXPECT_NEAR(g.values()[i], 1 - t * t, 1e-15);
  }
}

TEST(Ch03Tape, ShapeMismatchNamesBothShapes) {
  Tape tape;
  const Var a = tape.leaf(Matrix(2, 3), "a"), b = tape.leaf(Matrix(4, 5), "b");
  expect_error<gnm::ShapeError>([&] { (void)matmul(a, b); }, {"matmul", "(2, 3)", "(4, 5)"});
  expect_error<gnm::ShapeError>([&] { (void)(a + b); }, {"add", "(2, 3)", "(4, 5)"});
  expect_error<gnm::ShapeError>([&] { (void)add_bias(a, tape.leaf(Matrix(1, 2), "bias")); },
                                {"add_bias", "(1, 2)"});
  EXPECT_EQ(tape.size(), 3u) << "a refused op must not be recorded";
}

TEST(Ch03Tape, OtherMisuse) {
  Tape t1, t2;
  const Var a = t1.leaf(Matrix(1, 1, 2.0), "a"), b = t2.leaf(Matrix(1, 1, 3.0), "b");
  EXPECT_THROW((void)(a * b), gnm::Error);  // operands from two tapes
  const Var c = t1.constant(Matrix(1, 1, 2.0), "c");
  expect_error<gnm::Error>([&] { t1.backward(exp(c)); }, {"requires a gradient"});
  const Var logits = t1.leaf(Matrix(2, 3), "z");
  const std::vector<std::int32_t> bad = {0, 3};
  expect_error<gnm::Error>([&] { (void)softmax_cross_entropy(logits, bad); }, {"label out of range"});
  const std::vector<std::int32_t> short_labels = {0};
  EXPECT_THROW((void)softmax_cross_entropy(logits, short_labels), gnm::ShapeError);
  EXPECT_THROW(t1.reset(), gnm::Error);  // handles are alive
  expect_error<gnm::Error>([&] { (void)t1.grad(a); }, {"no gradient", "a"});
}

TEST(Ch03Tape, ResetReusesMemory) {
  Tape tape;
  for (int step = 0; step < 3; ++step) {
    {
      const Var w = tape.leaf(filled(8, 8, 0.1), "w");
      tape.backward(mean(tanh(matmul(w, w))));
    }
    tape.reset();
    EXPECT_EQ(tape.size(), 0u);
    EXPECT_EQ(tape.memory().activation_bytes + tape.memory().grad_bytes + tape.memory().leaf_bytes, 0u);
  }
  // Step 1 takes buffers from the system; steps 2 and 3 reuse the pool's cached ones.
  const TapeMemory m = tape.memory();
  EXPECT_GT(m.pool_reuses, 0u);
}

TEST(Ch03Tape, ReleaseFreesSavedValuesAsBackwardConsumesThem) {
  Tape tape(SavePolicy::release_after_use);
  const Var x = tape.constant(filled(4, 4, 0.0), "x");
  const Var w = tape.leaf(filled(4, 4, -0.5), "w");
  Var loss;
  {
    const Var h = tanh(matmul(x, w));  // matmul's output dies now; tanh saves its own output
    loss = mean(h);
  }
  const std::size_t bytes = 16 * sizeof(double);
  EXPECT_EQ(tape.memory().activation_bytes, bytes + sizeof(double));  // h and the loss
  tape.backward(loss);
  EXPECT_EQ(tape.memory().activation_bytes, sizeof(double)) << "only the loss, held by its handle";
  EXPECT_EQ(tape.memory().grad_bytes, bytes) << "only the leaf w keeps a gradient";

  Tape keep(SavePolicy::keep_everything);
  const Var xk = keep.constant(filled(4, 4, 0.0), "x");
  const Var wk = keep.leaf(filled(4, 4, -0.5), "w");
  Var loss_k;
  {
    loss_k = mean(tanh(matmul(xk, wk)));
  }
  keep.backward(loss_k);
  EXPECT_EQ(keep.memory().activation_bytes, 2 * bytes + sizeof(double));
  EXPECT_EQ(keep.grad(wk).values(), tape.grad(w).values());
}

TEST(Ch03Tape, MemoryPredictionsHold) {
  const auto rows = measure_memory(4);
  ASSERT_EQ(rows.size(), 4u);
  for (const MemoryRow& r : rows) {
    EXPECT_EQ(r.activations_after_forward, r.predicted_after_forward) << r.workload << " " << r.policy;
    EXPECT_EQ(r.step2_system_allocations, 0u) << r.workload << " " << r.policy;
  }
  for (std::size_t i = 0; i < rows.size(); i += 2) {
    EXPECT_LT(rows[i + 1].peak_total, rows[i].peak_total);
    EXPECT_LT(rows[i + 1].peak_activations, rows[i].peak_activations);
    ASSERT_EQ(rows[i].grads.size(), rows[i + 1].grads.size());
    for (std::size_t k = 0; k < rows[i].grads.size(); ++k) {
      EXPECT_EQ(rows[i].grads[k].values(), rows[i + 1].grads[k].values());
    }
  }
}

TEST(Ch03Tape, CommittedGraphFigureIsCurrent) {
  // book/images/ch03_graph.dot is what `ch03_autodiff --section 3.2 --dot FILE` writes.
  EXPECT_EQ(gnm::read_file(GNM_CH03_GRAPH_DOT), small_mlp_dot())
      << "regenerate: ch03_autodiff --section 3.2 --dot book/images/ch03_graph.dot";
}

}  // namespace
