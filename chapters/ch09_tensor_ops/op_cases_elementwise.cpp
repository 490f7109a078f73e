// Section 9.3, elementwise part: binary ops (with a broadcast row), comparisons, where, unary ops
// and activations, clamp and dropout, each with its double reference and error model
// (Note [Error units] in op_cases.hpp).
#include <cmath>
#include <string>

#include "gnm/core/random.hpp"
#include "gnm/tensor/ops.hpp"
#include "op_cases.hpp"

namespace chapter9 {

namespace {

using gnm::Tensor;
using Args = std::vector<Tensor>;

// How the scale s_i of an elementwise result is formed.
enum class Scale { value, value_plus_input };

// out_i = f(a_i) with s_i = |v_i| (or |v_i| + |a_i|).
OpCase unary_case(std::string name, std::string model, double units, const Tensor& a,
                  Tensor (*op)(const Tensor&), double (*f)(double), Scale scale) {
  OpCase c;
  c.name = std::move(name);
  c.shapes = paren(a.shape());
  c.model = std::move(model);
  c.units = units;
  c.inputs = {a};
  c.op = [op](const Args& in) { return op(in[0]); };
  c.reference = [f, scale](const HostInputs& in, const std::vector<double>&) {
    RefResult r;
    for (double x : in[0]) {
      const double v = f(x);
      r.value.push_back(v);
      r.scale.push_back(std::fabs(v) + (scale == Scale::value_plus_input ? std::fabs(x) : 0.0));
    }
    return r;
  };
  return c;
}

// out_i = f(a_i, b_j) where b is (cols) broadcast over the rows, or (rows, cols) like a.
OpCase binary_case(std::string name, std::string model, double units, const Tensor& a,
                   const Tensor& b, std::function<Tensor(const Tensor&, const Tensor&)> op,
                   double (*f)(double, double)) {
  OpCase c;
  c.name = std::move(name);
  c.shapes = paren(a.shape()) + " " + paren(b.shape());
  c.model = std::move(model);
  c.units = units;
  c.inputs = {a, b};
  c.op = [op](const Args& in) { return op(in[0], in[1]); };
  c.reference = [f](const HostInputs& in, const std::vector<double>&) {
    RefResult r;
    const std::size_t nb = in[1].size();  // b repeats every nb elements when broadcast
    for (std::size_t i = 0; i < in[0].size(); ++i) {
      const double v = f(in[0][i], in[1][i % nb]);
      r.value.push_back(v);
      r.scale.push_back(std::fabs(v));
    }
    return r;
  };
  return c;
}

double relu_ref(double x) {
  return x > 0 ? x : 0.0;
}
double gelu_ref(double x) {
  return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
}
double gelu_tanh_ref(double x) {
  const double inner = std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x);
  return 0.5 * x * (1.0 + std::tanh(inner));
}
double silu_ref(double x) {
  return x / (1.0 + std::exp(-x));
}
double sigmoid_ref(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}
double neg_ref(double x) {
  return -x;
}
double square_ref(double x) {
  return x * x;
}
double abs_ref(double x) {
  return std::fabs(x);
}
double exp_ref(double x) {
  return std::exp(x);
}
double log_ref(double x) {
  return std::log(x);
}
double sqrt_ref(double x) {
  return std::sqrt(x);
}
double tanh_ref(double x) {
  return std::tanh(x);
}

Tensor gelu_erf(const Tensor& x) {
  return gnm::gelu(x, false);
}
Tensor gelu_tanh(const Tensor& x) {
  return gnm::gelu(x, true);
}

}  // namespace

Tensor uniform_tensor(const gnm::Shape& shape, std::uint64_t seed, float lo, float hi) {
  std::vector<float> v(static_cast<std::size_t>(gnm::shape_numel(shape)));
  if (!v.empty()) gnm::fill_uniform(v, seed, lo, hi);
  return gnm::from_vector(std::span<const float>(v), shape);
}

std::string paren(const gnm::Shape& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

void add_elementwise_cases(std::vector<OpCase>& cases, std::int64_t rows, std::int64_t cols) {
  const gnm::Shape rc = {rows, cols};
  const Tensor a = uniform_tensor(rc, 1, -2.0f, 2.0f);
  const Tensor b = uniform_tensor(rc, 2, -2.0f, 2.0f);
  const Tensor pos = uniform_tensor(rc, 3, 0.5f, 2.0f);  // divisors and bases of pow
  const Tensor bias = uniform_tensor({cols}, 4, -1.0f, 1.0f);
  const Tensor expo = uniform_tensor(rc, 5, -2.0f, 2.0f);

  // One IEEE operation each: correctly rounded, 1 unit.
  cases.push_back(binary_case(
      "add", "1 rounding", 1, a, b, [](const Tensor& x, const Tensor& y) { return gnm::add(x, y); },
      [](double x, double y) { return x + y; }));
  cases.push_back(binary_case(
      "add (broadcast row)", "1 rounding", 1, a, bias,
      [](const Tensor& x, const Tensor& y) { return x + y; },
      [](double x, double y) { return x + y; }));
  cases.push_back(binary_case(
      "sub", "1 rounding", 1, a, b, [](const Tensor& x, const Tensor& y) { return gnm::sub(x, y); },
      [](double x, double y) { return x - y; }));
  cases.push_back(binary_case(
      "mul", "1 rounding", 1, a, b, [](const Tensor& x, const Tensor& y) { return gnm::mul(x, y); },
      [](double x, double y) { return x * y; }));
  cases.push_back(binary_case(
      "div", "1 rounding", 1, a, pos,
      [](const Tensor& x, const Tensor& y) { return gnm::div(x, y); },
      [](double x, double y) { return x / y; }));
  // powf is within 1 ulp = 2 units; 4 leaves room for an exp(b·ln a) implementation.
  cases.push_back(binary_case(
      "pow", "libm powf", 4, pos, expo,
      [](const Tensor& x, const Tensor& y) { return gnm::pow(x, y); },
      [](double x, double y) { return std::pow(x, y); }));
  cases.push_back(binary_case("maximum", "exact", 0, a, b, gnm::maximum,
                              [](double x, double y) { return std::fmax(x, y); }));
  cases.push_back(binary_case("minimum", "exact", 0, a, b, gnm::minimum,
                              [](double x, double y) { return std::fmin(x, y); }));
  // Scalars exactly representable in f32, so the reference sees the same operand.
  cases.push_back(unary_case(
      "add(x, 0.75)", "1 rounding", 1, a, [](const Tensor& x) { return gnm::add(x, 0.75); },
      [](double x) { return x + 0.75; }, Scale::value));
  cases.push_back(unary_case(
      "mul(x, 1.5)", "1 rounding", 1, a, [](const Tensor& x) { return gnm::mul(x, 1.5); },
      [](double x) { return x * 1.5; }, Scale::value));
  cases.push_back(unary_case(
      "pow(x, 3.0)", "libm powf", 4, pos, [](const Tensor& x) { return gnm::pow(x, 3.0); },
      [](double x) { return x * x * x; }, Scale::value));

  // Comparisons: every second element of b2 equals a, so == and <= see ties.
  const Tensor b2 =
      gnm::where(gnm::gt(uniform_tensor(rc, 6, 0.0f, 1.0f), gnm::full({}, 0.5)), a, b);
  using Cmp = Tensor (*)(const Tensor&, const Tensor&);
  const std::vector<std::tuple<const char*, Cmp, double (*)(double, double)>> comparisons = {
      {"eq", gnm::eq, [](double x, double y) { return x == y ? 1.0 : 0.0; }},
      {"ne", gnm::ne, [](double x, double y) { return x != y ? 1.0 : 0.0; }},
      {"lt", gnm::lt, [](double x, double y) { return x < y ? 1.0 : 0.0; }},
      {"le", gnm::le, [](double x, double y) { return x <= y ? 1.0 : 0.0; }},
      {"gt", gnm::gt, [](double x, double y) { return x > y ? 1.0 : 0.0; }},
      {"ge", gnm::ge, [](double x, double y) { return x >= y ? 1.0 : 0.0; }},
  };
  for (const auto& [name, op, f] : comparisons) {
    cases.push_back(binary_case(name, "exact (bool)", 0, a, b2, op, f));
  }
  {
    OpCase c;
    c.name = "where";
    c.shapes = paren(rc) + " bool, " + paren(rc) + ", " + paren({cols});
    c.model = "exact";
    c.units = 0;
    c.inputs = {gnm::gt(a, b), a, bias};
    c.op = [](const Args& in) { return gnm::where(in[0], in[1], in[2]); };
    c.reference = [](const HostInputs& in, const std::vector<double>&) {
      RefResult r;
      const std::size_t nb = in[2].size();
      for (std::size_t i = 0; i < in[0].size(); ++i) {
        r.value.push_back(in[0][i] != 0.0 ? in[1][i] : in[2][i % nb]);
        r.scale.push_back(0.0);
      }
      return r;
    };
    cases.push_back(c);
  }

  cases.push_back(unary_case("neg", "exact", 0, a, gnm::neg, neg_ref, Scale::value));
  cases.push_back(unary_case("exp", "libm expf", 4, a, gnm::exp, exp_ref, Scale::value));
  cases.push_back(unary_case("log", "libm logf", 4, pos, gnm::log, log_ref, Scale::value));
  cases.push_back(unary_case("sqrt", "1 rounding", 1, pos, gnm::sqrt, sqrt_ref, Scale::value));
  cases.push_back(unary_case("abs", "exact", 0, a, gnm::abs, abs_ref, Scale::value));
  cases.push_back(unary_case("square", "1 rounding", 1, a, gnm::square, square_ref, Scale::value));
  cases.push_back(unary_case("relu", "exact", 0, a, gnm::relu, relu_ref, Scale::value));
  // x·f(x): f's absolute error (erf, tanh: ~2u; σ: ~4u) is multiplied by |x|, plus ~3 roundings
  // of the result itself: 8 units of |v| + |x|.
  cases.push_back(
      unary_case("gelu (erf)", "x·Φ(x)", 8, a, gelu_erf, gelu_ref, Scale::value_plus_input));
  cases.push_back(unary_case("gelu (tanh)", "x·(1 + tanh)/2", 8, a, gelu_tanh, gelu_tanh_ref,
                             Scale::value_plus_input));
  cases.push_back(unary_case("silu", "x·σ(x)", 8, a, gnm::silu, silu_ref, Scale::value_plus_input));
  cases.push_back(unary_case("tanh", "libm tanhf", 4, a, gnm::tanh, tanh_ref, Scale::value));
  // 1 / (1 + e⁻ˣ): expf's 2 units, the add and the division: 4 units.
  cases.push_back(
      unary_case("sigmoid", "1/(1 + e^-x)", 4, a, gnm::sigmoid, sigmoid_ref, Scale::value));
  cases.push_back(unary_case(
      "clamp(x, -0.5, 0.5)", "exact", 0, a,
      [](const Tensor& x) { return gnm::clamp(x, -0.5, 0.5); },
      [](double x) { return std::fmin(std::fmax(x, -0.5), 0.5); }, Scale::value));
  {
    // Dropout's mask is random: the reference takes the kept positions from the result and
    // checks the values there (x/(1−p): 1/(1−p) rounded to f32 and the product, 2 units). The
    // kept fraction must lie within 6σ of 1 − p, σ = √(p(1−p)/n); otherwise every reference
    // value is NaN and the row fails.
    constexpr double p = 0.25;
    OpCase c;
    c.name = "dropout(p = 0.25)";
    c.shapes = paren(rc);
    c.model = "mask + 2 roundings";
    c.units = 2;
    c.inputs = {a};
    c.op = [](const Args& in) { return gnm::dropout(in[0], p, true); };
    c.reference = [](const HostInputs& in, const std::vector<double>& got) {
      RefResult r;
      double kept = 0;
      for (std::size_t i = 0; i < in[0].size(); ++i) {
        const bool keep = got[i] != 0.0;
        kept += keep ? 1.0 : 0.0;
        r.value.push_back(keep ? in[0][i] / (1.0 - p) : 0.0);
        r.scale.push_back(std::fabs(r.value.back()));
      }
      const double n = static_cast<double>(in[0].size());
      if (std::fabs(kept / n - (1.0 - p)) > 6.0 * std::sqrt(p * (1.0 - p) / n)) {
        for (double& v : r.value) v = std::nan("");
      }
      return r;
    };
    cases.push_back(c);
  }
}

std::vector<OpCase> make_op_cases(std::int64_t rows, std::int64_t cols, std::int64_t gemm_n) {
  std::vector<OpCase> cases;
  add_elementwise_cases(cases, rows, cols);
  add_structured_cases(cases, rows, cols, gemm_n);
  return cases;
}

}  // namespace chapter9
