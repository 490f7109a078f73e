// The printed tables of sections 1.2 and 1.3.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "gpu_roofline.hpp"
#include "op_cost.hpp"
#include "options.hpp"

namespace gnm::ch01 {

/// Prints every op of a model with its FLOPs, bytes, intensity and place on `roof`, then the
/// share of FLOPs and of (roofline lower-bound) time per group.
void print_op_table(const std::vector<OpCost>& ops, const Roofline& roof);

/// What section 1.3's CPU measurements found, for the results file and the verification.
struct LimitsSummary {
  std::vector<std::pair<std::string, double>> figures;
  std::vector<std::pair<std::string, bool>> checks;
};

/// Measures and prints section 1.3 on the CPU: thread start-up, pool dispatch, the scaling sweep
/// with its crossover sizes, and Amdahl's bound from the measured serial fraction.
LimitsSummary run_limits(const Options& opt);

/// Prints the GPU's launch and transfer overheads (section 1.3).
void print_gpu_overheads(const GpuOverheads& g);

}  // namespace gnm::ch01
