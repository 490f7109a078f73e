/// \file
/// Autocast (chapter 10.4): run the GEMMs of a forward pass in bf16 or fp16 while the parameters
/// stay fp32 ("master weights"), as torch.autocast does.
///
/// Why mixed precision at all: a 16-bit operand halves the bytes every GEMM moves and runs on the
/// GPU's tensor cores (an H100 does ~990 TFLOP/s dense in bf16/fp16 against ~67 in fp32). Why only
/// some ops: the two 16-bit formats are each poor in one way.
/// - **fp16** (5 exponent bits, 11 significant bits) is precise (2⁻¹¹ ≈ 5·10⁻⁴ relative) but
///   narrow: its largest value is 65504 and its smallest subnormal 2⁻²⁴ ≈ 6·10⁻⁸. Small gradients
///   flush to zero, so fp16 training needs loss scaling (gnm/optim/amp.hpp).
/// - **bf16** (fp32's 8 exponent bits, 8 significant bits) has fp32's range, 10⁻³⁸ to 3·10³⁸, so
///   it needs no scaling, but each rounding costs up to 2⁻⁸ ≈ 4·10⁻³ relative.
///
/// A GEMM tolerates 16-bit operands because it accumulates in fp32 (the engine's CPU and CUDA
/// kernels and cuBLAS all do): each operand is rounded once, the K-term sum is not. Weights must
/// stay fp32 because an update lr·g is often below half an ulp of the weight in bf16
/// (w = 1, lr·g = 10⁻³ < 2⁻⁸): a bf16 weight would round back and never move. Losses and normalised exponentials
/// need fp32: a mean over thousands of terms or an exp of a logit loses everything in 8 bits.
///
/// So, while an AutocastGuard is alive on the calling thread, ops follow one of three lists:
/// | list | ops | what happens |
/// |---|---|---|
/// | lower precision | linear, matmul, bmm | every f32 operand (bias included) is converted to the autocast dtype with the differentiable Tensor::to; the result is in that dtype |
/// | fp32 | softmax, log_softmax, cross_entropy, mse_loss | every f16/bf16 operand is converted to f32; the result is f32 |
/// | the rest | everything else (relu, add, sum, mean, …) | unchanged: the op runs in its inputs' dtype |
///
/// Only f32 is lowered (f64 stays f64, as in PyTorch); conversions are recorded by autograd, so
/// the backward converts each gradient back to its source's dtype: a weight's .grad is f32 and the
/// optimizer updates the fp32 master copy. The backward itself is never autocast (its nodes call
/// the kernels directly), so call backward() after the guard's scope, as PyTorch advises.
///
/// Differences from torch.autocast: one guard covers every device (PyTorch has one per device
/// type); casts of weights are not cached across uses in one region (an MLP uses each weight
/// once); sum/mean and the elementwise exp/log/pow are not on the fp32 list — they accumulate in
/// f32 already and round once to their input's dtype (compute a loss from f32 values, or call a
/// loss op, which is on the list).
///
/// \code
/// gnm::Tensor loss;
/// {
///   gnm::AutocastGuard autocast(gnm::DType::bf16);
///   gnm::Tensor logits = model->forward(x);  // bf16: every Linear ran in bf16
///   loss = gnm::cross_entropy(logits, y);    // f32: losses are on the fp32 list
/// }
/// loss.backward();                           // parameter .grad tensors are f32
/// \endcode
#pragma once

#include <optional>

#include "gnm/core/dtype.hpp"
#include "gnm/tensor/tensor.hpp"

namespace gnm {

/// Turns autocast on (or off) for the calling thread until destroyed; nested guards stack, and
/// each restores the setting it found (torch.autocast as a context manager).
class AutocastGuard {
 public:
  /// Autocast to `dtype` (DType::bf16 or DType::f16), or off inside this scope for std::nullopt
  /// (torch.autocast(enabled=False), e.g. around a region that needs fp32).
  /// \throws gnm::Error naming any other dtype
  explicit AutocastGuard(std::optional<DType> dtype);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;             ///< Scoped: not copyable.
  AutocastGuard& operator=(const AutocastGuard&) = delete;  ///< Scoped: not assignable.

 private:
  std::optional<DType> previous_;
};

/// The calling thread's autocast dtype (bf16 or f16), or std::nullopt when autocast is off.
/// Other threads have their own setting: a guard on one thread never affects another.
std::optional<DType> autocast_dtype() noexcept;

/// The cast an op of the lower-precision list applies to each operand: `t` converted to
/// autocast_dtype() when autocast is on and `t` is a defined f32 tensor; `t` itself otherwise
/// (an undefined bias stays undefined). Differentiable. Custom GEMM-like ops can call it.
Tensor autocast_to_lower(const Tensor& t);

/// The cast an op of the fp32 list applies to each operand: `t` converted to f32 when autocast is
/// on and `t` is f16 or bf16; `t` itself otherwise. Differentiable.
Tensor autocast_to_f32(const Tensor& t);

}  // namespace gnm
