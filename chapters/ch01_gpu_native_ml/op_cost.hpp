// Section 1.2: a FLOP-and-byte model of an MLP, a CNN and a Transformer block, and where each op
// sits on a roofline. Pure functions: tests/ch01/test_op_cost.cpp checks them on cases computed
// by hand.
//
// Conventions (Note [Counting FLOPs and bytes]):
//  - A multiply-add is 2 FLOPs; exp, tanh, max and a comparison count 1 each.
//  - Bytes are fp32 (4 per element), each tensor read or written exactly once: what a kernel that
//    streams its operands through cache once moves. It is a floor: a naive GEMM re-reads its
//    operands many times (chapter 2.3), a two-pass normalization reads its input twice.
//  - A Linear layer's bias add runs in the GEMM's epilogue (as in cuBLASLt and the engine), so it
//    is part of the GEMM op: N more bytes read, M·N more FLOPs.
//  - Attention's 1/sqrt(D) scale is folded into the Q projection's weights; splitting and merging
//    heads are strided views, not copies.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gnm::ch01 {

/// What kind of computation an op is.
enum class OpKind { gemm, conv, elementwise, normalization, softmax, pooling };

/// The three groups the chapter compares: matrix products, elementwise maps, reductions.
enum class OpGroup { matmul, elementwise, normalization };

/// "GEMM", "conv", "elementwise", "normalization", "softmax", "pooling".
const char* op_kind_name(OpKind kind);
/// "GEMM/conv", "elementwise/pooling", "normalization/softmax".
const char* op_group_name(OpGroup group);
/// The group an op kind belongs to.
OpGroup op_group(OpKind kind);

/// FLOPs per element of the non-GEMM ops (see Note [Counting FLOPs and bytes]).
inline constexpr double kReluFlops = 1;       // max(x, 0)
inline constexpr double kAddFlops = 1;        // residual add
inline constexpr double kGeluFlops = 9;       // tanh form: x^3 2, fma 2, scale, tanh, +1, *x, *0.5
inline constexpr double kSoftmaxFlops = 5;    // max, subtract, exp, sum, multiply by 1/sum
inline constexpr double kNormFlops = 8;       // mean 1, variance 3, normalize 2, scale+shift 2
inline constexpr double kMaxPoolFlops = 3;    // per output of a 2x2 window: 3 comparisons

/// One op of a model: its cost per occurrence and how often it occurs.
struct OpCost {
  std::string name;   // "fc1", "attn.scores"
  OpKind kind = OpKind::elementwise;
  std::string shape;  // e.g. "(64x784)(784x256)"
  double flops = 0;   // per occurrence
  double bytes = 0;   // per occurrence, fp32, each tensor moved once
  int count = 1;      // occurrences in the model (layers)
  /// FLOPs per byte.
  double intensity() const { return flops / bytes; }
};

/// A roofline: attainable = min(peak, intensity × bandwidth).
struct Roofline {
  double peak_gflops = 0;     // fp32 FLOP/s / 1e9
  double bandwidth_gbps = 0;  // bytes/s / 1e9
  /// Throws gnm::Error unless both ceilings are positive and finite.
  void validate() const;
  /// The intensity (FLOP/byte) where the two ceilings meet: peak / bandwidth.
  double ridge() const { return peak_gflops / bandwidth_gbps; }
  /// The best GFLOP/s an op of this intensity can reach.
  double attainable_gflops(double intensity) const;
  /// True when the op is limited by bandwidth (intensity below the ridge).
  bool memory_bound(double intensity) const { return intensity < ridge(); }
  /// The op's lower-bound time in seconds: max(flops / peak, bytes / bandwidth).
  double seconds(const OpCost& op) const;
};

/// Arithmetic intensity of C = A·B with A (M×K), B (K×N), C (M×N), fp32, each matrix moved once:
/// 2MNK / (4(MK + KN + MN)). For square n: n / 6.
double gemm_intensity(std::int64_t m, std::int64_t n, std::int64_t k);

/// C (M×N) = A (M×K) · B (K×N) [+ bias (N)], `batch` independent products (batched GEMM).
OpCost gemm_op(const std::string& name, std::int64_t m, std::int64_t n, std::int64_t k, bool bias,
               std::int64_t batch = 1);
/// A 2-D convolution without bias: input (B, Cin, H, W), weight (Cout, Cin, k, k), output
/// (B, Cout, Ho, Wo) with Ho = (H + 2 pad - k) / stride + 1. ShapeError when the kernel does
/// not fit.
OpCost conv2d_op(const std::string& name, std::int64_t batch, std::int64_t c_in, std::int64_t h,
                 std::int64_t w, std::int64_t c_out, std::int64_t kernel, std::int64_t stride,
                 std::int64_t pad);
/// An elementwise map over `elements` values reading `inputs` tensors of that size and writing one.
OpCost elementwise_op(const std::string& name, std::int64_t elements, double flops_per_element,
                      int inputs = 1);
/// LayerNorm or BatchNorm over `elements` values with `channels` scale and shift parameters.
OpCost norm_op(const std::string& name, std::int64_t elements, std::int64_t channels);
/// Softmax over `rows` rows of `cols` values.
OpCost softmax_op(const std::string& name, std::int64_t rows, std::int64_t cols);

/// An MLP: `layers` hidden Linear+ReLU layers of width `hidden`, then a Linear to `classes`
/// and a softmax. Input (batch, input).
struct MlpShape {
  std::int64_t batch = 64, input = 784, hidden = 256, layers = 2, classes = 10;
};
/// A small CNN: `layers` blocks of conv3x3 (pad 1) → BatchNorm → ReLU → 2x2 max-pool, channels
/// `channels`, 2·channels, 4·channels…; then global average pool, Linear to `classes`, softmax.
/// Input (batch, in_channels, image, image); `image` must be divisible by 2^layers.
struct CnnShape {
  std::int64_t batch = 64, in_channels = 1, image = 28, channels = 32, layers = 2, classes = 10;
};
/// A pre-norm Transformer block (GPT-2 style) repeated `layers` times: LayerNorm, QKV projection,
/// attention over `seq` tokens with `heads` heads, output projection, residual, LayerNorm,
/// MLP C → 4C → C with GELU, residual. Input (batch, seq, hidden); heads must divide hidden.
struct TransformerShape {
  std::int64_t batch = 8, seq = 1024, hidden = 768, heads = 12, layers = 12;
};

/// The forward-pass ops of each model. Throws gnm::Error naming a size below 1 or too large, and
/// gnm::ShapeError for sizes that do not fit together.
std::vector<OpCost> mlp_ops(const MlpShape& s);
/// See mlp_ops().
std::vector<OpCost> cnn_ops(const CnnShape& s);
/// See mlp_ops().
std::vector<OpCost> transformer_ops(const TransformerShape& s);

/// Totals of a model on a roofline, per group and overall (counts applied).
struct ModelTotals {
  double flops[3] = {0, 0, 0};    // indexed by OpGroup
  double bytes[3] = {0, 0, 0};
  double seconds[3] = {0, 0, 0};  // roofline lower bound
  double total_flops() const { return flops[0] + flops[1] + flops[2]; }
  double total_bytes() const { return bytes[0] + bytes[1] + bytes[2]; }
  double total_seconds() const { return seconds[0] + seconds[1] + seconds[2]; }
};
/// Sums the ops of a model on roofline `r`.
ModelTotals model_totals(const std::vector<OpCost>& ops, const Roofline& r);

}  // namespace gnm::ch01
