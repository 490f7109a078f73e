// gnm::nn int8 quantization (chapter 10.4): per-row symmetric quantization (scales, half-step
// error, rounding, zero and non-finite rows), the int8 GEMM bit for bit against an int64
// reference (odd sizes, K blocks, the parallel path, extreme values), QuantizedLinear against the
// integer reference and within the error bound of the f32 layer, quantize_dynamic on an MLP.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gpu_test.hpp"
#include "gnm/core/random.hpp"
#include "gnm/nn/layers.hpp"
#include "gnm/nn/quantize.hpp"
#include "gnm/tensor/ops.hpp"

namespace {

using gnm::Tensor;
namespace nn = gnm::nn;

constexpr double kU = 0x1p-24;  // unit roundoff of f32

double d(float v) { return static_cast<double>(v); }

std::vector<float> uniform(std::size_t n, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(n);
  gnm::fill_uniform(v, seed, lo, hi);
  return v;
}

// A matrix whose rows have very different magnitudes (2^-10 … 2^10), as weights and activations.
std::vector<float> scaled_rows(std::int64_t rows, std::int64_t cols, std::uint64_t seed) {
  std::vector<float> v = uniform(static_cast<std::size_t>(rows * cols), seed);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c)
      v[static_cast<std::size_t>(r * cols + c)] *= std::ldexp(1.0f, static_cast<int>(r % 21) - 10);
  return v;
}

// ------------------------------------------------------------------------------- quantize_rows

TEST(Quantize, RowsHaveMaxScaleAndHalfStepError) {
  for (std::int64_t rows : {1, 7, 13}) {
    for (std::int64_t cols : {1, 7, 13, 16, 257}) {
      const std::vector<float> x = scaled_rows(rows, cols, 10 + rows * 1000 + cols);
      const nn::QuantizedMatrix q = nn::quantize_rows(x, rows, cols);
      ASSERT_EQ(q.stride % 16, 0);
      ASSERT_GE(q.stride, cols);
      for (std::int64_t r = 0; r < rows; ++r) {
        float m = 0.0f;
        for (std::int64_t c = 0; c < cols; ++c) m = std::max(m, std::fabs(x[r * cols + c]));
        const float s = q.scales[static_cast<std::size_t>(r)];
        EXPECT_EQ(s, m / 127.0f) << r;
        int max_q = 0;
        for (std::int64_t c = 0; c < cols; ++c) {
          const int v = q.at(r, c);
          max_q = std::max(max_q, std::abs(v));
          // q = round(x · fl(1/s)): x·fl(1/s) is within 2u·127 of x/s, so |x − s·q| ≤
          // s·(1/2 + 254u) (the error model of the header, plus the reciprocal's rounding).
          const double err = std::fabs(static_cast<double>(x[r * cols + c]) -
                                       static_cast<double>(s) * v);
          EXPECT_LE(err, static_cast<double>(s) * (0.5 + 254 * kU)) << r << "," << c;
        }
        EXPECT_EQ(max_q, 127) << "the largest |x| of a row maps to ±127";
        for (std::int64_t c = cols; c < q.stride; ++c) EXPECT_EQ(q.at(r, c), 0) << "padding";
      }
    }
  }
}

TEST(Quantize, RoundsHalfToEvenInVectorAndTailCode) {
  // With max 127 the scale is 1, so q = round(x): ties go to even in both code paths (the
  // first 16 values take the AVX2 path, the rest the scalar tail).
  const std::vector<float> pattern = {127.0f, 63.5f, -63.5f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f,
                                      0.49f, 126.6f, -127.0f, 3.0f, 0.0f, -2.5f, 4.5f, 5.5f};
  std::vector<float> x = pattern;
  x.insert(x.end(), pattern.begin(), pattern.end() - 1);  // 31 values: 16 vector + 15 tail
  const std::vector<int> want = {127, 64, -64, 0, 2, 2, 0, -2, 0, 127, -127, 3, 0, -2, 4, 6};
  const nn::QuantizedMatrix q = nn::quantize_rows(x, 1, static_cast<std::int64_t>(x.size()));
  EXPECT_EQ(q.scales[0], 1.0f);
  for (std::size_t c = 0; c < x.size(); ++c)
    EXPECT_EQ(q.at(0, static_cast<std::int64_t>(c)), want[c % 16]) << c;
}

TEST(Quantize, ZeroTinyAndNonFiniteRows) {
  std::vector<float> x(3 * 20, 0.0f);                     // row 0: zeros
  for (int c = 0; c < 20; ++c) x[20 + c] = 1e-38f;       // row 1: max/127 is not normal
  for (int c = 0; c < 20; ++c) x[40 + c] = float(c) - 9;  // row 2: ordinary
  const nn::QuantizedMatrix q = nn::quantize_rows(x, 3, 20);
  EXPECT_EQ(q.scales[0], 1.0f);
  EXPECT_EQ(q.scales[1], 1.0f);
  for (int c = 0; c < 20; ++c) {
    EXPECT_EQ(q.at(0, c), 0);
    EXPECT_EQ(q.at(1, c), 0);
  }
  EXPECT_EQ(q.scales[2], 10.0f / 127.0f);

  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    for (int where : {3, 18}) {  // in the vector body and in the tail
      std::vector<float> y = x;
      y[20 + where] = bad;
      EXPECT_THROW(nn::quantize_rows(y, 3, 20), gnm::Error) << bad << " at " << where;
      std::vector<char> flags;
      const nn::QuantizedMatrix qy = nn::quantize_rows(y, 3, 20, nullptr, &flags);
      EXPECT_EQ(flags, (std::vector<char>{0, 1, 0}));
      EXPECT_EQ(qy.scales[1], 1.0f);
      EXPECT_EQ(qy.at(1, where), 0);
    }
  }
  EXPECT_THROW(nn::quantize_rows(x, 3, 19), gnm::ShapeError);
  EXPECT_THROW(nn::quantize_rows(x, -1, 20), gnm::ShapeError);
  const nn::QuantizedMatrix empty = nn::quantize_rows({}, 0, 5);
  EXPECT_EQ(empty.rows, 0);
  EXPECT_TRUE(empty.values.empty());
}

// ----------------------------------------------------------------------------- int8_matmul_nt

std::vector<std::int32_t> reference_matmul(const nn::QuantizedMatrix& a,
                                           const nn::QuantizedMatrix& b) {
  std::vector<std::int32_t> c(static_cast<std::size_t>(a.rows * b.rows));
  for (std::int64_t i = 0; i < a.rows; ++i)
    for (std::int64_t j = 0; j < b.rows; ++j) {
      std::int64_t s = 0;
      for (std::int64_t k = 0; k < a.cols; ++k) s += std::int64_t{a.at(i, k)} * b.at(j, k);
      c[static_cast<std::size_t>(i * b.rows + j)] = static_cast<std::int32_t>(s);
    }
  return c;
}

TEST(QuantizeGemm, ExactAgainstInt64Reference) {
  struct Case { std::int64_t m, n, k; };
  // Odd sizes and 0, K across the 16-wide steps and the 1024-deep K blocks, and shapes large
  // enough (≥ 2^20 multiply-adds) to take the parallel path with edge tiles in both directions.
  const std::vector<Case> cases = {{1, 1, 1},   {7, 13, 1},   {13, 7, 16},   {1, 257, 17},
                                   {257, 1, 13}, {0, 5, 7},   {5, 0, 7},     {4, 3, 0},
                                   {7, 5, 1100}, {13, 3, 2049}, {131, 67, 257}, {97, 130, 300}};
  gnm::ThreadPool pool(3);
  for (const Case& t : cases) {
    const std::vector<float> xa = uniform(static_cast<std::size_t>(t.m * t.k), 100 + t.m);
    const std::vector<float> xb = uniform(static_cast<std::size_t>(t.n * t.k), 200 + t.n);
    const nn::QuantizedMatrix a = nn::quantize_rows(xa, t.m, t.k);
    const nn::QuantizedMatrix b = nn::quantize_rows(xb, t.n, t.k);
    std::vector<std::int32_t> c(static_cast<std::size_t>(t.m * t.n), 0x7f7f7f7f);  // poisoned
    nn::int8_matmul_nt(a, b, c);
    const std::vector<std::int32_t> want = reference_matmul(a, b);
    EXPECT_EQ(c, want) << t.m << "x" << t.n << "x" << t.k;
    std::fill(c.begin(), c.end(), 0x7f7f7f7f);
    nn::int8_matmul_nt(a, b, c, &pool);  // three participants: blocks finish in any order
    EXPECT_EQ(c, want) << t.m << "x" << t.n << "x" << t.k << " on 3 threads";
  }
}

TEST(Quantize, ParallelRowsMatchOneRowAtATime) {
  // 300 × 257 values take the parallel path; each row must not depend on its neighbours.
  const std::int64_t rows = 300, cols = 257;
  const std::vector<float> x = scaled_rows(rows, cols, 77);
  gnm::ThreadPool pool(3);
  const nn::QuantizedMatrix q = nn::quantize_rows(x, rows, cols, &pool);
  for (std::int64_t r = 0; r < rows; r += 37) {
    const nn::QuantizedMatrix one = nn::quantize_rows(
        std::span<const float>(x).subspan(static_cast<std::size_t>(r * cols),
                                          static_cast<std::size_t>(cols)),
        1, cols);
    EXPECT_EQ(one.scales[0], q.scales[static_cast<std::size_t>(r)]) << r;
    for (std::int64_t c = 0; c < cols; ++c) EXPECT_EQ(one.at(0, c), q.at(r, c)) << r << "," << c;
  }
}

TEST(QuantizeGemm, ExtremeValuesDoNotSaturateOrOverflow) {
  // ±127 everywhere: vpmaddubsw would saturate at 2·127·127 > 2^15; vpmaddwd must not.
  const std::int64_t k = 4096;
  std::vector<float> xa(static_cast<std::size_t>(6 * k), 1.0f);
  std::vector<float> xb(static_cast<std::size_t>(2 * k), -1.0f);
  for (std::int64_t i = 0; i < k; ++i) xb[static_cast<std::size_t>(k + i)] = i % 2 ? 1.0f : -1.0f;
  std::vector<std::int32_t> c(12);
  nn::int8_matmul_nt(nn::quantize_rows(xa, 6, k), nn::quantize_rows(xb, 2, k), c);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(c[static_cast<std::size_t>(2 * i)], -127 * 127 * k);
    EXPECT_EQ(c[static_cast<std::size_t>(2 * i + 1)], 0);
  }
  // The longest K allowed still sums exactly: 127² · 133 000 = 2 145 157 000 < 2^31.
  const std::vector<float> ones(static_cast<std::size_t>(nn::kMaxInt8Depth), 1.0f);
  const nn::QuantizedMatrix q = nn::quantize_rows(ones, 1, nn::kMaxInt8Depth);
  std::vector<std::int32_t> one(1);
  nn::int8_matmul_nt(q, q, one);
  EXPECT_EQ(one[0], std::int64_t{127} * 127 * nn::kMaxInt8Depth);
}

TEST(QuantizeGemm, BadOperandsThrow) {
  const nn::QuantizedMatrix a = nn::quantize_rows(uniform(12, 1), 3, 4);
  const nn::QuantizedMatrix b = nn::quantize_rows(uniform(10, 2), 2, 5);
  std::vector<std::int32_t> c(6);
  EXPECT_THROW(nn::int8_matmul_nt(a, b, c), gnm::ShapeError);  // K 4 vs 5
  EXPECT_THROW(nn::int8_matmul_nt(a, a, c), gnm::ShapeError);  // C needs 9 values
  nn::QuantizedMatrix broken = a;
  broken.values.pop_back();
  std::vector<std::int32_t> c9(9);
  EXPECT_THROW(nn::int8_matmul_nt(broken, a, c9), gnm::Error);
  const std::vector<float> deep(static_cast<std::size_t>(nn::kMaxInt8Depth + 1), 0.5f);
  const nn::QuantizedMatrix too_deep = nn::quantize_rows(deep, 1, nn::kMaxInt8Depth + 1);
  std::vector<std::int32_t> c1(1);
  EXPECT_THROW(nn::int8_matmul_nt(too_deep, too_deep, c1), gnm::Error);
}

// ---------------------------------------------------------------------------- QuantizedLinear

// A Linear(in, out) with weights whose rows have different magnitudes.
std::shared_ptr<nn::Linear> make_linear(std::int64_t in, std::int64_t out, std::uint64_t seed,
                                        bool bias = true) {
  auto l = std::make_shared<nn::Linear>(in, out, bias);
  const std::vector<float> w = scaled_rows(out, in, seed);
  l->weight.detach().copy_(gnm::from_vector(std::span<const float>(w), {out, in}));
  return l;
}

Tensor make_input(std::int64_t rows, std::int64_t in, std::uint64_t seed) {
  const std::vector<float> x = scaled_rows(rows, in, seed);
  return gnm::from_vector(std::span<const float>(x), {rows, in});
}

TEST(QuantizedLinear, MatchesIntegerReference) {
  // y = acc · (sx · sw) + b in f32 from an exact acc: converting acc, the two products and the sum
  // round once each, so |y − y_double| ≤ 4u · (|acc·sx·sw| + |b|) to first order.
  for (auto [in, out] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {1, 1}, {7, 13}, {13, 7}, {257, 13}, {300, 257}}) {
    for (std::int64_t batch : {0, 1, 7, 13}) {
      for (bool with_bias : {true, false}) {
        const auto lin = make_linear(in, out, 7 * in + out, with_bias);
        nn::QuantizedLinear q(*lin);
        const Tensor x = make_input(batch, in, 3 * batch + in);
        const Tensor y = q.forward(x);
        ASSERT_EQ(y.shape(), (gnm::Shape{batch, out}));
        const std::vector<float> got = y.to_vector<float>();
        const std::vector<float> xv = x.to_vector<float>();
        const nn::QuantizedMatrix qx = nn::quantize_rows(xv, batch, in);
        const std::vector<std::int32_t> acc = reference_matmul(qx, q.weight());
        for (std::int64_t i = 0; i < batch; ++i)
          for (std::int64_t j = 0; j < out; ++j) {
            const double p = static_cast<double>(acc[i * out + j]) * d(qx.scales[i]) *
                             d(q.weight().scales[j]);
            const double b = with_bias ? d(q.bias()[j]) : 0.0;
            EXPECT_NEAR(got[i * out + j], p + b, 4.01 * kU * (std::fabs(p) + std::fabs(b)))
                << in << " " << out << " " << i << " " << j;
          }
      }
    }
  }
}

TEST(QuantizedLinear, WithinErrorBoundOfFloatLayer) {
  // Note [Quantization error model]: |y − ŷ| ≤ sx/2·Σ|w| + sw/2·Σ|x| + K·sx·sw/4, with the
  // half steps widened by the reciprocal's rounding (254u) and 8u·Σ|x·w| + 4u·|b| for the f32
  // epilogue (4u of |ŷ| ≤ Σ|x̂·ŵ| + |b|, doubled for x̂·ŵ against x·w); y is computed in double
  // from the f32 weights.
  for (auto [in, out] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {1, 1}, {7, 13}, {13, 7}, {257, 13}, {784, 65}}) {
    const auto lin = make_linear(in, out, 11 * in + out);
    nn::QuantizedLinear q(*lin);
    const std::int64_t batch = 13;
    const Tensor x = make_input(batch, in, 5 + in);
    const std::vector<float> got = q.forward(x).to_vector<float>();
    const std::vector<float> xv = x.to_vector<float>();
    const std::vector<float> wv = lin->weight.to_vector<float>();
    const std::vector<float> bv = lin->bias.to_vector<float>();
    const nn::QuantizedMatrix qx = nn::quantize_rows(xv, batch, in);
    double worst_ratio = 0.0;
    for (std::int64_t i = 0; i < batch; ++i)
      for (std::int64_t j = 0; j < out; ++j) {
        double y = bv[j], sum_w = 0, sum_x = 0, sum_xw = 0;
        for (std::int64_t k = 0; k < in; ++k) {
          const double xk = xv[i * in + k], wk = wv[j * in + k];
          y += xk * wk;
          sum_w += std::fabs(wk);
          sum_x += std::fabs(xk);
          sum_xw += std::fabs(xk * wk);
        }
        const double sx = qx.scales[i], sw = q.weight().scales[j];
        const double half = 0.5 + 254 * kU;
        const double bound = sx * half * sum_w + sw * half * sum_x + in * sx * sw * half * half +
                             8 * kU * sum_xw + 4 * kU * std::fabs(d(bv[j]));
        const double err = std::fabs(d(got[i * out + j]) - y);
        EXPECT_LE(err, bound) << in << " " << out << " " << i << " " << j;
        worst_ratio = std::max(worst_ratio, err / bound);
      }
    // The bound is a worst case: over long rows the rounding errors, of random signs, stay far
    // below it (they grow like √K, the bound like K).
    if (in >= 257) {
      EXPECT_LT(worst_ratio, 0.25) << in << " " << out;
    }
  }
}

TEST(QuantizedLinear, ShapesModesAndErrors) {
  const auto lin = make_linear(13, 7, 3);
  nn::QuantizedLinear q(*lin);
  EXPECT_EQ(q.str(), "DynamicQuantizedLinear(in_features=13, out_features=7, dtype=qint8, "
                     "qscheme=per_channel_symmetric)");
  EXPECT_EQ(q.weight_bytes(), 7 * 16 + 7 * 4);  // rows padded to 16 bytes, one scale each
  EXPECT_TRUE(q.parameters().empty());

  // Leading dimensions are batch dimensions; an empty batch gives an empty result.
  const Tensor x = make_input(6, 13, 4);
  const Tensor y3 = q.forward(x.view({2, 3, 13}));
  EXPECT_EQ(y3.shape(), (gnm::Shape{2, 3, 7}));
  EXPECT_EQ(y3.to_vector<float>(), q.forward(x).to_vector<float>());
  EXPECT_EQ(q.forward(gnm::zeros({0, 13})).shape(), (gnm::Shape{0, 7}));
  EXPECT_EQ(q.forward(x.select(0, 2)).shape(), (gnm::Shape{7}));
  // A non-contiguous input gives the same rows.
  const Tensor xt = x.t().contiguous().t();
  EXPECT_EQ(q.forward(xt).to_vector<float>(), q.forward(x).to_vector<float>());

  // Inference only: no graph even when the input requires grad.
  const Tensor xg = x.detach().clone().requires_grad_();
  EXPECT_FALSE(q.forward(xg).requires_grad());

  // A NaN or inf in a row poisons that row only, as in the f32 layer.
  Tensor xn = x.clone();
  xn.select(0, 1).select(0, 5).fill_(std::numeric_limits<double>::quiet_NaN());
  const std::vector<float> yn = q.forward(xn).to_vector<float>();
  const std::vector<float> y = q.forward(x).to_vector<float>();
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 7; ++j) {
      if (i == 1)
        EXPECT_TRUE(std::isnan(yn[i * 7 + j]));
      else
        EXPECT_EQ(yn[i * 7 + j], y[i * 7 + j]);
    }

  EXPECT_THROW(q.forward(gnm::zeros({4, 12})), gnm::ShapeError);
  EXPECT_THROW(q.forward(gnm::scalar_tensor(1.0)), gnm::ShapeError);
  EXPECT_THROW(q.forward(gnm::zeros({4, 13}, {.dtype = gnm::DType::f64})), gnm::NotImplemented);
  try {
    q.forward(gnm::zeros({4, 12}));
  } catch (const gnm::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[4, 12]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[7, 13]"), std::string::npos) << e.what();
  }

  // in_features = 0: empty sums, y = b.
  nn::Linear no_inputs(0, 3);
  const std::vector<float> b3 = {1.0f, -2.0f, 0.5f};
  no_inputs.bias.detach().copy_(gnm::from_vector(std::span<const float>(b3), {3}));
  const Tensor y0 = nn::QuantizedLinear(no_inputs).forward(gnm::zeros({2, 0}));
  EXPECT_EQ(y0.to_vector<float>(), (std::vector<float>{1.0f, -2.0f, 0.5f, 1.0f, -2.0f, 0.5f}));

  // A weight that is NaN cannot be quantized; a bf16 Linear can (converted to f32 first).
  nn::Linear bad(3, 2);
  bad.weight.detach().select(0, 1).select(0, 1).fill_(std::numeric_limits<double>::infinity());
  EXPECT_THROW(nn::QuantizedLinear{bad}, gnm::Error);
  nn::Linear half(13, 7);
  half.to(gnm::DType::bf16);
  EXPECT_EQ(nn::QuantizedLinear(half).forward(x).shape(), (gnm::Shape{6, 7}));
}

TEST(QuantizedLinear, CudaInputIsRejected) {
  GNM_GPU_TEST_OR_SKIP();
  nn::Linear lin(5, 3);
  lin.to(gnm::Device::cuda(0));
  nn::QuantizedLinear q(lin);  // quantizing a CUDA layer is fine (copied to the host)
  EXPECT_THROW(q.forward(gnm::zeros({2, 5}, {.device = gnm::Device::cuda(0)})),
               gnm::NotImplemented);
  EXPECT_EQ(q.forward(gnm::zeros({2, 5})).shape(), (gnm::Shape{2, 3}));
}

// --------------------------------------------------------------------------- quantize_dynamic

// A layer of a type quantize_dynamic does not know: shared, not copied.
class Scale : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override { return x * 0.5; }
  std::string type_name() const override { return "Scale"; }
};

TEST(QuantizeDynamic, ReplacesLinearsAndShrinksTheModel) {
  gnm::manual_seed(3);
  auto mlp = nn::make_mlp({784, 256, 128, 10}, nn::Activation::relu);
  mlp->eval();
  auto q = nn::quantize_dynamic(*mlp);
  EXPECT_EQ(q->str(),
            "Sequential(\n"
            "  (0): DynamicQuantizedLinear(in_features=784, out_features=256, dtype=qint8, "
            "qscheme=per_channel_symmetric)\n"
            "  (1): ReLU()\n"
            "  (2): DynamicQuantizedLinear(in_features=256, out_features=128, dtype=qint8, "
            "qscheme=per_channel_symmetric)\n"
            "  (3): ReLU()\n"
            "  (4): DynamicQuantizedLinear(in_features=128, out_features=10, dtype=qint8, "
            "qscheme=per_channel_symmetric)\n"
            ")");
  EXPECT_NE(q->at(1).get(), mlp->at(1).get());  // ReLU copied
  EXPECT_FALSE(q->is_training());
  // 235 146 f32 parameters against 234 752 int8 weights + 394 scales + 394 f32 biases.
  EXPECT_EQ(nn::model_weight_bytes(*mlp), 235'146 * 4);
  EXPECT_EQ(nn::model_weight_bytes(*q), 234'752 + 394 * 4 + 394 * 4);
  EXPECT_EQ(mlp->at(0)->type_name(), "Linear");  // the original is untouched

  // Same predictions up to the quantization error (inputs in [0, 1) like pixels).
  const Tensor x = gnm::rand({16, 784});
  const std::vector<float> yf = mlp->forward(x).to_vector<float>();
  const std::vector<float> yq = q->forward(x).to_vector<float>();
  double max_diff = 0.0, max_abs = 0.0;
  for (std::size_t i = 0; i < yf.size(); ++i) {
    max_diff = std::max(max_diff, static_cast<double>(std::fabs(yf[i] - yq[i])));
    max_abs = std::max(max_abs, static_cast<double>(std::fabs(yf[i])));
  }
  EXPECT_LT(max_diff, 0.02 * max_abs);  // a few 1/127 steps through three layers

  // Nested Sequentials are walked; unknown layers are shared; Dropout keeps its mode.
  auto inner = std::make_shared<nn::Sequential>(
      std::initializer_list<std::shared_ptr<nn::Module>>{std::make_shared<nn::Linear>(4, 3)});
  auto scale = std::make_shared<Scale>();
  nn::Sequential outer{inner, std::make_shared<nn::Dropout>(0.25), scale,
                       std::make_shared<nn::Flatten>()};
  outer.eval();
  auto qo = nn::quantize_dynamic(outer);
  const auto* qi = dynamic_cast<const nn::Sequential*>(qo->at(0).get());
  ASSERT_NE(qi, nullptr);
  EXPECT_NE(dynamic_cast<const nn::QuantizedLinear*>(qi->at(0).get()), nullptr);
  EXPECT_EQ(qo->at(1)->str(), "Dropout(p=0.25, inplace=False)");
  EXPECT_FALSE(qo->at(1)->is_training());
  EXPECT_EQ(qo->at(2).get(), scale.get());
  EXPECT_EQ(qo->forward(gnm::ones({2, 4})).shape(), (gnm::Shape{2, 3}));
}

}  // namespace
