// Section 3.3: what a tape must keep for its backward pass, and how much memory that is when
// values are released at their last use versus kept until the end of the step.
#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>

#include "gnm/core/host_info.hpp"
#include "gnm/core/json.hpp"
#include "random_values.hpp"
#include "sections.hpp"

namespace chapter3 {
namespace {

constexpr std::size_t kDouble = sizeof(double);

// A workload: its parameters, and a forward pass that records on a tape and returns the loss.
// The forward's locals die when it returns, as they would at the end of a Python function:
// from then on only the loss handle and the tape's saved values keep anything alive.
struct Workload {
  std::string name;
  std::vector<Matrix> params;
  std::function<Var(Tape&, std::vector<Var>&)> forward;
  std::size_t predicted_release = 0;  // activation bytes alive after the forward, by hand
  std::size_t predicted_keep = 0;
};

//! [tanh_chain]
// h_0 = x (B, H), h_l = tanh(h_(l−1) · W_l), loss = mean(h_L).
// Per layer, matmul saves its operands (h_(l−1) and W_l) and tanh its output h_l: the same
// buffer as the next matmul's saved operand. The matmul output z_l is read only by tanh's
// forward: nobody saves it, so it dies with the statement.
Workload tanh_chain(int layers) {
  const std::int64_t b = 64, h = 64;
  Workload w;
  w.name = "tanh chain: " + std::to_string(layers) + " layers of (64, 64), batch 64";
  for (int l = 0; l < layers; ++l) {
    w.params.push_back(symmetric_uniform(h, h, 500 + static_cast<std::uint64_t>(l), std::sqrt(3.0 / h)));
  }
  const Matrix x = symmetric_uniform(b, h, 499, 1.0);
  w.forward = [x](Tape& t, std::vector<Var>& ws) {
    Var act = t.constant(x, "x");
    for (const Var& wl : ws) act = tanh(matmul(act, wl));
    return mean(act, "loss");
  };
  const std::size_t bh = static_cast<std::size_t>(b * h) * kDouble;
  w.predicted_release = static_cast<std::size_t>(layers) * bh + kDouble;  // every h_l, and the loss
  w.predicted_keep = 2 * static_cast<std::size_t>(layers) * bh + kDouble;  // z_l too
  return w;
}
//! [tanh_chain]

// x (64, 784) → tanh(x·W1 + b1) (64, 256) → ·W2 + b2 (64, 10) → softmax cross-entropy.
// Saved: h (by tanh as its output and by the second matmul as its operand: one buffer) and
// the probabilities (by softmax_ce). Dropped at once: z1, a1, z2, the logits.
Workload mlp() {
  const std::int64_t b = 64, d = 784, hid = 256, c = 10;
  Workload w;
  w.name = "MLP 784-256-10, batch 64";
  w.params = {symmetric_uniform(d, hid, 601, std::sqrt(3.0 / d)), symmetric_uniform(1, hid, 602, 0.1),
              symmetric_uniform(hid, c, 603, std::sqrt(3.0 / hid)), symmetric_uniform(1, c, 604, 0.1)};
  const Matrix x = symmetric_uniform(b, d, 600, 1.0);
  std::vector<std::int32_t> labels(static_cast<std::size_t>(b));
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int32_t>((i * 7) % c);
  w.forward = [x, labels](Tape& t, std::vector<Var>& p) {
    // One operation per statement, reassigning `a` as Python code does (a = f(a)): a C++
    // temporary would live to the end of its full expression and raise the forward's peak.
    Var a = matmul(t.constant(x, "x"), p[0]);
    a = add_bias(a, p[1]);
    a = tanh(a);
    a = matmul(a, p[2]);
    a = add_bias(a, p[3]);
    return softmax_cross_entropy(a, labels, "loss");
  };
  const auto bytes = [](std::int64_t r, std::int64_t k) { return static_cast<std::size_t>(r * k) * kDouble; };
  w.predicted_release = bytes(b, hid) + bytes(b, c) + kDouble;  // h, probabilities, loss
  w.predicted_keep = 3 * bytes(b, hid) + 3 * bytes(b, c) + kDouble;  // + z1, a1, z2, logits
  return w;
}

//! [measure_step]
MemoryRow measure(const Workload& w, SavePolicy policy) {
  MemoryRow row;
  row.workload = w.name;
  row.policy = policy == SavePolicy::release_after_use ? "release after use" : "keep everything";
  row.predicted_after_forward =
      policy == SavePolicy::release_after_use ? w.predicted_release : w.predicted_keep;
  Tape tape(policy);
  for (int step = 0; step < 2; ++step) {
    const std::size_t system_before = tape.memory().pool_system_allocations;
    {
      std::vector<Var> params;
      for (std::size_t i = 0; i < w.params.size(); ++i) params.push_back(tape.leaf(w.params[i], "W"));
      const Var loss = w.forward(tape, params);
      if (step == 0) row.activations_after_forward = tape.memory().activation_bytes;
      tape.backward(loss);
      if (step == 0) {
        const TapeMemory m = tape.memory();
        row.peak_activations = m.peak_activation_bytes;
        row.peak_grads = m.peak_grad_bytes;
        row.peak_total = m.peak_total_bytes;
        row.arena_bytes = m.arena_bytes;
        row.nodes = m.nodes;
        for (const Var& p : params) row.grads.push_back(tape.grad(p));
      }
    }  // every handle is gone: the tape can be reset
    if (step == 1) row.step2_system_allocations = tape.memory().pool_system_allocations - system_before;
    tape.reset();  // keeps the arena's blocks and the pool's cached buffers for the next step
  }
  return row;
}
//! [measure_step]

}  // namespace

std::vector<MemoryRow> measure_memory(int layers) {
  std::vector<MemoryRow> rows;
  for (const Workload& w : {tanh_chain(layers), mlp()}) {
    rows.push_back(measure(w, SavePolicy::keep_everything));
    rows.push_back(measure(w, SavePolicy::release_after_use));
  }
  return rows;
}

namespace {
std::string kib(std::size_t bytes) { return gnm::json_number(static_cast<double>(bytes) / 1024.0); }
}  // namespace

Section run_memory_section(int layers) {
  Section sec;
  const auto rows = measure_memory(layers);
  std::printf("== 3.3 Tape memory: saved values released at last use vs kept ==\n");
  std::ostringstream j;
  j << "\"3.3 tape memory: keep everything vs release after use\": {\"rows\": [";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const MemoryRow& r = rows[i];
    if (i % 2 == 0) std::printf("  %s\n", r.workload.c_str());
    std::printf("    %-18s activations after forward %10s (predicted %10s)  peak: activations "
                "%10s, grads %10s, total %10s;  step 2 mallocs %zu\n",
                r.policy.c_str(), gnm::format_bytes(static_cast<double>(r.activations_after_forward)).c_str(),
                gnm::format_bytes(static_cast<double>(r.predicted_after_forward)).c_str(),
                gnm::format_bytes(static_cast<double>(r.peak_activations)).c_str(),
                gnm::format_bytes(static_cast<double>(r.peak_grads)).c_str(),
                gnm::format_bytes(static_cast<double>(r.peak_total)).c_str(),
                r.step2_system_allocations);
    // The prediction is exact: it counts the same buffers the saved_by() rules keep.
    sec.verified = sec.verified && r.activations_after_forward == r.predicted_after_forward;
    j << (i ? ", " : "") << "{\"workload\": " << gnm::json_quote(r.workload)
      << ", \"policy\": " << gnm::json_quote(r.policy)
      << ", \"activations after forward (KiB)\": " << kib(r.activations_after_forward)
      << ", \"predicted (KiB)\": " << kib(r.predicted_after_forward)
      << ", \"peak activations (KiB)\": " << kib(r.peak_activations)
      << ", \"peak grads (KiB)\": " << kib(r.peak_grads) << ", \"peak total (KiB)\": " << kib(r.peak_total)
      << ", \"step-2 system allocations\": " << r.step2_system_allocations
      << ", \"arena (KiB)\": " << kib(r.arena_bytes) << ", \"nodes\": " << r.nodes << "}";
  }
  // Same arithmetic in both policies: the gradients must be identical, bit for bit.
  for (std::size_t i = 0; i + 1 < rows.size(); i += 2) {
    bool same = rows[i].grads.size() == rows[i + 1].grads.size();
    for (std::size_t k = 0; same && k < rows[i].grads.size(); ++k) {
      same = rows[i].grads[k].values() == rows[i + 1].grads[k].values();
    }
    const double ratio = static_cast<double>(rows[i].peak_total) / static_cast<double>(rows[i + 1].peak_total);
    std::printf("  %s: gradients identical under both policies: %s; keep/release peak = %.2fx\n",
                rows[i].workload.c_str(), same ? "yes" : "NO", ratio);
    sec.verified = sec.verified && same && rows[i + 1].peak_total < rows[i].peak_total;
  }
  std::printf("  3.3: %s\n\n", sec.verified ? "ok" : "FAILED");
  j << "]}";
  sec.json = j.str();
  return sec;
}

}  // namespace chapter3
