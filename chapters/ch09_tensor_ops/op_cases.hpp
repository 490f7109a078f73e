// Section 9.3's list of ops: each op of gnm/tensor/ops.hpp with f32 inputs, an independent
// double-precision reference, the error model that bounds its f32 result, and its traffic.
//
// Note [Error units]. Every reference returns, beside each value v_i, a scale s_i such that the
// f32 result must satisfy |got_i − v_i| ≤ units · u · s_i, u = 2⁻²⁴ (fp32's unit roundoff):
//  - one IEEE operation (add, mul, div, sqrt, …): s = |v|, 1 unit (correct rounding);
//  - copies, selections, comparisons, max: 0 units (exact);
//  - libm functions and short formulas (exp, log, tanh, sigmoid): s = |v|, a few units;
//  - activations that multiply x by a function of x (gelu, silu): s = |v| + |x|, since the
//    function's absolute error u is multiplied by |x| when v itself is tiny;
//  - K-term sums and dot products: s = Σ|terms|, K units (Higham's worst case for any order).
// The table shows the measured error in these units next to the allowed number.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gnm/tensor/tensor.hpp"

namespace chapter9 {

/// A reference result: value_i and the scale s_i of its allowed error (Note [Error units]).
struct RefResult {
  std::vector<double> value;  ///< Row-major, the op's output shape.
  std::vector<double> scale;  ///< Same length: s_i.
};

/// The inputs as doubles (row-major, one vector per input tensor).
using HostInputs = std::vector<std::vector<double>>;

/// One op in the 9.3 table.
struct OpCase {
  std::string name;        ///< "gelu (tanh)", "sum(dim 1)", …
  std::string shapes;      ///< Input shapes, "(512, 1024) (1024)".
  std::string model;       ///< The error model in words: "1 rounding", "K-term sum", …
  double units = 0.0;      ///< Allowed error in units of u·scale.
  std::vector<gnm::Tensor> inputs;  ///< f32 (i64/bool for indices and conditions), CPU.
  std::function<gnm::Tensor(const std::vector<gnm::Tensor>&)> op;  ///< The op under test.
  /// The double reference from the inputs; `got` (the f32 result as doubles) is given for ops
  /// whose result depends on random draws (dropout) and ignored by the rest.
  std::function<RefResult(const HostInputs& in, const std::vector<double>& got)> reference;
  double flops = 0.0;  ///< Floating-point operations of one call, for GEMM-like ops (GFLOP/s).
  /// Bytes one call must move, for GB/s; 0: every input read once and the output written once
  /// (set for the indexing ops, which read only the selected part of their input).
  double bytes = 0.0;
};

/// Every op of ops.hpp: elementwise ops on (rows, cols), row-wise ops along dim 1, matmul-like
/// ops at gemm_n. Inputs are Philox-seeded.
std::vector<OpCase> make_op_cases(std::int64_t rows, std::int64_t cols, std::int64_t gemm_n);

// Helpers shared by the case lists (op_cases_elementwise.cpp, op_cases_structured.cpp).

/// An f32 tensor of `shape` with Philox uniforms in [lo, hi).
gnm::Tensor uniform_tensor(const gnm::Shape& shape, std::uint64_t seed, float lo, float hi);
/// "(512, 1024)".
std::string paren(const gnm::Shape& shape);
/// Appends the elementwise ops (binary, comparisons, where, unary, dropout) on (rows, cols).
void add_elementwise_cases(std::vector<OpCase>& cases, std::int64_t rows, std::int64_t cols);
/// Appends reductions, linear algebra, softmax and losses, joining and indexing.
void add_structured_cases(std::vector<OpCase>& cases, std::int64_t rows, std::int64_t cols,
                          std::int64_t gemm_n);

}  // namespace chapter9
