// 2-D convolution: direct and im2col + GEMM against a double-precision reference, im2col's
// layout, the output-shape rules, bad shapes, and the cost model.
#include "gnm/cpu/conv.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"

namespace {

using gnm::cpu::Conv2dParams;

struct Reference {
  std::vector<double> value;  // the exact-enough result (double accumulation of fp32 inputs)
  std::vector<double> mass;   // Σ |w · x| over each output's terms: the scale of its error
};

// Straightforward double-precision convolution, written independently of conv.cpp: loops over
// output positions and kernel taps, the padding handled by a bounds check.
Reference reference_conv(const Conv2dParams& p, const std::vector<float>& x,
                         const std::vector<float>& w) {
  const auto o = gnm::cpu::conv2d_output_shape(p);
  Reference r;
  r.value.assign(static_cast<std::size_t>(p.n * p.k * o.oh * o.ow), 0.0);
  r.mass.assign(r.value.size(), 0.0);
  auto X = [&](std::int64_t n, std::int64_t c, std::int64_t y, std::int64_t xx) {
    return static_cast<double>(x[static_cast<std::size_t>(((n * p.c + c) * p.h + y) * p.w + xx)]);
  };
  auto Wt = [&](std::int64_t k, std::int64_t c, std::int64_t i, std::int64_t j) {
    return static_cast<double>(w[static_cast<std::size_t>(((k * p.c + c) * p.kh + i) * p.kw + j)]);
  };
  std::size_t idx = 0;
  for (std::int64_t n = 0; n < p.n; ++n)
    for (std::int64_t k = 0; k < p.k; ++k)
      for (std::int64_t oy = 0; oy < o.oh; ++oy)
        for (std::int64_t ox = 0; ox < o.ow; ++ox, ++idx)
          for (std::int64_t c = 0; c < p.c; ++c)
            for (std::int64_t i = 0; i < p.kh; ++i)
              for (std::int64_t j = 0; j < p.kw; ++j) {
                const std::int64_t y = oy * p.stride + i * p.dilation - p.padding;
                const std::int64_t xx = ox * p.stride + j * p.dilation - p.padding;
                if (y < 0 || y >= p.h || xx < 0 || xx >= p.w) continue;
                const double t = Wt(k, c, i, j) * X(n, c, y, xx);
                r.value[idx] += t;
                r.mass[idx] += std::fabs(t);
              }
  return r;
}

// Note [Convolution tolerance]: each output is an L-term fp32 dot product, L = C·KH·KW. In any
// summation order, with or without FMA, |fl(Σ) − Σ| ≤ γ_L · Σ|w·x| with γ_L = L·u / (1 − L·u)
// and u = eps/2 (Higham, Accuracy and Stability, §3.1). L·eps is that bound with a factor of two
// to spare, so the check is a proof, not a tuned threshold, and never flaky.
void expect_matches(const std::vector<float>& got, const Reference& ref, std::int64_t terms,
                    const std::string& what) {
  ASSERT_EQ(got.size(), ref.value.size()) << what;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double bound = static_cast<double>(terms) * gnm::kEpsF32 * ref.mass[i];
    const double err = std::fabs(static_cast<double>(got[i]) - ref.value[i]);
    if (!(err <= bound) && ++bad <= 5) {
      ADD_FAILURE() << what << ": [" << i << "] got " << got[i] << ", expected " << ref.value[i]
                    << " (|error| " << err << " > bound " << bound << ")";
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << got.size() << " outputs";
}

void check_both(const Conv2dParams& p, std::uint64_t seed) {
  SCOPED_TRACE(p.to_string());
  std::vector<float> x(static_cast<std::size_t>(gnm::cpu::conv2d_input_size(p)));
  std::vector<float> w(static_cast<std::size_t>(gnm::cpu::conv2d_weight_size(p)));
  gnm::fill_uniform(x, seed, -1.0f, 1.0f);
  gnm::fill_uniform(w, seed + 1, -1.0f, 1.0f);
  const Reference ref = reference_conv(p, x, w);
  const std::int64_t terms = p.c * p.kh * p.kw;
  const auto out_size = static_cast<std::size_t>(gnm::cpu::conv2d_output_size(p));
  // Poisoned outputs: every element must be written.
  std::vector<float> direct(out_size, std::numeric_limits<float>::quiet_NaN());
  gnm::cpu::conv2d_direct(p, x, w, direct);
  expect_matches(direct, ref, terms, "direct");
  std::vector<float> gemm(out_size, std::numeric_limits<float>::quiet_NaN());
  gnm::cpu::conv2d_im2col(p, x, w, gemm);
  expect_matches(gemm, ref, terms, "im2col + GEMM");
}

TEST(Conv2d, DirectAndIm2colMatchTheReference) {
  const Conv2dParams cases[] = {
      // n  c  h   w   k  kh kw s  p  d
      {1, 1, 5, 5, 1, 3, 3, 1, 0, 1},      // C = K = N = 1
      {3, 3, 7, 9, 4, 3, 3, 1, 1, 1},      // non-square input, same padding, N = 3
      {2, 5, 8, 6, 3, 1, 1, 1, 0, 1},      // pointwise: im2col skipped
      {1, 4, 7, 7, 2, 1, 1, 2, 0, 1},      // 1×1 with stride 2: im2col needed
      {1, 3, 17, 15, 5, 7, 7, 2, 3, 1},    // a first layer: 7×7, stride 2, padding 3
      {2, 2, 6, 11, 3, 2, 5, 1, 2, 1},     // non-square kernel, padding > half the kernel
      {1, 2, 9, 10, 2, 3, 3, 1, 2, 2},     // dilation 2
      {1, 2, 10, 8, 3, 4, 3, 3, 1, 1},     // stride 3: windows partly in the padding
      {1, 1, 2, 2, 1, 1, 1, 1, 2, 1},      // padding larger than the input: a zero border
      {1, 1, 1, 1, 1, 1, 1, 1, 0, 1},      // one pixel
      {3, 1, 13, 1, 1, 3, 1, 2, 1, 1},     // a column image
      {1, 16, 12, 12, 8, 3, 3, 1, 1, 1},   // more channels: L = 144 terms
  };
  std::uint64_t seed = 10;
  for (const Conv2dParams& p : cases) check_both(p, seed += 2);
}

TEST(Conv2d, EmptyConvolutions) {
  // N = 0 or K = 0: nothing to compute. C = 0: every output is an empty sum, 0.
  check_both({0, 3, 5, 5, 2, 3, 3, 1, 1, 1}, 1);
  check_both({2, 3, 5, 5, 0, 3, 3, 1, 1, 1}, 2);
  const Conv2dParams p{2, 0, 4, 4, 3, 3, 3, 1, 1, 1};
  std::vector<float> out(static_cast<std::size_t>(gnm::cpu::conv2d_output_size(p)), 7.0f);
  ASSERT_EQ(out.size(), 2u * 3 * 4 * 4);
  gnm::cpu::conv2d_im2col(p, {}, {}, out);
  for (float v : out) ASSERT_EQ(v, 0.0f);
  std::fill(out.begin(), out.end(), 7.0f);
  gnm::cpu::conv2d_direct(p, {}, {}, out);
  for (float v : out) ASSERT_EQ(v, 0.0f);
}

TEST(Conv2d, Im2colLayout) {
  // One 3×3 image 1..9, a 2×2 kernel, stride 1: four windows, one per column.
  Conv2dParams p{1, 1, 3, 3, 1, 2, 2, 1, 0, 1};
  const std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<float> cols(static_cast<std::size_t>(gnm::cpu::im2col_size(p)), -1.0f);
  gnm::cpu::im2col(p, x, 0, cols);
  // Rows are kernel taps (0,0) (0,1) (1,0) (1,1); columns are the output pixels in the same
  // order.
  EXPECT_EQ(cols, (std::vector<float>{1, 2, 4, 5,  //
                                      2, 3, 5, 6,  //
                                      4, 5, 7, 8,  //
                                      5, 6, 8, 9}));
  // Padding 1 and stride 2: windows at (-1,-1), (-1,1), (1,-1), (1,1); the padding is zeros.
  p.padding = 1;
  p.stride = 2;
  cols.assign(static_cast<std::size_t>(gnm::cpu::im2col_size(p)), -1.0f);
  gnm::cpu::im2col(p, x, 0, cols);
  EXPECT_EQ(cols, (std::vector<float>{0, 0, 0, 5,  //
                                      0, 0, 4, 6,  //
                                      0, 2, 0, 8,  //
                                      1, 3, 7, 9}));
  // The second image of a batch.
  p = {2, 1, 2, 2, 1, 1, 1, 1, 0, 1};
  const std::vector<float> two = {1, 2, 3, 4, 5, 6, 7, 8};
  cols.assign(4, 0.0f);
  gnm::cpu::im2col(p, two, 1, cols);
  EXPECT_EQ(cols, (std::vector<float>{5, 6, 7, 8}));
  EXPECT_THROW(gnm::cpu::im2col(p, two, 2, cols), gnm::ShapeError);
  EXPECT_THROW(gnm::cpu::im2col(p, two, -1, cols), gnm::ShapeError);
}

TEST(Conv2d, OutputShapes) {
  struct Case {
    Conv2dParams p;
    std::int64_t oh, ow;
  };
  const Case cases[] = {
      {{1, 3, 224, 224, 64, 7, 7, 2, 3, 1}, 112, 112},  // ResNet's first layer
      {{1, 64, 56, 56, 64, 3, 3, 1, 1, 1}, 56, 56},     // "same" padding
      {{1, 1, 7, 8, 1, 3, 3, 2, 0, 1}, 3, 3},           // floor: the last column is unused
      {{1, 1, 9, 9, 1, 3, 3, 1, 0, 4}, 1, 1},           // dilation 4 spans all 9
      {{1, 1, 3, 3, 1, 3, 3, 1, 0, 1}, 1, 1},           // kernel = input
      {{1, 1, 0, 0, 1, 1, 1, 1, 1, 1}, 2, 2},           // only padding
  };
  for (const Case& c : cases) {
    const auto o = gnm::cpu::conv2d_output_shape(c.p);
    EXPECT_EQ(o.oh, c.oh) << c.p.to_string();
    EXPECT_EQ(o.ow, c.ow) << c.p.to_string();
  }
}

TEST(Conv2d, BadShapesAreShapeErrors) {
  const Conv2dParams bad[] = {
      {1, 1, 2, 5, 1, 3, 3, 1, 0, 1},   // kernel taller than the input
      {1, 1, 5, 2, 1, 3, 3, 1, 0, 1},   // kernel wider than the input
      {1, 1, 5, 5, 1, 3, 3, 1, 0, 3},   // dilated kernel spans 7 > 5
      {1, 1, 5, 5, 1, 3, 3, 0, 0, 1},   // stride 0
      {1, 1, 5, 5, 1, 3, 3, -1, 0, 1},  // negative stride
      {1, 1, 5, 5, 1, 3, 3, 1, -1, 1},  // negative padding
      {1, 1, 5, 5, 1, 3, 3, 1, 0, 0},   // dilation 0
      {1, 1, 5, 5, 1, 0, 3, 1, 0, 1},   // empty kernel
      {-1, 1, 5, 5, 1, 3, 3, 1, 0, 1},  // negative batch
      {1, 1, 5, 5, -2, 3, 3, 1, 0, 1},  // negative K
      {std::int64_t{1} << 40, std::int64_t{1} << 40, 5, 5, 1, 3, 3, 1, 0, 1},  // size overflows
  };
  std::vector<float> buf(64);
  for (const Conv2dParams& p : bad) {
    EXPECT_THROW((void)gnm::cpu::conv2d_input_size(p), gnm::ShapeError) << p.to_string();
    EXPECT_THROW(gnm::cpu::conv2d_direct(p, buf, buf, buf), gnm::ShapeError) << p.to_string();
    EXPECT_THROW(gnm::cpu::conv2d_im2col(p, buf, buf, buf), gnm::ShapeError) << p.to_string();
    EXPECT_THROW((void)gnm::cpu::conv2d_cost(p), gnm::ShapeError) << p.to_string();
  }
  try {
    (void)gnm::cpu::conv2d_output_shape({1, 1, 2, 5, 1, 3, 3, 1, 0, 1});
    FAIL() << "expected ShapeError";
  } catch (const gnm::ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("p.kh = 3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("p.h = 2"), std::string::npos) << msg;
  }
}

TEST(Conv2d, WrongSpanLengthsAreShapeErrors) {
  const Conv2dParams p{2, 3, 5, 5, 4, 3, 3, 1, 1, 1};
  std::vector<float> x(2 * 3 * 5 * 5), w(4 * 3 * 3 * 3), y(2 * 4 * 5 * 5);
  std::vector<float> short_x(x.size() - 1), long_y(y.size() + 1);
  EXPECT_THROW(gnm::cpu::conv2d_direct(p, short_x, w, y), gnm::ShapeError);
  EXPECT_THROW(gnm::cpu::conv2d_direct(p, x, x, y), gnm::ShapeError);
  EXPECT_THROW(gnm::cpu::conv2d_im2col(p, x, w, long_y), gnm::ShapeError);
  std::vector<float> cols(static_cast<std::size_t>(gnm::cpu::im2col_size(p)) - 1);
  EXPECT_THROW(gnm::cpu::im2col(p, x, 0, cols), gnm::ShapeError);
  try {
    gnm::cpu::conv2d_im2col(p, x, w, long_y);
    FAIL() << "expected ShapeError";
  } catch (const gnm::ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("got = 201"), std::string::npos) << msg;
    EXPECT_NE(msg.find("want = 200"), std::string::npos) << msg;
  }
  EXPECT_NO_THROW(gnm::cpu::conv2d_im2col(p, x, w, y));
}

TEST(Conv2d, CostModel) {
  // ResNet-style 3×3, 64 → 64 channels on 56×56: 2·64·64·9·56·56 FLOPs.
  const Conv2dParams r{1, 64, 56, 56, 64, 3, 3, 1, 1, 1};
  const auto c = gnm::cpu::conv2d_cost(r);
  EXPECT_EQ(c.flops, 2.0 * 64 * 64 * 9 * 56 * 56);
  EXPECT_EQ(c.gemm_m, 64);
  EXPECT_EQ(c.gemm_n, 56 * 56);
  EXPECT_EQ(c.gemm_k, 64 * 9);
  const double in = 64.0 * 56 * 56, wt = 64.0 * 64 * 9, out = 64.0 * 56 * 56;
  EXPECT_EQ(c.direct_bytes, 4 * (in + wt + out));
  EXPECT_EQ(c.im2col_extra_bytes, 4.0 * 64 * 9 * 56 * 56);  // 9× the input: 7.2 MB
  EXPECT_EQ(c.im2col_bytes, c.direct_bytes + 2 * c.im2col_extra_bytes);
  EXPECT_EQ(gnm::cpu::im2col_size(r), 64 * 9 * 56 * 56);
  // With a batch, the workspace is reused but its traffic is per image.
  Conv2dParams b = r;
  b.n = 4;
  const auto cb = gnm::cpu::conv2d_cost(b);
  EXPECT_EQ(cb.flops, 4 * c.flops);
  EXPECT_EQ(cb.im2col_extra_bytes, c.im2col_extra_bytes);
  EXPECT_EQ(cb.im2col_bytes, cb.direct_bytes + 4 * 2 * c.im2col_extra_bytes + 3 * 4 * wt);
  // A pointwise convolution needs no workspace: the image is the column matrix.
  const auto pw = gnm::cpu::conv2d_cost({1, 64, 56, 56, 256, 1, 1, 1, 0, 1});
  EXPECT_EQ(pw.im2col_extra_bytes, 0.0);
  EXPECT_EQ(pw.im2col_bytes, pw.direct_bytes);
  EXPECT_EQ(pw.flops, 2.0 * 256 * 64 * 56 * 56);
}

}  // namespace
