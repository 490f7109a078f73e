/// \file
/// Every tensor op of the engine (chapter 9.3), one name each, with a CPU and a CUDA kernel behind
/// it and a backward rule (chapter 9.5). Binary ops broadcast by NumPy's rules (chapter 9.6); their
/// backward sums the gradient back to each input's shape. Ops on tensors of different devices, and
/// mixed dtypes where the op needs one dtype, are gnm::Error naming both.
///
/// Floating dtypes (f32, f64, f16, bf16) are computed in f32 (f64 for f64); f16/bf16 results are
/// rounded once at the end. Comparison results are DType::boolean.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "gnm/tensor/tensor.hpp"

namespace gnm {

/// \name Elementwise binary ops (broadcasting)
///@{
Tensor add(const Tensor& a, const Tensor& b, double alpha = 1.0);  ///< a + alpha·b.
Tensor sub(const Tensor& a, const Tensor& b);      ///< a − b.
Tensor mul(const Tensor& a, const Tensor& b);      ///< a · b.
Tensor div(const Tensor& a, const Tensor& b);      ///< a / b (true division).
Tensor pow(const Tensor& a, const Tensor& b);      ///< a ^ b (floating dtypes).
Tensor pow(const Tensor& a, double exponent);      ///< a ^ exponent.
Tensor maximum(const Tensor& a, const Tensor& b);  ///< Elementwise max (NaN propagates).
Tensor minimum(const Tensor& a, const Tensor& b);  ///< Elementwise min (NaN propagates).
Tensor add(const Tensor& a, double b);             ///< a + b.
Tensor mul(const Tensor& a, double b);             ///< a · b.
Tensor operator+(const Tensor& a, const Tensor& b);  ///< add(a, b).
Tensor operator-(const Tensor& a, const Tensor& b);  ///< sub(a, b).
Tensor operator*(const Tensor& a, const Tensor& b);  ///< mul(a, b).
Tensor operator/(const Tensor& a, const Tensor& b);  ///< div(a, b).
Tensor operator+(const Tensor& a, double b);         ///< add(a, b).
Tensor operator-(const Tensor& a, double b);         ///< add(a, −b).
Tensor operator*(const Tensor& a, double b);         ///< mul(a, b).
Tensor operator/(const Tensor& a, double b);         ///< mul(a, 1/b).
Tensor operator+(double a, const Tensor& b);         ///< add(b, a).
Tensor operator-(double a, const Tensor& b);         ///< a − b.
Tensor operator*(double a, const Tensor& b);         ///< mul(b, a).
Tensor operator-(const Tensor& a);                   ///< neg(a).
///@}

/// \name Comparisons and selection (no gradient to the condition)
///@{
Tensor eq(const Tensor& a, const Tensor& b);  ///< a == b → bool.
Tensor ne(const Tensor& a, const Tensor& b);  ///< a != b → bool.
Tensor lt(const Tensor& a, const Tensor& b);  ///< a < b → bool.
Tensor le(const Tensor& a, const Tensor& b);  ///< a <= b → bool.
Tensor gt(const Tensor& a, const Tensor& b);  ///< a > b → bool.
Tensor ge(const Tensor& a, const Tensor& b);  ///< a >= b → bool.
/// cond ? a : b elementwise, all three broadcast; `cond` must be bool.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
///@}

/// \name Elementwise unary ops and activations
///@{
Tensor neg(const Tensor& x);      ///< −x.
Tensor exp(const Tensor& x);      ///< eˣ.
Tensor log(const Tensor& x);      ///< ln x.
Tensor sqrt(const Tensor& x);     ///< √x.
Tensor abs(const Tensor& x);      ///< |x| (gradient sign(x), 0 at 0).
Tensor square(const Tensor& x);   ///< x².
Tensor relu(const Tensor& x);     ///< max(x, 0) (gradient 0 at 0, as PyTorch).
/// GELU: x·Φ(x) exactly (erf) or with the tanh approximation.
Tensor gelu(const Tensor& x, bool tanh_approximation = false);
Tensor silu(const Tensor& x);     ///< x·σ(x).
Tensor tanh(const Tensor& x);     ///< tanh x.
Tensor sigmoid(const Tensor& x);  ///< 1 / (1 + e⁻ˣ).
/// Clamps into [lo, hi] (either may be absent); gradient passes where lo < x < hi (0 at a
/// bound, as PyTorch).
Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi);
/// Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1−p) in
/// training mode; the identity otherwise. The mask comes from the default generator's next Philox
/// stream, element i kept when uniform(i) ≥ p: the same mask on CPU and GPU for the same seed.
Tensor dropout(const Tensor& x, double p, bool training = true);
///@}

/// \name Reductions
///@{
Tensor sum(const Tensor& x);  ///< Sum of all elements (0-d).
/// Sum over `dims` (negative allowed; empty = all), keeping them as size 1 when `keepdim`.
Tensor sum(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);  ///< Mean of all elements (0-d).
/// Mean over `dims`.
Tensor mean(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim = false);
/// Variance over `dims` with Bessel's `correction` (1 = unbiased, as torch.var's default).
Tensor var(const Tensor& x, const std::vector<std::int64_t>& dims, std::int64_t correction = 1,
           bool keepdim = false);
Tensor max(const Tensor& x);  ///< Largest element (0-d); gradient split evenly between ties.
/// Largest along `dim` (gradient to the first maximum, like argmax).
Tensor max(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Index (i64) of the first maximum along `dim`; no gradient.
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Sums `grad` down to `shape` (the inverse of broadcasting): used by every broadcasting backward.
Tensor sum_to(const Tensor& grad, const Shape& shape);
///@}

/// \name Linear algebra
///@{

/// Matrix product with torch.matmul's rules for ≥ 2-d operands: (…, M, K) @ (…, K, N), batch
/// dimensions broadcast; 1-d operands are promoted (and the added dimension removed). CPU uses
/// the engine's SGEMM (chapter 2), CUDA uses cuBLAS.
Tensor matmul(const Tensor& a, const Tensor& b);
/// Batched product of (B, M, K) and (B, K, N).
Tensor bmm(const Tensor& a, const Tensor& b);
/// x @ wᵀ + b for x (…, in), w (out, in), optional b (out): nn.Linear's forward, with the bias add
/// fused into the GEMM's output pass.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = Tensor());
///@}

/// \name Losses and normalised exponentials
///@{
Tensor softmax(const Tensor& x, std::int64_t dim);      ///< exp(x) / Σ exp(x), stable.
Tensor log_softmax(const Tensor& x, std::int64_t dim);  ///< x − logsumexp(x), stable.
/// How a loss reduces over elements.
enum class Reduction { none, mean, sum };
/// Cross entropy of logits (N, C) against class indices (N) of dtype i64 (each in [0, C); a bad
/// index is gnm::Error naming it), as torch.nn.functional.cross_entropy with
/// `label_smoothing` in [0, 1].
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     Reduction reduction = Reduction::mean, double label_smoothing = 0.0);
/// Mean squared error between same-shaped `x` and `y` (no broadcasting, as PyTorch warns).
Tensor mse_loss(const Tensor& x, const Tensor& y, Reduction reduction = Reduction::mean);
///@}

/// \name Joining and indexing
///@{
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim);    ///< Concatenates along dim.
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim);  ///< Joins along a new dim.
/// Rows of `x` along `dim` picked by the 1-d i64 `index` (out-of-range is gnm::Error).
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);
/// out[i][j] = x[i][index[i][j]] along `dim` (torch.gather); index is i64 with x's rank.
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index);
/// Rows of `weight` (V, D) for each i64 index: (…) → (…, D). Backward scatters-adds into weight.
Tensor embedding(const Tensor& weight, const Tensor& indices);
///@}

}  // namespace gnm
