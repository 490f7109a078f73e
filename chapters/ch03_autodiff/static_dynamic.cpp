// Section 3.5: the same MLP step define-by-run (the tape of 3.2, rebuilt for every batch) and
// define-then-run (a graph built once, simplified, compiled and replayed).
//
// The model, 64 → 32 → 10 on a batch of 32 (and of 1, where per-operation overhead dominates),
// has two features a compiler can exploit:
// - a logit adjustment by class priors, logits + τ·log(prior): prior is a constant, so log and
//   scale can be computed once (constant folding);
// - a monitored statistic, mean(relu(h)), that the loss does not use (dead code). The
//   define-by-run program computes it because the code says so; the compiled graph drops it.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "gnm/core/json.hpp"
#include "gnm/core/timer.hpp"
#include "random_values.hpp"
#include "sections.hpp"
#include "static_graph.hpp"

namespace chapter3 {
namespace {

constexpr std::int64_t kIn = 64, kHidden = 32, kClasses = 10;
constexpr double kTau = 1.0;

struct MlpData {
  Matrix x, w1, b1, w2, b2, prior;
  std::vector<std::int32_t> labels;
};

MlpData make_data(std::int64_t batch) {
  MlpData d{symmetric_uniform(batch, kIn, 700, 1.0), symmetric_uniform(kIn, kHidden, 701, std::sqrt(3.0 / kIn)),
            symmetric_uniform(1, kHidden, 702, 0.1), symmetric_uniform(kHidden, kClasses, 703, std::sqrt(3.0 / kHidden)),
            symmetric_uniform(1, kClasses, 704, 0.1), Matrix(1, kClasses), {}};
  double total = 0.0;  // class frequencies: (c + 1) / Σ
  for (std::int64_t c = 0; c < kClasses; ++c) total += static_cast<double>(c + 1);
  for (std::int64_t c = 0; c < kClasses; ++c) d.prior(0, c) = static_cast<double>(c + 1) / total;
  for (std::int64_t i = 0; i < batch; ++i) d.labels.push_back(static_cast<std::int32_t>((i * 3) % kClasses));
  return d;
}

//! [dynamic_step]
// Define-by-run: the graph is whatever this code executes, recorded anew for every batch.
struct DynamicResult {
  double loss;
  std::vector<Matrix> grads;
  int nodes, operations;  // recorded this step
};
DynamicResult dynamic_step(Tape& tape, const MlpData& d, bool read_grads) {
  DynamicResult r{};
  {
    const Var x = tape.constant(d.x, "x");  // this batch (copied, as the static replay does)
    const Var w1 = tape.parameter(d.w1, "W1"), b1 = tape.parameter(d.b1, "b1");  // not copied
    const Var w2 = tape.parameter(d.w2, "W2"), b2 = tape.parameter(d.b2, "b2");
    const Var h = tanh(add_bias(matmul(x, w1), b1));
    const Var probe = mean(relu(h), "probe");  // computed, logged maybe, never differentiated
    const Var adjust = scale(log(tape.constant(d.prior, "prior")), kTau);
    const Var logits = add_bias(add_bias(matmul(h, w2), b2), adjust);
    const Var loss = softmax_cross_entropy(logits, d.labels, "loss");
    tape.backward(loss);
    if (read_grads) {
      r.nodes = static_cast<int>(tape.size());
      r.operations = 0;
      for (const NodeInfo& n : tape.listing()) r.operations += n.op != Op::leaf ? 1 : 0;
      r.loss = tape.value(loss)(0, 0);
      for (const Var& p : {w1, b1, w2, b2}) r.grads.push_back(tape.grad(p));
    }
  }
  tape.reset();
  return r;
}
//! [dynamic_step]

//! [static_build]
// Define-then-run: the same model described once; nothing runs until the program is replayed.
Program build_static(const MlpData& d, CompileStats* stats) {
  GraphBuilder g;
  const auto x = g.input("x", d.x.shape());
  const auto w1 = g.parameter("W1", {kIn, kHidden}), b1 = g.parameter("b1", {1, kHidden});
  const auto w2 = g.parameter("W2", {kHidden, kClasses}), b2 = g.parameter("b2", {1, kClasses});
  const auto h = g.apply(Op::tanh, g.apply(Op::add_bias, g.apply(Op::matmul, x, w1), b1), -1, 0, "h");
  g.apply(Op::mean, g.apply(Op::relu, h), -1, 0, "probe");  // nothing uses it: dead code
  const auto adjust = g.apply(Op::scale, g.apply(Op::log, g.constant("prior", d.prior)), -1, kTau);
  const auto logits = g.apply(Op::add_bias, g.apply(Op::add_bias, g.apply(Op::matmul, h, w2), b2), adjust);
  const auto loss = g.apply(Op::softmax_ce, logits, -1, 0, "loss");
  return compile(g, loss, stats);
}
//! [static_build]

void set_value(Program& p, std::string_view name, const Matrix& m) {
  p.slots[static_cast<std::size_t>(gnm::ch03::find_slot(p, name))].value = m;
}

}  // namespace

StaticDynamic run_static_dynamic(int batch, int repeat) {
  StaticDynamic r;
  r.batch = batch;
  const MlpData d = make_data(batch);

  Tape tape;
  const DynamicResult dyn = dynamic_step(tape, d, true);
  {  // count the nodes and pool requests of one step
    const auto allocations_before = tape.memory().pool_reuses + tape.memory().pool_system_allocations;
    dynamic_step(tape, d, false);
    r.dynamic_allocations =
        tape.memory().pool_reuses + tape.memory().pool_system_allocations - allocations_before;
  }

  CompileStats stats;
  Program prog = build_static(d, &stats);
  set_value(prog, "W1", d.w1);
  set_value(prog, "b1", d.b1);
  set_value(prog, "W2", d.w2);
  set_value(prog, "b2", d.b2);
  prog.labels = d.labels;
  //! [static_step]
  auto static_step = [&] {
    set_value(prog, "x", d.x);  // a new batch: copy it into its slot
    gnm::ch03::replay_forward(prog);
    gnm::ch03::replay_backward(prog);
  };
  //! [static_step]
  static_step();

  r.nodes_built = stats.built;
  r.nodes_after_dce = stats.after_dce;
  r.nodes_folded = stats.folded;
  r.nodes_after_folding = stats.after_folding;
  r.steps = stats.steps;
  r.tape_nodes = dyn.nodes;
  r.tape_operations = dyn.operations;
  r.loss_dynamic = dyn.loss;
  r.loss_static = prog.slots[static_cast<std::size_t>(prog.loss)].value(0, 0);
  const char* names[] = {"W1", "b1", "W2", "b2"};
  for (std::size_t k = 0; k < 4; ++k) {
    const Matrix& gs = prog.slots[static_cast<std::size_t>(gnm::ch03::find_slot(prog, names[k]))].grad;
    for (std::size_t i = 0; i < gs.values().size(); ++i) {
      r.max_grad_diff = std::max(r.max_grad_diff, std::fabs(gs.values()[i] - dyn.grads[k].values()[i]));
    }
  }
  if (repeat > 0) {
    const int warmup = std::max(1, repeat / 10);
    r.dynamic_us = 1e3 * gnm::median_time_ms(repeat, [&] { dynamic_step(tape, d, false); }, warmup);
    r.static_us = 1e3 * gnm::median_time_ms(repeat, static_step, warmup);
  }
  return r;
}

Section run_static_dynamic_section(int repeat) {
  Section sec;
  std::printf("== 3.5 Static vs dynamic graph: MLP 64-32-10, forward + backward ==\n");
  std::ostringstream rows;
  std::string compilation;
  for (int batch : {32, 1}) {
    const StaticDynamic r = run_static_dynamic(batch, repeat);
    if (batch == 32) {
      std::printf("  static graph: %d nodes built -> %d after dead-code elimination -> %d folded "
                  "into constants -> %d nodes, %d steps\n", r.nodes_built, r.nodes_after_dce,
                  r.nodes_folded, r.nodes_after_folding, r.steps);
      std::printf("  dynamic tape: %d nodes (%d operations) recorded per step, %zu pool requests "
                  "per step (served from its cache)\n", r.tape_nodes, r.tape_operations,
                  r.dynamic_allocations);
      std::ostringstream c;
      c << "\"3.5 compiling the static graph\": {\"rows\": [{\"built\": " << r.nodes_built
        << ", \"after dead-code elimination\": " << r.nodes_after_dce
        << ", \"folded\": " << r.nodes_folded << ", \"after folding\": " << r.nodes_after_folding
        << ", \"steps\": " << r.steps << ", \"tape operations per step\": " << r.tape_operations
        << "}]}";
      compilation = c.str();
    }
    std::printf("  batch %2d: loss dynamic %.15f, static %.15f, max |grad difference| %.1e; median "
                "per step: dynamic %7.1f us, static %7.1f us (%.2fx)\n", batch, r.loss_dynamic,
                r.loss_static, r.max_grad_diff, r.dynamic_us, r.static_us,
                r.static_us > 0 ? r.dynamic_us / r.static_us : 0.0);
    // Same kernels, same rules, same order of every sum: the two agree to rounding (in practice
    // bit for bit); 1e-12 against O(1) values leaves room for a reordering.
    sec.verified = sec.verified && std::fabs(r.loss_dynamic - r.loss_static) <= 1e-12 &&
                   r.max_grad_diff <= 1e-12;
    rows << (batch == 32 ? "" : ", ") << "{\"batch\": " << batch
         << ", \"dynamic: median us per step\": " << gnm::json_number(r.dynamic_us)
         << ", \"static: median us per step\": " << gnm::json_number(r.static_us)
         << ", \"dynamic / static\": " << gnm::json_number(r.static_us > 0 ? r.dynamic_us / r.static_us : 0.0)
         << ", \"max grad difference\": " << gnm::json_number(r.max_grad_diff) << "}";
  }
  std::printf("  3.5: %s\n\n", sec.verified ? "ok" : "FAILED");
  sec.json = "\"3.5 static vs dynamic graph\": {\"rows\": [" + rows.str() + "]}, " + compilation;
  return sec;
}

}  // namespace chapter3
