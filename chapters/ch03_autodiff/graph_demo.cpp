// Section 3.2: the computation graph of a small MLP loss on the tape — its listing, its DOT
// figure, its gradients against central differences — and gradient accumulation at fan-out.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "gnm/core/file.hpp"
#include "gnm/core/json.hpp"
#include "gradcheck.hpp"
#include "random_values.hpp"
#include "sections.hpp"

namespace chapter3 {
namespace {

std::string saved_text(const NodeInfo& n, const std::vector<NodeInfo>& all) {
  std::string s;
  auto add = [&](const std::string& what) { s += (s.empty() ? "" : ", ") + what; };
  if (n.saved.in0) add(all[static_cast<std::size_t>(n.in0)].name);
  if (n.saved.in1) add(all[static_cast<std::size_t>(n.in1)].name);
  if (n.saved.out) add(n.name + " (its output)");
  if (n.saved.aux) add("softmax(" + all[static_cast<std::size_t>(n.in0)].name + ")");
  return s.empty() ? "-" : s;
}

}  // namespace

SmallMlp small_mlp() {
  return {symmetric_uniform(4, 3, 301, 1.0), symmetric_uniform(3, 5, 302, 1.0),
          symmetric_uniform(1, 5, 303, 1.0), symmetric_uniform(5, 2, 304, 1.0),
          symmetric_uniform(1, 2, 305, 1.0), {0, 1, 1, 0}};
}

//! [record_small_mlp]
Var record_small_mlp(Tape& tape, const SmallMlp& m, std::vector<Var>& params) {
  const Var x = tape.constant(m.x, "x");  // (4, 3): data, no gradient wanted
  const Var w1 = tape.leaf(m.w1, "W1"), b1 = tape.leaf(m.b1, "b1");
  const Var w2 = tape.leaf(m.w2, "W2"), b2 = tape.leaf(m.b2, "b2");
  params = {w1, b1, w2, b2};
  const Var h = tanh(add_bias(matmul(x, w1, "z1"), b1, "a1"), "h");  // (4, 5)
  const Var logits = add_bias(matmul(h, w2, "z2"), b2, "logits");    // (4, 2)
  return softmax_cross_entropy(logits, m.labels, "loss");            // (1, 1)
}
//! [record_small_mlp]

std::string small_mlp_dot() {
  Tape tape;
  std::vector<Var> params;
  const Var loss = record_small_mlp(tape, small_mlp(), params);
  return tape.to_dot(loss, "ch03_mlp");
}

Section run_graph_section(const std::string& dot_path) {
  Section sec;
  const SmallMlp m = small_mlp();
  Tape tape;
  std::vector<Var> params;
  const Var loss = record_small_mlp(tape, m, params);
  const auto listing = tape.listing();

  std::printf("== 3.2 Computation graph: loss = softmax_ce(tanh(x·W1 + b1)·W2 + b2) ==\n");
  std::printf("  %3s %-7s %-11s %-12s %-8s %s\n", "id", "name", "op", "inputs", "shape",
              "saved for backward");
  std::ostringstream rows;
  for (const NodeInfo& n : listing) {
    std::string inputs;
    for (std::int32_t in : {n.in0, n.in1}) {
      if (in >= 0) inputs += (inputs.empty() ? "" : ", ") + listing[static_cast<std::size_t>(in)].name;
    }
    const std::string shape = gnm::ch03::shape_string(n.shape);
    const std::string saved = saved_text(n, listing);
    std::printf("  %3d %-7s %-11s %-12s %-8s %s\n", n.id, n.name.c_str(),
                gnm::ch03::op_name(n.op), inputs.empty() ? "-" : inputs.c_str(), shape.c_str(),
                saved.c_str());
    rows << (n.id ? ", " : "") << "{\"id\": " << n.id << ", \"name\": " << gnm::json_quote(n.name)
         << ", \"op\": " << gnm::json_quote(gnm::ch03::op_name(n.op))
         << ", \"inputs\": " << gnm::json_quote(inputs.empty() ? "-" : inputs)
         << ", \"shape\": " << gnm::json_quote(shape)
         << ", \"saved for backward\": " << gnm::json_quote(saved) << "}";
  }
  const std::string dot = tape.to_dot(loss, "ch03_mlp");
  if (!dot_path.empty()) {
    gnm::write_file_atomic(dot_path, dot);
    std::printf("  graph written to %s (render: dot -Tsvg %s)\n", dot_path.c_str(), dot_path.c_str());
  }

  //! [gradcheck_mlp]
  // Every parameter gradient against central differences of the loss (a fresh tape per probe).
  tape.backward(loss);
  std::vector<Matrix> grads, inputs = {m.w1, m.b1, m.w2, m.b2};
  for (const Var& p : params) grads.push_back(tape.grad(p));
  auto loss_at = [&](const std::vector<Matrix>& w) {
    SmallMlp probe = m;
    probe.w1 = w[0], probe.b1 = w[1], probe.w2 = w[2], probe.b2 = w[3];
    Tape t;
    std::vector<Var> unused;
    return t.value(record_small_mlp(t, probe, unused))(0, 0);
  };
  const GradCheckResult mlp_check =
      check_central_differences(loss_at, inputs, grads, std::fabs(tape.value(loss)(0, 0)));
  //! [gradcheck_mlp]
  std::printf("  MLP gradients vs central differences: %d elements, max error %.1e (tolerance "
              "%.1e): %s\n", mlp_check.checked, mlp_check.max_error, mlp_check.tolerance,
              mlp_check.ok ? "ok" : "FAILED");
  if (!mlp_check.ok) std::printf("%s", mlp_check.report.c_str());

  //! [fan_out]
  // Fan-out: x feeds three uses. Each backward rule *adds* its contribution, so
  // ∂/∂x Σ (x ⊙ x + exp x) = 2x + exp(x) arrives in three pieces: x̄ = ȳ·x + ȳ·x + ȳ·exp(x).
  Tape fan;
  const Var x = fan.leaf(symmetric_uniform(2, 3, 306, 1.0), "x");
  const Var y = sum(mul(x, x) + exp(x));
  fan.backward(y);
  const Matrix gx = fan.grad(x), xv = fan.value(x);
  //! [fan_out]
  double fan_err = 0.0;
  for (std::size_t i = 0; i < gx.values().size(); ++i) {
    const double want = 2.0 * xv.values()[i] + std::exp(xv.values()[i]);
    fan_err = std::max(fan_err, std::fabs(gx.values()[i] - want) / std::max(1.0, std::fabs(want)));
  }
  // Three roundings in the sum and one in exp: 8 eps is already generous.
  const bool fan_ok = fan_err <= 8 * 2.22e-16;
  std::printf("  fan-out: x used 3 times, grad = 2x + exp(x) within %.1e: %s\n", fan_err,
              fan_ok ? "ok" : "FAILED");

  const auto prim = check_all_primitives();
  std::printf("  every primitive's backward vs central differences (h = %g):\n", kCentralStep);
  std::ostringstream prim_rows;
  bool prim_ok = true;
  for (std::size_t i = 0; i < prim.size(); ++i) {
    const PrimitiveCheck& p = prim[i];
    std::printf("    %-11s %-16s %4d elements  max error %.1e  tolerance %.1e  %s\n", p.op.c_str(),
                p.shapes.c_str(), p.checked, p.max_error, p.tolerance, p.ok ? "ok" : "FAILED");
    prim_ok = prim_ok && p.ok;
    prim_rows << (i ? ", " : "") << "{\"op\": " << gnm::json_quote(p.op)
              << ", \"shapes\": " << gnm::json_quote(p.shapes) << ", \"elements\": " << p.checked
              << ", \"max error\": " << gnm::json_number(p.max_error)
              << ", \"tolerance\": " << gnm::json_number(p.tolerance) << "}";
  }
  sec.verified = mlp_check.ok && fan_ok && prim_ok;
  std::printf("  3.2: %s\n\n", sec.verified ? "ok" : "FAILED");

  std::ostringstream j;
  j << "\"3.2 the tape of the MLP loss\": {\"rows\": [" << rows.str() << "]}, \"3.2 every primitive vs central differences\": "
    << "{\"rows\": [" << prim_rows.str() << "]}, \"3.2 gradient checks\": {\"rows\": ["
    << "{\"check\": \"MLP parameters vs central differences\", \"elements\": " << mlp_check.checked
    << ", \"max error\": " << gnm::json_number(mlp_check.max_error)
    << ", \"tolerance\": " << gnm::json_number(mlp_check.tolerance) << "}, "
    << "{\"check\": \"fan-out: grad of sum(x*x + exp(x))\", \"elements\": " << gx.numel()
    << ", \"max error\": " << gnm::json_number(fan_err)
    << ", \"tolerance\": " << gnm::json_number(8 * 2.22e-16) << "}]}";
  sec.json = j.str();
  return sec;
}

}  // namespace chapter3
