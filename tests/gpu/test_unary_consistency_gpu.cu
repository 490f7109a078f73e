// Backend consistency of the unary family, where, dropout, bias_act and the fused executor: every
// op runs on the CPU and on CUDA from the same inputs and the results are compared — values and
// gradients, f32 and bf16, contiguous and strided inputs (label gpu; skips without a device).
//
// Tolerance: both backends are within Note [Unary tolerance] (tests/common/test_ops_unary.cpp)
// of the exact result, but CUDA's expf/tanhf/erff are 1–2 ulp libraries different from glibc and
// nvcc contracts a·b + c into FMAs, so they differ from each other by up to twice that bound:
// for x in [−4, 4], |x·f'(x)| ≤ |x|·(1 + |x| + |y|) covers every op here, giving
//     |cpu − gpu| ≤ 32u·(1 + |x|)·(1 + |x| + |y|),  u = 2⁻²⁴,
// and in bf16 one more bf16 rounding step (2⁻⁷·|y|) when the f32 values straddle a rounding
// boundary. Dropout and where involve no rounding differences at all: they must match exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "gnm/autograd/node.hpp"
#include "gnm/tensor/fusion.hpp"
#include "gnm/tensor/ops.hpp"
#include "gpu_test.hpp"

namespace {

using gnm::DType;
using gnm::Tensor;

const gnm::Device kGpu = gnm::Device::cuda(0);

struct Op {
  const char* name;
  std::function<Tensor(const Tensor&)> f;
  double lo, hi;
};

const std::vector<Op>& ops() {
  static const std::vector<Op> v = {
      {"neg", [](const Tensor& x) { return gnm::neg(x); }, -4, 4},
      {"exp", [](const Tensor& x) { return gnm::exp(x); }, -4, 4},
      {"log", [](const Tensor& x) { return gnm::log(x); }, 0.05, 4},
      {"sqrt", [](const Tensor& x) { return gnm::sqrt(x); }, 0.05, 4},
      {"abs", [](const Tensor& x) { return gnm::abs(x); }, -4, 4},
      {"square", [](const Tensor& x) { return gnm::square(x); }, -4, 4},
      {"relu", [](const Tensor& x) { return gnm::relu(x); }, -4, 4},
      {"gelu", [](const Tensor& x) { return gnm::gelu(x); }, -4, 4},
      {"gelu_tanh", [](const Tensor& x) { return gnm::gelu(x, true); }, -4, 4},
      {"silu", [](const Tensor& x) { return gnm::silu(x); }, -4, 4},
      {"tanh", [](const Tensor& x) { return gnm::tanh(x); }, -4, 4},
      {"sigmoid", [](const Tensor& x) { return gnm::sigmoid(x); }, -4, 4},
      {"clamp", [](const Tensor& x) { return gnm::clamp(x, -0.5, 0.75); }, -1, 1},
  };
  return v;
}

// Compares element by element with the tolerance of the header comment.
void expect_consistent(const Tensor& cpu, const Tensor& gpu, const Tensor& x, DType dtype,
                       const std::string& what) {
  ASSERT_TRUE(gpu.is_cuda()) << what;
  ASSERT_EQ(cpu.shape(), gpu.shape()) << what;
  const auto c = cpu.to_vector<double>();
  const auto g = gpu.to_vector<double>();
  const auto xs = x.to_vector<double>();
  ASSERT_EQ(c.size(), xs.size()) << what;
  int bad = 0;
  for (std::size_t i = 0; i < c.size() && bad < 5; ++i) {
    const double ax = std::abs(xs[i]);
    double tol = 32 * 0x1p-24 * (1 + ax) * (1 + ax + std::abs(c[i]));
    if (dtype == DType::bf16) tol += 0x1p-7 * std::abs(c[i]);
    if (!(std::abs(c[i] - g[i]) <= tol)) {
      ++bad;
      ADD_FAILURE() << what << " [" << i << "] x = " << xs[i] << ": cpu " << c[i] << ", gpu "
                    << g[i] << ", tol " << tol;
    }
  }
}

// Strided layouts: contiguous with a large prime count (many grid-stride steps), a transpose.
std::vector<Tensor> inputs(DType dtype, double lo, double hi) {
  return {gnm::rand({100003}, {.dtype = DType::f64}, lo, hi).to(dtype),
          gnm::rand({37, 29}, {.dtype = DType::f64}, lo, hi).to(dtype).t(),
          gnm::rand({}, {.dtype = DType::f64}, lo, hi).to(dtype)};
}

TEST(UnaryConsistencyGpu, ForwardAndBackwardMatchTheCpu) {
  GNM_GPU_TEST_OR_SKIP();
  gnm::manual_seed(1);
  for (DType dtype : {DType::f32, DType::bf16}) {
    for (const Op& op : ops()) {
      for (const Tensor& x : inputs(dtype, op.lo, op.hi)) {
        const std::string what = std::string(op.name) + " " + std::string(gnm::dtype_name(dtype)) +
                                 " " + gnm::shape_str(x.shape());
        Tensor xc = x.contiguous().detach().requires_grad_(true);
        Tensor xg = x.to(kGpu).detach().requires_grad_(true);
        if (x.dim() == 2) xg = x.t().contiguous().to(kGpu).t().detach().requires_grad_(true);
        const Tensor yc = op.f(xc);
        const Tensor yg = op.f(xg);
        expect_consistent(yc, yg, x, dtype, what + " forward");
        const Tensor g = gnm::rand(x.shape(), {.dtype = dtype}, -1, 1);
        yc.backward(g);
        yg.backward(g.to(kGpu));
        expect_consistent(xc.grad(), xg.grad(), x, dtype, what + " backward");
      }
    }
  }
}

TEST(UnaryConsistencyGpu, IntegerNegAbsAndWhereAreExact) {
  GNM_GPU_TEST_OR_SKIP();
  const Tensor i = gnm::arange(1001) - gnm::full({1001}, 500, {.dtype = DType::i64});
  EXPECT_EQ(gnm::neg(i.to(kGpu)).to_vector<std::int64_t>(), gnm::neg(i).to_vector<std::int64_t>());
  EXPECT_EQ(gnm::abs(i.to(kGpu)).to_vector<std::int64_t>(), gnm::abs(i).to_vector<std::int64_t>());
  gnm::manual_seed(2);
  const Tensor cond = gnm::gt(gnm::rand({31, 1, 17}), gnm::scalar_tensor(0.5));
  Tensor a = gnm::rand({1, 5, 17}).requires_grad_(true);
  Tensor b = gnm::rand({17}).requires_grad_(true);
  Tensor ag = a.detach().to(kGpu).requires_grad_(true);
  Tensor bg = b.detach().to(kGpu).requires_grad_(true);
  const Tensor yc = gnm::where(cond, a, b);
  const Tensor yg = gnm::where(cond.to(kGpu), ag, bg);
  EXPECT_EQ(yc.to_vector<float>(), yg.to_vector<float>());
  gnm::sum(yc).backward();
  gnm::sum(yg).backward();
  EXPECT_EQ(a.grad().to_vector<float>(), ag.grad().to_vector<float>());
  // The bias-gradient sums run in different orders: equal to within f32 summation error.
  const auto gb = b.grad().to_vector<float>(), gbg = bg.grad().to_vector<float>();
  for (std::size_t k = 0; k < gb.size(); ++k) EXPECT_NEAR(gb[k], gbg[k], 155 * 0x1p-24 * 155);
}

TEST(UnaryConsistencyGpu, DropoutMaskIsIdenticalOnBothBackends) {
  GNM_GPU_TEST_OR_SKIP();
  for (DType dtype : {DType::f32, DType::bf16}) {
    const Tensor x = gnm::rand({1000003}, {.dtype = dtype});
    const Tensor xt = gnm::rand({301, 7}, {.dtype = dtype}).t();
    for (const Tensor& in : {x, xt}) {
      for (double p : {0.1, 0.5, 0.9}) {
        gnm::manual_seed(1234);
        Tensor xc = in.detach().requires_grad_(true);
        const Tensor yc = gnm::dropout(xc, p);
        gnm::manual_seed(1234);
        Tensor xg = in.to(kGpu).detach().requires_grad_(true);
        const Tensor yg = gnm::dropout(xg, p);
        // Same Philox bits, same comparison in double, same product in f32: bit for bit.
        ASSERT_EQ(yc.to_vector<float>(), yg.to_vector<float>()) << gnm::dtype_name(dtype) << " p=" << p;
        const Tensor g = gnm::rand(in.shape(), {.dtype = dtype});
        yc.backward(g);
        yg.backward(g.to(kGpu));
        ASSERT_EQ(xc.grad().to_vector<float>(), xg.grad().to_vector<float>());
      }
    }
  }
}

TEST(UnaryConsistencyGpu, BiasActAndFusedExecutorMatchTheCpu) {
  GNM_GPU_TEST_OR_SKIP();
  gnm::manual_seed(3);
  using gnm::Activation;
  for (DType dtype : {DType::f32, DType::bf16}) {
    const Tensor x = gnm::rand({513, 129}, {.dtype = dtype}, -3, 3);
    const Tensor b = gnm::rand({129}, {.dtype = dtype}, -1, 1);
    for (Activation act : {Activation::none, Activation::relu, Activation::gelu, Activation::gelu_tanh,
                           Activation::silu, Activation::tanh, Activation::sigmoid}) {
      const std::string what =
          std::string(gnm::activation_name(act)) + " " + std::string(gnm::dtype_name(dtype));
      Tensor xc = x.detach().requires_grad_(true), bc = b.detach().requires_grad_(true);
      Tensor xg = x.to(kGpu).detach().requires_grad_(true), bg = b.to(kGpu).detach().requires_grad_(true);
      const Tensor yc = gnm::bias_act(xc, bc, act), yg = gnm::bias_act(xg, bg, act);
      const Tensor pre = (x.to(DType::f64) + b.to(DType::f64));
      expect_consistent(yc, yg, pre, dtype, what + " bias_act forward");
      const Tensor g = gnm::rand(x.shape(), {.dtype = dtype}, -1, 1);
      yc.backward(g);
      yg.backward(g.to(kGpu));
      expect_consistent(xc.grad(), xg.grad(), pre, dtype, what + " bias_act dx");
      // dbias sums 513 rows whose terms are ≤ ~1.2: the two summation orders differ by at most
      // ~513·u·Σ|terms| ≈ 513 · 2⁻²⁴ · 620 in f32; bf16 rounds each sum once more (2⁻⁷
      // relative).
      const auto dc = bc.grad().to_vector<double>(), dg = bg.grad().to_vector<double>();
      for (std::size_t k = 0; k < dc.size(); ++k) {
        const double bf16_term = dtype == DType::bf16 ? 0x1p-7 * (std::abs(dc[k]) + 4) : 0.0;
        const double tol = 513 * 0x1p-24 * 620 + bf16_term;
        EXPECT_NEAR(dc[k], dg[k], tol) << what << " dbias[" << k << "]";
      }
    }
    namespace fused = gnm::fused;
    const auto e = fused::gelu(fused::arg(0) * fused::arg(1) + 1.0, true) - fused::sigmoid(fused::arg(1));
    const Tensor a2 = gnm::rand({257, 1}, {.dtype = dtype}, -2, 2);
    const Tensor b2 = gnm::rand({1, 1031}, {.dtype = dtype}, -2, 2);
    const Tensor fc = fused::evaluate(e, {a2, b2});
    const Tensor fg = fused::evaluate(e, {a2.to(kGpu), b2.to(kGpu)});
    expect_consistent(fc, fg, (a2.to(DType::f64) * b2.to(DType::f64)) + 1.0, dtype, "fused executor");
  }
}

}  // namespace
