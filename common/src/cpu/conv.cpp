// 2-D convolution on the CPU: the direct reference, im2col, im2col + GEMM, and the cost model.
#include "gnm/cpu/conv.hpp"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "gnm/core/aligned_buffer.hpp"
#include "gnm/core/check.hpp"
#include "gnm/cpu/gemm.hpp"

namespace gnm::cpu {
namespace {

// a · b, or ShapeError when it does not fit in int64 (absurd shapes must not wrap around into
// small, plausible-looking sizes).
std::int64_t mul(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  GNM_CHECK_SHAPE(!__builtin_mul_overflow(a, b, &r), "convolution size overflows int64", a, b);
  return r;
}

// Floor and ceiling of a / b for b > 0 and any sign of a (C++ division truncates toward zero).
std::int64_t div_floor(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && (a < 0)); }
std::int64_t div_ceil(std::int64_t a, std::int64_t b) { return a / b + ((a % b != 0) && (a > 0)); }

void check_span(std::size_t got, std::int64_t want, const char* what) {
  GNM_CHECK_SHAPE(static_cast<std::int64_t>(got) == want, "convolution span has the wrong length",
                  what, got, want);
}

}  // namespace

std::string Conv2dParams::to_string() const {
  std::ostringstream s;
  s << "N=" << n << " C=" << c << " H=" << h << " W=" << w << " K=" << k << " " << kh << "x" << kw
    << " s" << stride << " p" << padding;
  if (dilation != 1) s << " d" << dilation;
  return s.str();
}

Conv2dOutputShape conv2d_output_shape(const Conv2dParams& p) {
  GNM_CHECK_SHAPE(p.n >= 0 && p.c >= 0 && p.h >= 0 && p.w >= 0 && p.k >= 0,
                  "convolution sizes must be non-negative", p.n, p.c, p.h, p.w, p.k);
  GNM_CHECK_SHAPE(p.kh >= 1 && p.kw >= 1, "the kernel must be at least 1x1", p.kh, p.kw);
  GNM_CHECK_SHAPE(p.stride >= 1 && p.dilation >= 1 && p.padding >= 0,
                  "stride and dilation must be >= 1 and padding >= 0", p.stride, p.dilation,
                  p.padding);
  // The window spans dilation·(KH − 1) + 1 input rows; it must fit in the padded input once.
  const std::int64_t span_h = mul(p.dilation, p.kh - 1) + 1;
  const std::int64_t span_w = mul(p.dilation, p.kw - 1) + 1;
  const std::int64_t padded_h = p.h + mul(2, p.padding);
  const std::int64_t padded_w = p.w + mul(2, p.padding);
  GNM_CHECK_SHAPE(span_h <= padded_h && span_w <= padded_w,
                  "the (dilated) kernel is larger than the padded input", p.kh, p.kw, p.dilation,
                  p.h, p.w, p.padding);
  return {(padded_h - span_h) / p.stride + 1, (padded_w - span_w) / p.stride + 1};
}

std::int64_t conv2d_input_size(const Conv2dParams& p) {
  (void)conv2d_output_shape(p);
  return mul(mul(p.n, p.c), mul(p.h, p.w));
}

std::int64_t conv2d_weight_size(const Conv2dParams& p) {
  (void)conv2d_output_shape(p);
  return mul(mul(p.k, p.c), mul(p.kh, p.kw));
}

std::int64_t conv2d_output_size(const Conv2dParams& p) {
  const auto o = conv2d_output_shape(p);
  return mul(mul(p.n, p.k), mul(o.oh, o.ow));
}

std::int64_t im2col_size(const Conv2dParams& p) {
  const auto o = conv2d_output_shape(p);
  return mul(mul(p.c, mul(p.kh, p.kw)), mul(o.oh, o.ow));
}

//! [conv2d_direct]
void conv2d_direct(const Conv2dParams& p, std::span<const float> input,
                   std::span<const float> weight, std::span<float> output) {
  const auto [OH, OW] = conv2d_output_shape(p);
  check_span(input.size(), conv2d_input_size(p), "input (N, C, H, W)");
  check_span(weight.size(), conv2d_weight_size(p), "weight (K, C, KH, KW)");
  check_span(output.size(), conv2d_output_size(p), "output (N, K, OH, OW)");
  const std::int64_t C = p.c, H = p.h, W = p.w, KH = p.kh, KW = p.kw;
  for (std::int64_t n = 0; n < p.n; ++n) {
    for (std::int64_t k = 0; k < p.k; ++k) {
      for (std::int64_t oh = 0; oh < OH; ++oh) {
        for (std::int64_t ow = 0; ow < OW; ++ow) {
          float acc = 0.0f;
          for (std::int64_t c = 0; c < C; ++c) {
            for (std::int64_t i = 0; i < KH; ++i) {
              const std::int64_t ih = oh * p.stride - p.padding + i * p.dilation;
              if (ih < 0 || ih >= H) continue;  // a zero of the padding
              for (std::int64_t j = 0; j < KW; ++j) {
                const std::int64_t iw = ow * p.stride - p.padding + j * p.dilation;
                if (iw < 0 || iw >= W) continue;
                acc += weight[static_cast<std::size_t>(((k * C + c) * KH + i) * KW + j)] *
                       input[static_cast<std::size_t>(((n * C + c) * H + ih) * W + iw)];
              }
            }
          }
          output[static_cast<std::size_t>(((n * p.k + k) * OH + oh) * OW + ow)] = acc;
        }
      }
    }
  }
}
//! [conv2d_direct]

//! [im2col]
void im2col(const Conv2dParams& p, std::span<const float> input, std::int64_t image,
            std::span<float> columns) {
  const auto [OH, OW] = conv2d_output_shape(p);
  check_span(input.size(), conv2d_input_size(p), "input (N, C, H, W)");
  check_span(columns.size(), im2col_size(p), "columns (C*KH*KW, OH*OW)");
  GNM_CHECK_SHAPE(image >= 0 && image < p.n, "image index out of range", image, p.n);
  const float* src = input.data() + image * p.c * p.h * p.w;
  float* dst = columns.data();
  for (std::int64_t c = 0; c < p.c; ++c) {
    for (std::int64_t i = 0; i < p.kh; ++i) {
      for (std::int64_t j = 0; j < p.kw; ++j) {
        // Row (c, i, j): input column iw = ow·stride + offset. Outside [ow_lo, ow_hi) it falls in
        // the padding; computing that range once keeps the branch out of the copy loop, which
        // for stride 1 is a plain contiguous copy the compiler vectorises.
        const std::int64_t offset = j * p.dilation - p.padding;
        const std::int64_t ow_lo = std::clamp<std::int64_t>(div_ceil(-offset, p.stride), 0, OW);
        const std::int64_t ow_hi = std::clamp<std::int64_t>(
            div_floor(p.w - 1 - offset, p.stride) + 1, ow_lo, OW);
        for (std::int64_t oh = 0; oh < OH; ++oh, dst += OW) {
          const std::int64_t ih = oh * p.stride - p.padding + i * p.dilation;
          if (ih < 0 || ih >= p.h) {
            std::fill(dst, dst + OW, 0.0f);
            continue;
          }
          const float* row = src + (c * p.h + ih) * p.w;
          std::fill(dst, dst + ow_lo, 0.0f);
          for (std::int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[ow] = row[ow * p.stride + offset];
          std::fill(dst + ow_hi, dst + OW, 0.0f);
        }
      }
    }
  }
}
//! [im2col]

//! [conv2d_im2col]
void conv2d_im2col(const Conv2dParams& p, std::span<const float> input,
                   std::span<const float> weight, std::span<float> output, ThreadPool* pool) {
  const auto [OH, OW] = conv2d_output_shape(p);
  check_span(input.size(), conv2d_input_size(p), "input (N, C, H, W)");
  check_span(weight.size(), conv2d_weight_size(p), "weight (K, C, KH, KW)");
  check_span(output.size(), conv2d_output_size(p), "output (N, K, OH, OW)");
  if (output.empty()) return;
  // The per-image GEMM: (K × CKK) · (CKK × OH·OW) → (K × OH·OW), i.e. output[n] in NCHW.
  const std::int64_t M = p.k, N = OH * OW, K = p.c * p.kh * p.kw;
  // 1×1, stride 1, no padding: the (C, H, W) image already is the (C, H·W) column matrix.
  const bool pointwise = p.kh == 1 && p.kw == 1 && p.stride == 1 && p.padding == 0;
  AlignedBuffer<float> columns(pointwise ? 0 : static_cast<std::size_t>(im2col_size(p)));
  for (std::int64_t n = 0; n < p.n; ++n) {
    const float* b = input.data() + n * p.c * p.h * p.w;
    if (!pointwise) {
      im2col(p, input, n, columns.span());
      b = columns.data();
    }
    // Leading dimensions must be ≥ 1 even when a dimension is 0 (C = 0 makes K = 0).
    sgemm(Transpose::No, Transpose::No, M, N, K, 1.0f, weight.data(), std::max<std::int64_t>(K, 1),
          b, N, 0.0f, output.data() + n * M * N, N, pool);
  }
}
//! [conv2d_im2col]

Conv2dCost conv2d_cost(const Conv2dParams& p) {
  const auto o = conv2d_output_shape(p);
  Conv2dCost cost;
  cost.gemm_m = p.k;
  cost.gemm_n = mul(o.oh, o.ow);
  cost.gemm_k = mul(p.c, mul(p.kh, p.kw));
  const auto in = static_cast<double>(conv2d_input_size(p));
  const auto wt = static_cast<double>(conv2d_weight_size(p));
  const auto out = static_cast<double>(conv2d_output_size(p));
  const auto cols = static_cast<double>(im2col_size(p));
  const auto images = static_cast<double>(p.n);
  cost.flops = 2.0 * out * static_cast<double>(cost.gemm_k);
  cost.direct_bytes = 4.0 * (in + wt + out);
  // im2col writes the column matrix and the GEMM reads it back: twice its size per image. The
  // GEMM also re-reads the weights for every image after the first. A pointwise convolution
  // skips im2col (see conv2d_im2col), so it has neither the workspace nor its traffic.
  const bool pointwise = p.kh == 1 && p.kw == 1 && p.stride == 1 && p.padding == 0;
  const double staged = pointwise ? 0.0 : cols;
  cost.im2col_extra_bytes = 4.0 * staged;
  cost.im2col_bytes =
      cost.direct_bytes + 2.0 * 4.0 * images * staged + 4.0 * std::max(images - 1.0, 0.0) * wt;
  return cost;
}

}  // namespace gnm::cpu
