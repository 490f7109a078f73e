/// \file
/// Int8 post-training quantization of Linear layers (chapter 10.4), like PyTorch's
/// `torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)`.
///
/// A trained f32 model is turned into an inference model whose Linear weights are int8 with one
/// f32 scale per output row ("per-channel"); the activations are quantized on the fly, row by
/// row, at every call ("dynamic"). The GEMM then runs on int8 values with exact int32 sums and
/// one multiply by the two scales at the end:
///
///     y[i, j] = acc[i, j] · sx[i] · sw[j] + b[j],   acc[i, j] = Σ_k qx[i, k] · qw[j, k]
///
/// \code
/// auto model = gnm::nn::make_mlp({784, 256, 128, 10});   // … trained …
/// auto q = gnm::nn::quantize_dynamic(*model);           // Linear → DynamicQuantizedLinear
/// gnm::Tensor logits = q->forward(x);                   // x (B, 784) f32 on the CPU
/// std::cout << gnm::nn::model_weight_bytes(*model) << " → " << gnm::nn::model_weight_bytes(*q);
/// // 940584 → 237904 bytes (3.95× smaller)
/// \endcode
///
/// Note [Symmetric per-row quantization]
/// A row r (a weight row, or an input row at run time) is stored as q = round(r / s) clamped to
/// [−127, 127] with s = max|r| / 127, zero point 0. A row whose max|r|/127 is not a normal float
/// (an all-zero row, or one below ~1.5e−36) gets s = 1 and rounds to zeros, so nothing divides
/// by zero. −128 is never used, so the code is symmetric and q·q products fit in 15 bits.
/// PyTorch quantizes activations per tensor, asymmetric uint8 (one scale and zero point for the
/// whole batch); a scale per row is at least as accurate, since each row uses the full range
/// whatever the other rows hold.
///
/// Note [Quantization error model]
/// Rounding to the nearest step loses at most half a step: |w − s_w·q_w| ≤ s_w/2 per element
/// (up to a few ulps of |w| from the reciprocal used for r/s), likewise for x. Writing
/// x = x̂ + δ, w = ŵ + ε with |δ| ≤ s_x/2, |ε| ≤ s_w/2, one term of a dot product is off by
/// x·w − x̂·ŵ = δ·w + x·ε − δ·ε, so for y = Σ_k x_k·w_k + b
///
///     |y − ŷ| ≤ s_x/2 · Σ_k |w_k| + s_w/2 · Σ_k |x_k| + K · s_x·s_w/4
///
/// which is the bound the tests check. The int32 accumulation itself is exact (127² · K < 2³¹
/// for K ≤ kMaxInt8Depth), and the f32 epilogue adds a few ulps of |ŷ|. Typical errors are much
/// smaller than the bound: the rounding errors have random signs and grow like √K, not K.
///
/// Napkin math for the MLP 784-256-128-10: 234 752 weights are 917 KiB in f32 and 229 KiB
/// in int8 (+ 1.5 KiB of scales). The int8 GEMM does 16 multiply-adds per AVX2 vpmaddwd against
/// 8 per f32 FMA, but each vpmaddwd needs a vpaddd beside it, so it runs about 1.2× the AVX2 f32
/// kernel's speed, not 2× (one core of the book's Xeon, noisy: ~118 GOP/s against ~100 GFLOP/s;
/// the AVX-512 f32 kernel, ~130–150 GFLOP/s, stays ahead). The gain is mostly in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gnm/core/thread_pool.hpp"
#include "gnm/nn/layers.hpp"
#include "gnm/nn/module.hpp"

namespace gnm::nn {

/// The largest reduction length K the int8 GEMM accepts: K · 127² must fit in an int32 so the
/// sums stay exact (2³¹ / 16129 ≈ 133 144).
inline constexpr std::int64_t kMaxInt8Depth = 133'000;

/// A row-major int8 matrix quantized per row (see Note [Symmetric per-row quantization]):
/// element (r, c) stands for scales[r] · values[r · stride + c].
///
/// Rows are padded with zeros to `stride` = `cols` rounded up to a multiple of 16, so the GEMM
/// kernel reads whole 16-byte vectors and needs no tail loop. Build one with quantize_rows().
struct QuantizedMatrix {
  std::int64_t rows = 0;              ///< Number of rows.
  std::int64_t cols = 0;              ///< Number of meaningful columns.
  std::int64_t stride = 0;            ///< Row stride in elements: cols rounded up to 16.
  std::vector<std::int8_t> values;    ///< rows · stride values in [−127, 127]; padding is 0.
  std::vector<float> scales;          ///< One scale per row (> 0).

  /// The quantized value of element (r, c) (unchecked).
  std::int8_t at(std::int64_t r, std::int64_t c) const {
    return values[static_cast<std::size_t>(r * stride + c)];
  }
  /// scales[r] · at(r, c): the value element (r, c) stands for.
  float dequantized(std::int64_t r, std::int64_t c) const {
    return scales[static_cast<std::size_t>(r)] * static_cast<float>(at(r, c));
  }
  /// Bytes held: the int8 values (padding included) and the f32 scales.
  std::int64_t bytes() const {
    return static_cast<std::int64_t>(values.size() + 4 * scales.size());
  }
};

/// Quantizes the row-major `rows` × `cols` matrix `x` per row, symmetric int8 (see Note
/// [Symmetric per-row quantization]); large inputs are split over `pool` (nullptr: the default
/// pool). A row holding a NaN or an infinity is a gnm::Error naming the row, unless
/// `non_finite_rows` is given: then such a row becomes zeros with scale 1 and
/// (*non_finite_rows)[r] is set to 1 (the vector is resized to `rows`). gnm::ShapeError when
/// x.size() != rows · cols or a size is negative.
QuantizedMatrix quantize_rows(std::span<const float> x, std::int64_t rows, std::int64_t cols,
                              ThreadPool* pool = nullptr,
                              std::vector<char>* non_finite_rows = nullptr);

/// The int8 GEMM with exact int32 sums: c[i · b.rows + j] = Σ_k a.at(i, k) · b.at(j, k), i.e.
/// C (a.rows × b.rows) = A · Bᵀ with both operands stored K-contiguous, as a Linear layer's
/// x · Wᵀ. Scales are not applied.
///
/// AVX2 kernel: a 6 × 2 tile of C in ymm registers; each step widens 16 int8 of two B rows to
/// int16 (vpmovsxbw) and multiplies them with 16 int16 of each of six A rows (vpmaddwd: 16
/// multiplies, neighbouring pairs summed exactly into 8 int32 lanes). A rows are
/// widened once per (6-row tile, K block) into a 12 KiB L1 buffer; K is blocked by 1024.
/// Blocks of 48 rows × 64 columns are spread over `pool` (nullptr: default_thread_pool()).
///
/// gnm::ShapeError naming both shapes when a.cols != b.cols, or when c.size() != a.rows · b.rows;
/// gnm::Error when K > kMaxInt8Depth or a matrix breaks the QuantizedMatrix invariants.
void int8_matmul_nt(const QuantizedMatrix& a, const QuantizedMatrix& b, std::span<std::int32_t> c,
                    ThreadPool* pool = nullptr);

/// An int8 Linear for inference (PyTorch's torch.ao.nn.quantized.dynamic.Linear, printed as
/// "DynamicQuantizedLinear"): per-output-channel symmetric int8 weights, f32 bias, activations
/// quantized per row at each call (see the file comment for the arithmetic and the error bound).
///
/// Inference only: it has no parameters, its output never requires grad (as if computed under
/// no_grad, even for an input that requires grad), and it runs on the CPU in f32. Module::to()
/// leaves it unchanged: it holds no tensors.
class QuantizedLinear : public Module {
 public:
  /// Quantizes `linear`'s current weight (copied to the CPU in f32 first, so any device or
  /// floating dtype is accepted) and copies its bias. gnm::Error when a weight is NaN or
  /// infinite, or K > kMaxInt8Depth.
  explicit QuantizedLinear(const Linear& linear);
  /// std::make_shared<QuantizedLinear>(linear).
  static std::shared_ptr<QuantizedLinear> from_linear(const Linear& linear);

  /// x (…, in) f32 on the CPU → (…, out) f32: quantize each row of x, int8 GEMM, then
  /// acc · sx · sw + b. An input row holding a NaN or an infinity gives a row of NaN. Errors:
  /// gnm::ShapeError naming both shapes when x's last size is not in_features (or x is 0-d);
  /// gnm::NotImplemented for a CUDA tensor or a dtype other than f32.
  Tensor forward(const Tensor& x) override;
  /// "DynamicQuantizedLinear", PyTorch's printed name.
  std::string type_name() const override { return "DynamicQuantizedLinear"; }
  /// "in_features=784, out_features=256, dtype=qint8, qscheme=per_channel_symmetric".
  std::string extra_repr() const override;

  /// The int8 weight (out_features rows of in_features) with its per-row scales.
  const QuantizedMatrix& weight() const noexcept { return weight_; }
  /// The bias (out_features values), empty when the Linear had none.
  std::span<const float> bias() const noexcept { return bias_; }
  /// The weight the layer computes with, scales[r] · q[r, c], as an (out, in) f32 tensor.
  Tensor dequantized_weight() const;
  /// Bytes of the int8 weight and its scales (the bias is not included).
  std::int64_t weight_bytes() const noexcept { return weight_.bytes(); }

  std::int64_t in_features;   ///< Input width.
  std::int64_t out_features;  ///< Output width.

 private:
  QuantizedMatrix weight_;
  std::vector<float> bias_;
};

/// A new model computing what `model` computes with every Linear replaced by a QuantizedLinear
/// (recursively through nested Sequentials), as PyTorch's quantize_dynamic(inplace=False).
/// `model` is not changed. Activation, Dropout and Flatten modules are copied (with their
/// train/eval mode); modules of other types, and QuantizedLinears already there, are shared with
/// `model` (same object), since Modules cannot be copied generically.
std::shared_ptr<Sequential> quantize_dynamic(const Sequential& model);

/// The bytes a model's inference weights occupy: numel · element_size of every parameter and
/// buffer, plus each QuantizedLinear's weight_bytes() and f32 bias. Compare the f32 model with
/// its quantize_dynamic() copy: about 4× smaller for an MLP.
std::int64_t model_weight_bytes(const Module& model);

}  // namespace gnm::nn
