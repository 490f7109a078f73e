// The six sections of the chapter 9 program. Each prints its tables, checks itself and returns
// its tables as JSON members for the results file.
#pragma once

#include <cstdint>

#include "table.hpp"

namespace chapter9 {

/// Sizes of the measured parts (the timings of 9.2–9.4).
struct Sizes {
  std::int64_t rows = 512;     ///< 9.3/9.4: rows of the elementwise and row-wise operands.
  std::int64_t cols = 1024;    ///< 9.3/9.4: columns (512 × 1024 f32 = 2 MiB per operand).
  std::int64_t gemm_n = 256;   ///< 9.3: M = K = N of matmul, bmm's per-batch size and linear's.
  std::int64_t fusion_rows = 4096;  ///< 9.4: rows of (rows, cols) operands: 16 MiB each, beyond
                                    ///< the last-level cache, so every pass goes to DRAM.
  double budget_ms = 150.0;    ///< Time spent repeating each timed call (the median is kept).
};

/// 9.1: a tensor, its shape/strides/offset, views that share its storage, dtype conversions.
Section run_anatomy();
/// 9.2: one model at batch sizes 1, 7 and 64 (rows checked against a double reference and
/// against the same sample run alone), and the shape errors the engine reports.
Section run_batching(const Sizes& sizes);
/// 9.3: every op of gnm/tensor/ops.hpp in f32 against a double reference, with its time.
Section run_op_table(const Sizes& sizes);
/// 9.4: fused against unfused elementwise chains: time, bytes moved, equality of results.
Section run_fusion(const Sizes& sizes);
/// 9.5: a small graph's backward, the engine's autograd rules (accumulation, retain_graph,
/// no_grad, detach, errors), gradcheck of every op, and exercises 9.3–9.4 against autograd.
Section run_autograd();
/// 9.6: broadcast shapes with their backward reduction (exercise 9.2), and views sharing storage
/// (checked with exercise 9.1).
Section run_broadcast_views();

}  // namespace chapter9
