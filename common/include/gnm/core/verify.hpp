/// \file
/// Comparing a result against a reference with a tolerance from the error model.
///
/// Note [Tolerances]: an element passes when |got - ref| <= abs + rel * |ref|. Choose `rel` from the
/// error model of the computation (about eps(dtype) * sqrt(K) for a K-term sum in fp32 with random
/// signs, eps * K in the worst case) and `abs` for the cancellation floor (eps times the magnitude
/// of the terms), never by tuning until green. NaN or Inf where the reference is finite fails.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace gnm {

/// Tolerance of a comparison: an element passes when |got - ref| <= abs + rel * |ref|.
struct Tolerance {
  double abs = 0.0;  ///< Absolute floor (cancellation: eps times the size of the terms).
  double rel = 0.0;  ///< Relative part, from the error model.
};

/// Machine epsilon of IEEE fp32 (2^-23), the unit of the error models in this book.
inline constexpr double kEpsF32 = 1.1920928955078125e-07;

/// Outcome of compare(): pass/fail, the worst errors, and a report of the first mismatches.
struct CompareResult {
  bool ok = true;                 ///< True when every element is within tolerance.
  std::size_t mismatches = 0;     ///< Number of elements outside tolerance.
  double max_abs_error = 0.0;     ///< Largest |got - ref| over finite elements.
  std::size_t worst_index = 0;    ///< Index of the largest error relative to its bound.
  std::string report;             ///< One line, then the first five mismatches (when any).
};

/// Compares `got` with a double-precision reference. Throws ShapeError when the sizes differ.
CompareResult compare(std::span<const float> got, std::span<const double> ref, Tolerance tol);

}  // namespace gnm
