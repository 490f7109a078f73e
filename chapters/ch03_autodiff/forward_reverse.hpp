// Section 3.1: forward mode (dual numbers) against reverse mode (a scalar Wengert tape), counted.
#pragma once

#include <string>
#include <vector>

namespace chapter3 {

/// One row of the "when does each mode win" table.
struct ModeRow {
  std::string function;       ///< "R^n -> R" or "R -> R^m".
  int inputs = 0;             ///< n.
  int outputs = 0;            ///< m.
  long long primal_ops = 0;   ///< Primitive operations in one evaluation of the function.
  int forward_sweeps = 0;     ///< Forward mode: one sweep per input.
  long long forward_ops = 0;  ///< Dual-number operations over all sweeps.
  int reverse_sweeps = 0;     ///< Reverse mode: one backward sweep per output.
  long long reverse_ops = 0;  ///< Recorded forward operations + backward steps.
  double forward_ms = 0.0;    ///< Median time for the whole Jacobian, forward mode.
  double reverse_ms = 0.0;    ///< Median time for the whole Jacobian, reverse mode.
  double max_error = 0.0;     ///< Worst |AD − analytic| / max(1, |analytic|) of either mode.
};

/// One row of the nested-dual table: f''(x) three ways.
struct SecondRow {
  std::string function;       ///< The formula.
  double x = 0.0;             ///< The point.
  double nested_dual = 0.0;   ///< From Dual<Dual<double>>.
  double analytic = 0.0;      ///< The hand-derived formula.
  double central = 0.0;       ///< (f(x+h) − 2f(x) + f(x−h)) / h², h = 1e-4.
};

/// Everything section 3.1 measures.
struct ForwardReverseResult {
  std::vector<ModeRow> rows;      ///< Operation counts and times.
  std::vector<SecondRow> second;  ///< Second derivatives.
  bool verified = true;           ///< Every derivative within its tolerance.
};

/// Runs section 3.1 for n, m in 1, 10, 100, … up to `max_size`.
ForwardReverseResult run_forward_reverse(int max_size, bool quick);
/// Prints the two tables.
void print(const ForwardReverseResult& r);
/// The tables as JSON object members ("title": {"rows": [...]}, ...) for the results file.
std::string to_json(const ForwardReverseResult& r);

}  // namespace chapter3
