// Central-difference gradient checks (see gradcheck.hpp).
#include "gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gnm/core/check.hpp"
#include "gnm/core/philox.hpp"
#include "sections.hpp"

namespace chapter3 {

// Note [Central-difference tolerance]
// D(h) = (f(x + h) − f(x − h)) / 2h = f'(x) + h²·f'''(ξ)/6 + (δ₊ − δ₋)/2h,
// where δ± is the rounding error of one evaluation of f. Two terms, pulling in opposite
// directions as h shrinks:
//   truncation  h²·M3/6         with M3 ≥ |f'''| near x;
//   rounding    δ/h             with δ ≈ 64·eps·S, S the size of the terms f adds up (a few
//                               dozen roundings, each at most eps relative to its term).
// The chapter's checks use smooth functions on O(1) inputs, log and division kept on [0.5, 2]
// (|f'''| ≤ 2/x³ ≤ 16), compositions of a few of them: M3 = 100 bounds them all. With
// h = 1e-5 the tolerance is 1.7e-9 + 1.4e-9·S — about a millionth of a typical gradient, yet a
// wrong rule (a missing factor, a transposed product, a lost fan-out contribution) is off by
// O(1).
namespace {
constexpr double kEps = 2.220446049250313e-16;  // double's machine epsilon
constexpr double kThirdDerivativeBound = 100.0;
}  // namespace

GradCheckResult check_central_differences(const std::function<double(const std::vector<Matrix>&)>& f,
                                          const std::vector<Matrix>& inputs,
                                          const std::vector<Matrix>& grads, double rounding_scale) {
  GNM_CHECK(grads.size() == inputs.size(), "check_central_differences: one grad per input",
            grads.size(), inputs.size());
  const double h = kCentralStep;
  const double tol = h * h * kThirdDerivativeBound / 6.0 +
                     64.0 * kEps * std::max(1.0, rounding_scale) / h;
  GradCheckResult r;
  r.tolerance = tol;
  std::vector<Matrix> x = inputs;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (grads[k].numel() == 0) continue;
    GNM_CHECK_SHAPE(grads[k].shape() == inputs[k].shape(),
                    "check_central_differences: a gradient's shape differs from its input's", k);
    for (std::size_t i = 0; i < x[k].values().size(); ++i) {
      const double x0 = x[k].values()[i];
      x[k].values()[i] = x0 + h;
      const double up = f(x);
      x[k].values()[i] = x0 - h;
      const double down = f(x);
      x[k].values()[i] = x0;
      const double cd = (up - down) / (2.0 * h);
      const double analytic = grads[k].values()[i];
      const double err = std::fabs(analytic - cd);
      ++r.checked;
      r.max_error = std::max(r.max_error, err);
      if (!(err <= tol)) {  // also catches NaN
        if (r.ok || r.report.size() < 400) {
          char line[160];
          std::snprintf(line, sizeof line, "input %zu element %zu: analytic %.12g, central %.12g\n",
                        k, i, analytic, cd);
          r.report += line;
        }
        r.ok = false;
      }
    }
  }
  return r;
}

}  // namespace chapter3

// --- Every primitive through the tape -----------------------------------------------------------

namespace chapter3 {
namespace {

enum class Domain { symmetric, positive, away_from_zero };

Matrix sample(gnm::ch03::Shape2 s, std::uint64_t seed, Domain d) {
  Matrix m(s.rows, s.cols);
  const gnm::PhiloxRng rng(seed);
  for (std::size_t i = 0; i < m.values().size(); ++i) {
    const double u = static_cast<double>(rng.uniform(i));  // [0, 1)
    switch (d) {
      case Domain::symmetric: m.values()[i] = 2.0 * u - 1.0; break;
      case Domain::positive: m.values()[i] = 0.5 + 1.5 * u; break;
      case Domain::away_from_zero: {
        const double v = 2.0 * u - 1.0;  // |x| in [0.1, 1]: h = 1e-5 never crosses relu's kink
        m.values()[i] = (v < 0 ? -1.0 : 1.0) * (0.1 + 0.9 * std::fabs(v));
        break;
      }
    }
  }
  return m;
}

}  // namespace

//! [check_primitive]
PrimitiveCheck check_primitive(Op op) {
  using gnm::ch03::Shape2;
  const int arity = gnm::ch03::op_arity(op);
  GNM_CHECK(arity >= 1, "check_primitive: not an operation", gnm::ch03::op_name(op));
  Shape2 sa{3, 5}, sb{3, 5};
  if (op == Op::matmul) sa = {3, 4}, sb = {4, 5};
  if (op == Op::add_bias) sb = {1, 5};
  if (op == Op::softmax_ce) sa = {4, 5};
  const Domain da = op == Op::log ? Domain::positive
                    : op == Op::relu ? Domain::away_from_zero : Domain::symmetric;
  const Domain db = op == Op::div ? Domain::positive : Domain::symmetric;
  std::vector<Matrix> inputs = {sample(sa, 401, da)};
  if (arity == 2) inputs.push_back(sample(sb, 402, db));
  const std::vector<std::int32_t> labels = {0, 3, 4, 1};
  const double s = -1.7;
  const Matrix g = sample(gnm::ch03::infer_shape(op, sa, sb), 403, Domain::symmetric);

  // L = Σ op(a, b) ⊙ G: its gradient is exactly the rule's vector-Jacobian product with ȳ = G.
  auto record = [&](Tape& t, const std::vector<Matrix>& in, bool grad, std::vector<Var>& leaves) {
    leaves.clear();
    for (const Matrix& m : in) leaves.push_back(t.leaf(m, "in", grad));
    const Var y = t.apply(op, leaves[0], arity == 2 ? &leaves[1] : nullptr, s,
                          op == Op::softmax_ce ? std::span<const std::int32_t>(labels)
                                               : std::span<const std::int32_t>{});
    return sum(mul(y, t.constant(g, "G")));
  };
  Tape tape;
  std::vector<Var> leaves;
  const Var loss = record(tape, inputs, true, leaves);
  tape.backward(loss);
  std::vector<Matrix> grads;
  for (const Var& l : leaves) grads.push_back(tape.grad(l));
  auto f = [&](const std::vector<Matrix>& in) {
    Tape t;
    std::vector<Var> unused;
    return t.value(record(t, in, false, unused))(0, 0);
  };
  // The terms f adds up: the inputs and the weighted outputs (see the Note above).
  double scale = 0.0;
  for (const Matrix& m : inputs) {
    for (double v : m.values()) scale += std::fabs(v);
  }
  scale += std::fabs(tape.value(loss)(0, 0));
  const GradCheckResult r = check_central_differences(f, inputs, grads, scale);
  //! [check_primitive]
  std::string shapes = gnm::ch03::shape_string(sa);
  if (arity == 2) shapes += " " + gnm::ch03::shape_string(sb);
  return {gnm::ch03::op_name(op), shapes, r.checked, r.max_error, r.tolerance, r.ok};
}

std::vector<PrimitiveCheck> check_all_primitives() {
  std::vector<PrimitiveCheck> out;
  for (int k = 0; k < gnm::ch03::kOpCount; ++k) {
    const auto op = static_cast<Op>(k);
    if (gnm::ch03::op_arity(op) >= 1) out.push_back(check_primitive(op));
  }
  return out;
}

}  // namespace chapter3
