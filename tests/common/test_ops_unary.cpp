// The unary ops and activations (chapter 9.3) and their backward (9.5): values against a double
// reference in every floating dtype, odd shapes and strides, gradcheck in f64, PyTorch fixtures,
// dtype errors.
//
// Note [Unary tolerance]
// For y = f(x) computed in a type with unit roundoff u (2⁻²⁴ for f32/f16/bf16, which compute in
// f32; 2⁻⁵³ for f64) from the stored x, the forward formulas take a handful of correctly rounded
// steps plus one libm call (≤ 2 ulp in glibc). An error of relative size u in an intermediate
// argument moves y by about |x·f'(x)|·u, and the GELU forms add 1 to erf/tanh ≈ −1 for x < 0, an
// absolute error ~u in (1 + erf) scaled by |x|/2. So
//     |y − f(x)| ≤ 8u·(|f(x)| + |x·f'(x)| + |x|)                   (f32, f64)
// with 8 covering ~4 roundings and the libm ulps. f16/bf16 add the final rounding of y to the
// storage type, ≤ 2⁻¹¹ (f16) or 2⁻⁸ (bf16) relative, and f16's subnormal spacing 2⁻²⁴
// absolute.
// The backward formulas are products of O(1) factors (σ, Φ, φ, tanh) with polynomials in x of
// degree ≤ 3, so their error is ≤ 16u·(|ref| + |g|·(1 + |x|)³).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <string>

#include "gnm/autograd/gradcheck.hpp"
#include "gnm/autograd/node.hpp"
#include "gnm/tensor/ops.hpp"

namespace {

using gnm::DType;
using gnm::Tensor;

struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> op;
  double (*f)(double);       // reference value
  double (*df)(double);      // reference derivative
  double lo, hi;             // input range for the random tests
};

constexpr double kPi = 3.14159265358979323846;
double phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * kPi); }
double cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double sig(double x) { return 1.0 / (1.0 + std::exp(-x)); }
constexpr double kK = 0.044715;
double gt_inner(double x) { return std::sqrt(2 / kPi) * (x + kK * x * x * x); }

const std::vector<UnaryCase>& cases() {
  static const std::vector<UnaryCase> v = {
      {"neg", [](const Tensor& x) { return gnm::neg(x); }, [](double x) { return -x; },
       [](double) { return -1.0; }, -4, 4},
      {"exp", [](const Tensor& x) { return gnm::exp(x); }, [](double x) { return std::exp(x); },
       [](double x) { return std::exp(x); }, -4, 4},
      {"log", [](const Tensor& x) { return gnm::log(x); }, [](double x) { return std::log(x); },
       [](double x) { return 1 / x; }, 0.05, 4},
      {"sqrt", [](const Tensor& x) { return gnm::sqrt(x); }, [](double x) { return std::sqrt(x); },
       [](double x) { return 0.5 / std::sqrt(x); }, 0.05, 4},
      {"abs", [](const Tensor& x) { return gnm::abs(x); }, [](double x) { return std::abs(x); },
       [](double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }, -4, 4},
      {"square", [](const Tensor& x) { return gnm::square(x); }, [](double x) { return x * x; },
       [](double x) { return 2 * x; }, -4, 4},
      {"relu", [](const Tensor& x) { return gnm::relu(x); }, [](double x) { return x > 0 ? x : 0.0; },
       [](double x) { return x > 0 ? 1.0 : 0.0; }, -4, 4},
      {"gelu", [](const Tensor& x) { return gnm::gelu(x); }, [](double x) { return x * cdf(x); },
       [](double x) { return cdf(x) + x * phi(x); }, -4, 4},
      {"gelu_tanh", [](const Tensor& x) { return gnm::gelu(x, true); },
       [](double x) { return 0.5 * x * (1 + std::tanh(gt_inner(x))); },
       [](double x) {
         const double t = std::tanh(gt_inner(x));
         return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * std::sqrt(2 / kPi) * (1 + 3 * kK * x * x);
       },
       -4, 4},
      {"silu", [](const Tensor& x) { return gnm::silu(x); }, [](double x) { return x * sig(x); },
       [](double x) { return sig(x) * (1 + x * (1 - sig(x))); }, -4, 4},
      {"tanh", [](const Tensor& x) { return gnm::tanh(x); }, [](double x) { return std::tanh(x); },
       [](double x) { return 1 - std::tanh(x) * std::tanh(x); }, -4, 4},
      {"sigmoid", [](const Tensor& x) { return gnm::sigmoid(x); }, [](double x) { return sig(x); },
       [](double x) { return sig(x) * (1 - sig(x)); }, -4, 4},
  };
  return v;
}

double compute_eps(DType t) { return t == DType::f64 ? 0x1p-53 : 0x1p-24; }
double storage_eps(DType t) { return t == DType::bf16 ? 0x1p-8 : t == DType::f16 ? 0x1p-11 : 0.0; }
double storage_abs(DType t) { return t == DType::f16 ? 0x1p-24 : 0.0; }

// Inputs of `shape` made in f64 then converted: the reference sees exactly the stored values.
Tensor random_input(const gnm::Shape& shape, DType dtype, double lo, double hi) {
  return gnm::rand(shape, {.dtype = DType::f64}, lo, hi).to(dtype);
}

// Layouts the ops must handle: scalars, empties, primes, and non-contiguous views.
std::vector<Tensor> layouts(DType dtype, double lo, double hi) {
  std::vector<Tensor> v;
  v.push_back(random_input({}, dtype, lo, hi));
  v.push_back(random_input({0}, dtype, lo, hi));
  v.push_back(random_input({1}, dtype, lo, hi));
  v.push_back(random_input({3, 0, 2}, dtype, lo, hi));
  v.push_back(random_input({7, 13}, dtype, lo, hi));
  v.push_back(random_input({13, 5}, dtype, lo, hi).t());                     // transposed
  v.push_back(random_input({4, 11, 6}, dtype, lo, hi).slice(1, 1, 10, 3));   // stepped slice
  v.push_back(random_input({3, 1}, dtype, lo, hi).expand({3, 5}));           // stride 0
  v.push_back(random_input({40000}, dtype, lo, hi));  // above the parallel grain: thread pool
  return v;
}

TEST(OpsUnary, ForwardMatchesDoubleReferenceInEveryDtype) {
  gnm::manual_seed(1);
  for (DType dtype : {DType::f32, DType::f64, DType::bf16, DType::f16}) {
    for (const UnaryCase& c : cases()) {
      for (const Tensor& x : layouts(dtype, c.lo, c.hi)) {
        const Tensor y = c.op(x);
        ASSERT_EQ(y.shape(), x.shape());
        ASSERT_EQ(y.dtype(), dtype);
        if (y.numel() > 0) {
          ASSERT_TRUE(y.is_contiguous());  // (the core calls empty tensors non-contiguous)
        }
        const auto xs = x.to_vector<double>();
        const auto ys = y.to_vector<double>();
        const double u = compute_eps(dtype);
        int bad = 0;
        for (std::size_t i = 0; i < xs.size() && bad < 5; ++i) {
          const double ref = c.f(xs[i]);
          // Note [Unary tolerance]
          const double tol = 8 * u * (std::abs(ref) + std::abs(xs[i] * c.df(xs[i])) + std::abs(xs[i])) +
                             storage_eps(dtype) * std::abs(ref) + storage_abs(dtype);
          if (!(std::abs(ys[i] - ref) <= tol)) {
            ++bad;
            ADD_FAILURE() << c.name << " " << gnm::dtype_name(dtype) << " x=" << xs[i]
                          << " got " << ys[i] << " want " << ref << " tol " << tol;
          }
        }
      }
    }
  }
}

TEST(OpsUnary, BackwardMatchesDoubleReferenceInF32) {
  gnm::manual_seed(2);
  for (const UnaryCase& c : cases()) {
    for (const Tensor& x0 : layouts(DType::f32, c.lo, c.hi)) {
      Tensor x = x0.detach().contiguous().requires_grad_(true);
      const Tensor g = gnm::rand(x.shape(), {}, -1.0, 1.0);
      Tensor y = c.op(x);
      y.backward(g);
      if (x.numel() == 0) continue;
      const auto xs = x.to_vector<double>();
      const auto gs = g.to_vector<double>();
      const auto gx = x.grad().to_vector<double>();
      for (std::size_t i = 0; i < xs.size(); ++i) {
        const double ref = gs[i] * c.df(xs[i]);
        const double a = 1 + std::abs(xs[i]);
        // Note [Unary tolerance]
        const double tol = 16 * 0x1p-24 * (std::abs(ref) + std::abs(gs[i]) * a * a * a);
        ASSERT_LE(std::abs(gx[i] - ref), tol) << c.name << " x=" << xs[i];
      }
    }
  }
}

TEST(OpsUnary, GradcheckInF64OnOddLayouts) {
  gnm::manual_seed(3);
  for (const UnaryCase& c : cases()) {
    // Away from relu's and abs's kink, where central differences straddle it.
    const double lo = c.lo < 0 ? c.lo : c.lo + 0.2;
    for (const gnm::Shape& shape : {gnm::Shape{}, gnm::Shape{1}, gnm::Shape{7}, gnm::Shape{3, 5}}) {
      Tensor x = random_input(shape, DType::f64, lo, c.hi);
      const auto xv = x.to_vector<double>();
      bool near_kink = false;
      for (double v : xv) near_kink = near_kink || std::abs(v) < 1e-3;
      if (near_kink) continue;
      x.requires_grad_(true);
      const auto r = gnm::autograd::gradcheck([&](const auto& in) { return c.op(in[0]); }, {x});
      EXPECT_TRUE(r.ok) << c.name << ": " << r.message;
    }
    // A non-contiguous input: the op sees the transpose's strides.
    Tensor base = random_input({5, 3}, DType::f64, c.lo < 0 ? 0.1 : c.lo, c.hi).requires_grad_(true);
    const auto r = gnm::autograd::gradcheck([&](const auto& in) { return c.op(in[0].t()); }, {base});
    EXPECT_TRUE(r.ok) << c.name << " transposed: " << r.message;
  }
}

TEST(OpsUnary, ClampValuesGradientsAndErrors) {
  const std::vector<double> v{-2, -1, -0.5, 0, 0.5, 1, 2};
  const Tensor x = gnm::from_vector(std::span<const double>(v), {7}, {.dtype = DType::f64});
  EXPECT_EQ(gnm::clamp(x, -1.0, 1.0).to_vector<double>(),
            (std::vector<double>{-1, -1, -0.5, 0, 0.5, 1, 1}));
  EXPECT_EQ(gnm::clamp(x, std::nullopt, 0.0).to_vector<double>(),
            (std::vector<double>{-2, -1, -0.5, 0, 0, 0, 0}));
  EXPECT_EQ(gnm::clamp(x, 0.5, std::nullopt).to_vector<double>(),
            (std::vector<double>{0.5, 0.5, 0.5, 0.5, 0.5, 1, 2}));
  // lo > hi: everything is hi, as torch.clamp.
  EXPECT_EQ(gnm::clamp(x, 1.0, -1.0).to_vector<double>(), std::vector<double>(7, -1.0));
  // Gradient: 1 strictly inside, 0 at and beyond a bound (PyTorch's convention).
  Tensor xl = x.detach().requires_grad_(true);
  gnm::sum(gnm::clamp(xl, -1.0, 1.0)).backward();
  EXPECT_EQ(xl.grad().to_vector<double>(), (std::vector<double>{0, 0, 1, 1, 1, 0, 0}));
  Tensor xr = gnm::rand({4, 6}, {.dtype = DType::f64}, -2, 2).requires_grad_(true);
  const auto r = gnm::autograd::gradcheck(
      [](const auto& in) { return gnm::clamp(in[0].t(), -0.7, 0.9); }, {xr});
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_THROW(gnm::clamp(x, std::nullopt, std::nullopt), gnm::Error);
  EXPECT_THROW(gnm::clamp(x, std::nan(""), 1.0), gnm::Error);
  EXPECT_THROW(gnm::clamp(gnm::arange(3), 0.0, 1.0), gnm::Error);
  EXPECT_EQ(gnm::clamp(x, -1.0, 1.0).dtype(), DType::f64);
}

TEST(OpsUnary, IntegerAndBoolDtypes) {
  const std::vector<std::int64_t> v{-3, 0, 5};
  const Tensor i64 = gnm::from_vector(std::span<const std::int64_t>(v), {3});
  EXPECT_EQ(gnm::neg(i64).to_vector<std::int64_t>(), (std::vector<std::int64_t>{3, 0, -5}));
  EXPECT_EQ(gnm::abs(i64).to_vector<std::int64_t>(), (std::vector<std::int64_t>{3, 0, 5}));
  const Tensor i32 = i64.to(DType::i32);
  EXPECT_EQ(gnm::abs(i32).dtype(), DType::i32);
  EXPECT_EQ(gnm::neg(i32).to_vector<std::int32_t>(), (std::vector<std::int32_t>{3, 0, -5}));
  // u8 wraps like C and PyTorch: −5 mod 256 = 251.
  const Tensor u8 = gnm::from_vector(std::span<const std::int64_t>(std::vector<std::int64_t>{5}), {1},
                                     {.dtype = DType::u8});
  EXPECT_EQ(gnm::neg(u8).to_vector<std::uint8_t>()[0], 251);
  // The floating-only ops name themselves and the dtype.
  for (const UnaryCase& c : cases()) {
    if (std::string(c.name) == "neg" || std::string(c.name) == "abs") continue;
    try {
      (void)c.op(i64);
      ADD_FAILURE() << c.name << " accepted i64";
    } catch (const gnm::Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("int64"), std::string::npos) << what;
    }
  }
  const Tensor b = gnm::zeros({2}, {.dtype = DType::boolean});
  EXPECT_THROW(gnm::neg(b), gnm::Error);
  EXPECT_THROW(gnm::abs(b), gnm::Error);
  EXPECT_THROW(gnm::exp(Tensor()), gnm::Error);
}

TEST(OpsUnary, NodesAndSavedTensors) {
  Tensor x = gnm::rand({3}, {.dtype = DType::f64}, 0.5, 1.0).requires_grad_(true);
  EXPECT_EQ(gnm::exp(x).grad_fn()->name(), "ExpBackward0");
  EXPECT_EQ(gnm::gelu(x, true).grad_fn()->name(), "GeluBackward0");
  EXPECT_EQ(gnm::square(x).grad_fn()->name(), "PowBackward0");
  EXPECT_EQ(gnm::clamp(x, 0.0, 1.0).grad_fn()->name(), "ClampBackward1");
  // No recording under no_grad, and ops on tensors that need no gradient record nothing.
  {
    gnm::autograd::NoGradGuard guard;
    EXPECT_FALSE(gnm::tanh(x).requires_grad());
  }
  EXPECT_FALSE(gnm::tanh(x.detach()).requires_grad());
  // Backward twice without retain_graph is the engine's error (saved tensors were released).
  Tensor y = gnm::sum(gnm::sigmoid(x));
  y.backward({}, false);
  EXPECT_THROW(y.backward(), gnm::Error);
}

// PyTorch fixtures (scripts/fixtures/ch09_unary.py): float64, special points and non-finite
// inputs. Both sides compute in double with libm-quality functions: a few ulps apart, so
// |got − want| ≤ 1e-12·(1 + |want|) is ~5000 ulps of headroom and still catches any formula slip.
double decode(const nlohmann::json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    return s == "inf" ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
  }
  return v.get<double>();
}
std::vector<double> decode_all(const nlohmann::json& a) {
  std::vector<double> v;
  for (const auto& e : a) v.push_back(decode(e));
  return v;
}
void expect_close(const std::vector<double>& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << what << " [" << i << "] got " << got[i];
    } else if (std::isinf(want[i])) {
      EXPECT_EQ(got[i], want[i]) << what << " [" << i << "]";
    } else {
      EXPECT_NEAR(got[i], want[i], 1e-12 * (1 + std::abs(want[i]))) << what << " [" << i << "]";
    }
  }
}

TEST(OpsUnary, MatchesPyTorchFixtures) {
  std::ifstream in(std::string(GNM_FIXTURES_DIR) + "/ch09/unary_ops.json");
  ASSERT_TRUE(in) << "missing fixture unary_ops.json";
  const nlohmann::json doc = nlohmann::json::parse(in);
  int checked = 0;
  for (const auto& c : doc["cases"]) {
    const std::string op = c["op"];
    const gnm::Shape shape = c["shape"].get<gnm::Shape>();
    const auto xv = decode_all(c["x"]);
    Tensor x = gnm::from_vector(std::span<const double>(xv), shape, {.dtype = DType::f64});
    const bool with_grad = c.contains("grad");
    if (with_grad) x.requires_grad_(true);
    std::function<Tensor(const Tensor&)> f;
    if (op == "clamp") {
      const auto& a = c["args"];
      auto bound = [&](const char* key) {
        return a[key].is_null() ? std::nullopt : std::optional<double>(a[key].get<double>());
      };
      const std::optional<double> lo = bound("lo"), hi = bound("hi");
      f = [lo, hi](const Tensor& t) { return gnm::clamp(t, lo, hi); };
    } else {
      for (const UnaryCase& uc : cases())
        if (op == uc.name) f = uc.op;
    }
    ASSERT_TRUE(f) << "unknown op in fixture: " << op;
    Tensor y = f(x);
    expect_close(y.to_vector<double>(), decode_all(c["y"]), op + " forward");
    if (with_grad) {
      const auto gv = decode_all(c["g"]);
      y.backward(gnm::from_vector(std::span<const double>(gv), shape, {.dtype = DType::f64}));
      expect_close(x.grad().to_vector<double>(), decode_all(c["grad"]), op + " backward");
    }
    ++checked;
  }
  EXPECT_GE(checked, 29);
}

}  // namespace
