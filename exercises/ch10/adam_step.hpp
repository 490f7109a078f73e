// Exercise 10.1 — one Adam / AdamW step (section 10.2 of the book).
//
// Adam keeps two running averages per parameter element: m, of the gradient, and v, of its
// square. Both start at 0, so early on they are biased towards 0; dividing by 1 − β^t undoes it.
// For step t = 1, 2, … and gradient g, torch.optim.Adam / AdamW (foreach=False) compute
//
//     Adam  (coupled L2):  g ← g + wd·p
//     AdamW (decoupled):   p ← p·(1 − lr·wd)                     (before everything else)
//     m ← m + (1 − β1)·(g − m)                                   (torch.lerp)
//     v ← β2·v + (1 − β2)·g²
//     p ← p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + eps)
//
// Note where eps goes: it is added to √v̂ = √v / √(1 − β2^t), not to v and not to √v. On step 1,
// m̂ = g and v̂ = g², so every element with |g| ≫ eps moves by lr·sign(g): Adam's step size is lr,
// whatever the gradient's scale.
//
// Precision, as PyTorch does it: every element-wise line is fp32 arithmetic on fp32 buffers
// (each intermediate rounded to float); the scalars are Python floats, combined in double
// (1 − β1, 1 − β2, lr/(1 − β1^t) with std::pow, √(1 − β2^t), 1 − lr·wd) and rounded to float
// once. Done this way a trajectory matches PyTorch's to a few units in the last place; the tests
// ask for 1e-6 relative. (Bit for bit, PyTorch's CPU kernels also fuse some lines into fma:
// g + wd·p, v·β2 + ((1 − β2)·g)·g and the lerp; see Note [Matching PyTorch's rounding] in
// common/src/optim/update.cpp. The tests do not need that.)
//
// Write, in exercises/ch10/adam_step.cpp:
//   10.1  adam_step()  the scalars, then the element-wise update of p, m and v
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch10/exercise/AdamStep
#pragma once

#include <cstdint>
#include <span>

namespace gnm::ch10 {

/// Adam's hyper-parameters with torch.optim.Adam's defaults. AdamW is `decoupled = true` with a
/// weight_decay > 0 (torch.optim.AdamW's default weight_decay is 1e-2).
struct AdamHyper {
  double lr = 1e-3;            ///< learning rate, finite and ≥ 0
  double beta1 = 0.9;          ///< decay of m, in [0, 1)
  double beta2 = 0.999;        ///< decay of v, in [0, 1)
  double eps = 1e-8;           ///< added to the bias-corrected √v, finite and ≥ 0
  double weight_decay = 0.0;   ///< L2 term (Adam) or decoupled decay (AdamW), finite and ≥ 0
  bool decoupled = false;      ///< true: AdamW's p ← p·(1 − lr·wd) instead of g ← g + wd·p
};

/// Ex 10.1. One Adam (or AdamW) step on one parameter tensor, in place, as written above.
///
/// `param`, `exp_avg` (m) and `exp_avg_sq` (v) are updated; `grad` is read. m and v are zero
/// before step 1. `step` is t, the number of this step, counting from 1.
///
/// Throws gnm::ShapeError naming all four sizes when grad, exp_avg or exp_avg_sq does not have
/// param.size() elements, and gnm::Error naming the value when a hyper-parameter is outside its
/// range (see AdamHyper) or step < 1. Empty spans are valid and change nothing.
void adam_step(std::span<float> param, std::span<const float> grad, std::span<float> exp_avg,
               std::span<float> exp_avg_sq, std::int64_t step, const AdamHyper& h);

}  // namespace gnm::ch10
