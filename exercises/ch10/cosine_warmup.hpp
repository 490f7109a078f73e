// Exercise 10.3 — a cosine learning-rate schedule with linear warmup (section 10.3 of the book).
//
// Early in training Adam's second moment v is still a poor estimate and large steps can throw the
// weights far off, so the rate starts at 0 and rises linearly for W warmup steps. Then it follows
// half a cosine from base_lr down to min_lr, reached at step T, and stays at min_lr afterwards.
// For step k = 0, 1, 2, … (the number of optimizer steps taken so far):
//
//     k < W:       lr = base_lr · k / W
//     W ≤ k ≤ T:   lr = min_lr + (base_lr − min_lr) · (1 + cos(π·(k − W)/(T − W))) / 2
//     k > T:       lr = min_lr
//
// So lr(0) = 0 (with W > 0), lr(W) = base_lr (to rounding: min + (base − min) need not be base
// in the last bit), lr(T) = min_lr (exactly, written as above: cos(π) rounds to −1), and the
// middle of the cosine is the mean of the two. With W = 0 there is no warmup: lr(0) = base_lr.
// Compute in double.
// This is gnm::optim::CosineWithWarmup with start_factor 0; PyTorch has no single class for it,
// and the tests compare with torch.optim.lr_scheduler.LambdaLR given this formula.
//
// Write, in exercises/ch10/cosine_warmup.cpp:
//   10.3  cosine_warmup_lr()  the three cases above
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch10/exercise/CosineWarmup
#pragma once

#include <cstdint>

namespace gnm::ch10 {

/// Ex 10.3. The learning rate for step `step` (≥ 0) of a schedule that warms up linearly from 0 to
/// `base_lr` over `warmup_steps` steps, then decays along a cosine to `min_lr` at `total_steps`,
/// then stays at `min_lr` (formula above).
///
/// Throws gnm::Error naming the value unless step ≥ 0, base_lr is finite and ≥ 0,
/// 0 ≤ min_lr ≤ base_lr and 0 ≤ warmup_steps < total_steps.
double cosine_warmup_lr(std::int64_t step, double base_lr, std::int64_t warmup_steps,
                        std::int64_t total_steps, double min_lr = 0.0);

}  // namespace gnm::ch10
