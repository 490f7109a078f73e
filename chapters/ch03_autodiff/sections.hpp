// Sections 3.2–3.5 of the chapter program: each runs, prints its tables, checks itself and
// returns its tables as JSON. The pieces the chapter tests check directly are declared here too.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "mat.hpp"
#include "tape.hpp"

namespace chapter3 {

/// A section's outcome: did every check hold, and its tables as a JSON value.
struct Section {
  bool verified = true;  ///< Every check of the section held.
  std::string json;      ///< Object members: "3.x <table>": {"rows": [...]}, ...
};

// --- 3.2 ---------------------------------------------------------------------------------------

/// One primitive's backward against central differences.
struct PrimitiveCheck {
  std::string op;          ///< The op's name.
  std::string shapes;      ///< Its operands' shapes, "(3, 4) (4, 5)".
  int checked = 0;         ///< Elements compared.
  double max_error = 0.0;  ///< Largest |analytic − central difference|.
  double tolerance = 0.0;  ///< From Note [Central-difference tolerance].
  bool ok = true;          ///< Every element within the tolerance.
};
/// Checks op's backward through the tape: L = Σ op(a, b) ⊙ G with random a, b, G (Philox),
/// ∂L/∂a and ∂L/∂b against central differences. Inputs of log and of a divisor lie in
/// [0.5, 2]; inputs of relu keep |x| ≥ 0.1, away from the kink.
PrimitiveCheck check_primitive(Op op);
/// check_primitive for every op (leaf and constant excepted).
std::vector<PrimitiveCheck> check_all_primitives();

/// The parameters and data of the small MLP of section 3.2 (batch 4, 3 → 5 → 2).
struct SmallMlp {
  Matrix x, w1, b1, w2, b2;          ///< (4, 3), (3, 5), (1, 5), (5, 2), (1, 2)
  std::vector<std::int32_t> labels;  ///< 4 labels in {0, 1}
};
/// The deterministic example (Philox seeds fixed).
SmallMlp small_mlp();
/// Records loss = softmax_ce(tanh(x·W1 + b1)·W2 + b2) on `tape`; params[i] receive the leaves
/// W1, b1, W2, b2 (x is a constant leaf).
Var record_small_mlp(Tape& tape, const SmallMlp& m, std::vector<Var>& params);
/// The DOT text of that graph: what `--dot` writes and book/images/ch03_graph.dot holds.
std::string small_mlp_dot();
/// Section 3.2: the tape listing, the DOT figure (written to dot_path unless empty), gradient
/// checks against central differences, and fan-out accumulation.
Section run_graph_section(const std::string& dot_path);

// --- 3.3 ---------------------------------------------------------------------------------------

/// One workload under one save policy.
struct MemoryRow {
  std::string workload;                    ///< "tanh chain, 32 layers, (64, 64)" …
  std::string policy;                      ///< "release after use" or "keep everything".
  std::size_t activations_after_forward = 0;  ///< Measured.
  std::size_t predicted_after_forward = 0;    ///< From the saved_by() rules, by hand.
  std::size_t peak_activations = 0;        ///< Peak over forward + backward.
  std::size_t peak_grads = 0;              ///< Peak gradient bytes.
  std::size_t peak_total = 0;              ///< Peak of everything the tape holds.
  std::size_t step2_system_allocations = 0;  ///< Pool requests that reached malloc in step 2.
  std::size_t arena_bytes = 0;             ///< Arena bytes of the nodes.
  std::size_t nodes = 0;                   ///< Nodes per step.
  std::vector<Matrix> grads;               ///< Parameter gradients (the policies must agree).
};
/// Measures a deep tanh chain (`layers` layers of (64, 64)) and an MLP 784-256-10, batch 64,
/// under both policies.
std::vector<MemoryRow> measure_memory(int layers);
/// Section 3.3.
Section run_memory_section(int layers);

// --- 3.4 ---------------------------------------------------------------------------------------

/// The typed MLP (batch 32, 784 → 64 → 10) against the same network on the dynamic tape.
struct TypedCheck {
  double loss_typed = 0.0;        ///< Loss from the typed tensors.
  double loss_tape = 0.0;         ///< Loss from the tape.
  double loss_no_tape = 0.0;      ///< Loss of the NoTape (inference) forward.
  double max_grad_diff = 0.0;     ///< Largest |typed − tape| over all parameter gradients.
  std::size_t recorded_ops = 0;   ///< Backward closures on the loss's tape.
  std::size_t bytes_no_tape = 0;  ///< sizeof a tensor with NoTape.
  std::size_t bytes_owned = 0;    ///< sizeof a tensor with OwnedTape.
};
/// Runs the comparison.
TypedCheck check_typed_against_tape();
/// Section 3.4.
Section run_typed_section();

// --- 3.5 ---------------------------------------------------------------------------------------

/// The MLP of 3.5 (64 → 32 → 10) run both ways.
struct StaticDynamic {
  int batch = 0;                  ///< Rows per batch.
  int nodes_built = 0;            ///< Static graph: nodes as built.
  int nodes_after_dce = 0;        ///< After dead-code elimination.
  int nodes_folded = 0;           ///< Nodes replaced by constants.
  int nodes_after_folding = 0;    ///< After folding and a second elimination.
  int steps = 0;                  ///< Operations replayed per step.
  int tape_nodes = 0;             ///< Dynamic: nodes recorded per step.
  int tape_operations = 0;        ///< Dynamic: of those, operations (not leaves).
  double loss_dynamic = 0.0;      ///< Loss on the tape.
  double loss_static = 0.0;       ///< Loss of the replay.
  double max_grad_diff = 0.0;     ///< Largest |dynamic − static| parameter-gradient difference.
  double dynamic_us = 0.0;        ///< Median µs per forward + backward, define-by-run.
  double static_us = 0.0;         ///< Median µs per forward + backward, replay.
  std::size_t dynamic_allocations = 0;  ///< Pool requests per dynamic step (all from its cache).
};
/// Builds, compiles and runs both on a batch of `batch`; times each `repeat` times (0: none).
StaticDynamic run_static_dynamic(int batch, int repeat);
/// Section 3.5.
Section run_static_dynamic_section(int repeat);

}  // namespace chapter3
