/// \file
/// 2-D convolution on the CPU (NCHW, fp32): the direct seven-loop reference, im2col, im2col +
/// GEMM, and the cost model that compares them (section 2.2).
///
/// Shapes, with the book's letters: input (N, C, H, W), weight (K, C, KH, KW), output
/// (N, K, OH, OW), all packed row-major (NCHW). One stride, padding and dilation apply to both
/// spatial axes:
///
///     OH = (H + 2·padding − dilation·(KH − 1) − 1) / stride + 1      (and OW likewise)
///
/// Note [im2col]: output pixel (oh, ow) of output channel k is a dot product of the C·KH·KW
/// weights of k with the C·KH·KW input values under the kernel window. im2col copies, per image,
/// every window into one column of a (C·KH·KW) × (OH·OW) matrix (padding becomes zeros), so the
/// whole convolution of the image becomes one GEMM:
///
///     output[n] (K × OH·OW) = weight (K × C·KH·KW) · columns (C·KH·KW × OH·OW)
///
/// The price is memory: each input value is copied up to KH·KW times (9× for a 3×3 kernel at
/// stride 1). The gain is that the arithmetic runs in the GEMM kernel at a large fraction of peak
/// instead of in a loop nest the compiler cannot block for the caches. A 1×1 convolution at
/// stride 1 without padding needs no im2col at all: the image already is the column matrix.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "gnm/core/thread_pool.hpp"

namespace gnm::cpu {

/// The shape of a 2-D convolution: input (n, c, h, w), weight (k, c, kh, kw), and the spatial
/// stride, zero padding and dilation shared by both axes.
struct Conv2dParams {
  std::int64_t n = 1;         ///< Images in the batch (N).
  std::int64_t c = 1;         ///< Input channels (C).
  std::int64_t h = 1;         ///< Input height (H).
  std::int64_t w = 1;         ///< Input width (W).
  std::int64_t k = 1;         ///< Output channels (K): the number of filters.
  std::int64_t kh = 1;        ///< Kernel height (KH).
  std::int64_t kw = 1;        ///< Kernel width (KW).
  std::int64_t stride = 1;    ///< Step of the window, ≥ 1.
  std::int64_t padding = 0;   ///< Zeros added on every side, ≥ 0.
  std::int64_t dilation = 1;  ///< Spacing of the kernel taps, ≥ 1 (1: a dense kernel).

  /// "N=1 C=64 H=56 W=56 K=64 3x3 s1 p1" (dilation only when it is not 1).
  std::string to_string() const;
};

/// Output height and width of a convolution.
struct Conv2dOutputShape {
  std::int64_t oh = 0;  ///< Output height (OH).
  std::int64_t ow = 0;  ///< Output width (OW).
};

/// OH and OW of `p` (formula in the file comment). Throws gnm::ShapeError naming the values when
/// a size is negative, a kernel size, stride or dilation is below 1, padding is negative, or the
/// dilated kernel is larger than the padded input (no output position would fit). N, C, K, H or
/// W may be 0 (an empty convolution); so may the output then.
Conv2dOutputShape conv2d_output_shape(const Conv2dParams& p);

/// Elements of the input, N·C·H·W (validates `p` like conv2d_output_shape()).
std::int64_t conv2d_input_size(const Conv2dParams& p);
/// Elements of the weight, K·C·KH·KW.
std::int64_t conv2d_weight_size(const Conv2dParams& p);
/// Elements of the output, N·K·OH·OW.
std::int64_t conv2d_output_size(const Conv2dParams& p);
/// Elements of one image's im2col matrix, C·KH·KW · OH·OW (the extra memory of im2col + GEMM).
std::int64_t im2col_size(const Conv2dParams& p);

/// The reference convolution: seven nested loops (n, k, oh, ow, c, kh, kw), one fp32 sum per
/// output element in that order. `input` (N, C, H, W), `weight` (K, C, KH, KW), `output`
/// (N, K, OH, OW), all packed. Throws gnm::ShapeError naming the expected and actual sizes when a
/// span has the wrong length.
void conv2d_direct(const Conv2dParams& p, std::span<const float> input,
                   std::span<const float> weight, std::span<float> output);

/// Writes image `image`'s column matrix: `columns` (C·KH·KW, OH·OW) row-major, row
/// (c·KH + i)·KW + j holding input[image, c, oh·stride − padding + i·dilation,
/// ow·stride − padding + j·dilation] at column oh·OW + ow, or 0 where that falls in the padding.
/// `input` is the whole batch (N, C, H, W). Throws gnm::ShapeError for wrong span lengths or an
/// image index outside [0, N).
void im2col(const Conv2dParams& p, std::span<const float> input, std::int64_t image,
            std::span<float> columns);

/// Convolution as im2col + GEMM, one image at a time (see Note [im2col]); same contract as
/// conv2d_direct(). Uses a workspace of im2col_size(p) floats, allocated once per call and reused
/// for every image; a 1×1 kernel with stride 1 and no padding skips im2col. The GEMM is
/// gnm::cpu::sgemm, run on `pool` (nullptr: the default pool).
void conv2d_im2col(const Conv2dParams& p, std::span<const float> input,
                   std::span<const float> weight, std::span<float> output,
                   ThreadPool* pool = nullptr);

/// The cost model of section 2.2: arithmetic, compulsory memory traffic, and im2col's workspace.
///
/// Bytes are minimum traffic to main memory, assuming every array is read or written exactly
/// once (what a perfectly cache-blocked kernel achieves); real loop nests move more. For im2col +
/// GEMM the column matrix is written once by im2col and read once by the GEMM, on top of the
/// direct traffic, and the weights are read once per image. A pointwise convolution (1×1,
/// stride 1, no padding) skips im2col, so its workspace and column traffic are 0.
struct Conv2dCost {
  double flops = 0;               ///< 2·N·K·C·KH·KW·OH·OW (one multiply and one add per tap).
  double direct_bytes = 0;        ///< 4·(input + weight + output): each array once.
  double im2col_bytes = 0;        ///< direct_bytes + 2·4·N·im2col_size + 4·(N − 1)·weight.
  double im2col_extra_bytes = 0;  ///< 4·im2col_size: the workspace, reused for every image.
  std::int64_t gemm_m = 0;        ///< The per-image GEMM's M = K.
  std::int64_t gemm_n = 0;        ///< Its N = OH·OW.
  std::int64_t gemm_k = 0;        ///< Its K = C·KH·KW (the length of each dot product).
};

/// The cost of `p` (validates it like conv2d_output_shape()).
Conv2dCost conv2d_cost(const Conv2dParams& p);

}  // namespace gnm::cpu
