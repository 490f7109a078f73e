/// \file
/// Level-1 vector kernels on the CPU: the references the GPU versions are checked against.
#pragma once

#include <span>

#include "gnm/core/verify.hpp"

namespace gnm::cpu {

/// y <- a * x + y in fp32 (BLAS saxpy). `x` and `y` must have the same length (ShapeError names
/// both lengths otherwise).
void saxpy(float a, std::span<const float> x, std::span<float> y);

/// y <- a * x + y evaluated in double precision from fp32 inputs: the reference for checking
/// an fp32 saxpy, whose exact result differs from this by at most one or two roundings.
void saxpy_reference(float a, std::span<const float> x, std::span<const float> y,
                     std::span<double> out);

/// Tolerance for checking an fp32 saxpy against saxpy_reference() when |x|, |y| <= 1: a * x + y
/// is one rounding (FMA) or two of terms no larger than |a| + 1, so the error is at most
/// 2 eps (|a| + 1) in absolute terms, plus 2 eps relative.
Tolerance saxpy_tolerance(float a);

}  // namespace gnm::cpu
