// Section 9.5: autograd. A small graph and its backward against a hand-derived double
// reference; the rules (accumulation, retain_graph, no_grad, detach) and errors; gradcheck in
// float64 for every op; exercises 9.3 and 9.4 against the engine's rules.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "gnm/autograd/gradcheck.hpp"
#include "gnm/autograd/node.hpp"
#include "gnm/core/error.hpp"
#include "gnm/tensor/ops.hpp"
#include "grad_cases.hpp"
#include "matmul_backward.hpp"
#include "op_cases.hpp"
#include "sections.hpp"
#include "softmax_backward.hpp"

namespace chapter9 {

namespace {

using gnm::Tensor;
constexpr double kU = 0x1p-24;

// The graph below a tensor, one line per node, depth-first from its grad_fn.
void print_graph(const std::shared_ptr<gnm::autograd::Node>& node, int depth,
                 std::set<const gnm::autograd::Node*>& seen) {
  if (!node) return;
  const bool again = !seen.insert(node.get()).second;
  std::printf("  %*s%s%s\n", 2 * depth, "", node->name().c_str(), again ? " (shared)" : "");
  if (again) return;
  for (const auto& e : node->next_edges) print_graph(e.fn, depth + 1, seen);
}

double max_diff(const std::vector<float>& a, const std::vector<double>& b) {
  double m = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return a.size() == b.size() ? m : HUGE_VAL;
}

// Runs `f`, returns the message of the gnm::Error it throws (empty when none).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const gnm::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

Section run_autograd() {
  Section sec;
  std::printf("9.5 Autograd\n\n");
  const Tensor xv = uniform_tensor({2, 3}, 81, -1.0f, 1.0f);
  const Tensor wv = uniform_tensor({3, 2}, 82, -1.0f, 1.0f);
  const Tensor bv = uniform_tensor({2}, 83, -1.0f, 1.0f);
  //! [small_graph]
  Tensor x = xv.clone().requires_grad_(true);  // (2, 3) leaves
  Tensor w = wv.clone().requires_grad_(true);  // (3, 2)
  Tensor b = bv.clone().requires_grad_(true);  // (2)
  const auto loss_fn = [&] {
    const Tensor y = gnm::tanh(gnm::matmul(x, w) + b);  // (2, 2)
    return gnm::mean(y * y);                            // 0-d
  };
  Tensor loss = loss_fn();
  loss.backward();  // fills x.grad(), w.grad(), b.grad()
  //! [small_graph]
  std::printf("loss = %s\ngraph:\n", loss.str().c_str());
  std::set<const gnm::autograd::Node*> seen;
  print_graph(loss.grad_fn(), 0, seen);
  std::printf("x.grad =\n%s\nw.grad =\n%s\nb.grad = %s\n\n", x.grad().str().c_str(),
              w.grad().str().c_str(), b.grad().str().c_str());

  // By hand, in double: h = xw + b, y = tanh h, L = Σy²/4; dL/dh = (y/2)(1 − y²);
  // dx = dh·wᵀ, dw = xᵀ·dh, db = Σ_rows dh. Each gradient is ≤ ~12 roundings of f32 quantities
  // of magnitude ≤ 3 (|x|, |w|, |b| < 1, |y| < 1, K = 3): 64u absolute is a safe bound.
  const auto X = xv.to_vector<double>(), W = wv.to_vector<double>(), B = bv.to_vector<double>();
  std::vector<double> dh(4), dx(6, 0.0), dw(6, 0.0), db(2, 0.0);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      double h = B[static_cast<std::size_t>(j)];
      for (int k = 0; k < 3; ++k)
        h += X[static_cast<std::size_t>(i * 3 + k)] * W[static_cast<std::size_t>(k * 2 + j)];
      const double y = std::tanh(h);
      dh[static_cast<std::size_t>(i * 2 + j)] = 0.5 * y * (1 - y * y);
    }
  }
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      const double g = dh[static_cast<std::size_t>(i * 2 + j)];
      db[static_cast<std::size_t>(j)] += g;
      for (int k = 0; k < 3; ++k) {
        dx[static_cast<std::size_t>(i * 3 + k)] += g * W[static_cast<std::size_t>(k * 2 + j)];
        dw[static_cast<std::size_t>(k * 2 + j)] += X[static_cast<std::size_t>(i * 3 + k)] * g;
      }
    }
  }
  const std::vector<float> gx1 = x.grad().to_vector<float>();
  const double err = std::max({max_diff(gx1, dx), max_diff(w.grad().to_vector<float>(), dw),
                               max_diff(b.grad().to_vector<float>(), db)});

  Table rules("9.5 autograd rules", {"rule", "observed", "ok"});
  auto rule = [&](const std::string& name, const std::string& observed, bool ok) {
    sec.verified = sec.verified && ok;
    rules.add({str(name), str(observed), flag(ok)});
  };
  char buf[96];
  std::snprintf(buf, sizeof buf, "max |grad - double reference| = %.2e (bound %.2e)", err, 64 * kU);
  rule("backward from a scalar loss", buf, err <= 64 * kU);

  //! [accumulate]
  loss_fn().backward();  // a second graph, the same leaves: .grad accumulates
  //! [accumulate]
  const std::vector<float> gx2 = x.grad().to_vector<float>();
  bool doubled = gx2.size() == gx1.size();
  for (std::size_t i = 0; doubled && i < gx1.size(); ++i) doubled = gx2[i] == 2 * gx1[i];
  rule(".grad accumulates over backwards", doubled ? "x.grad is exactly 2x the first" : "differs",
       doubled);

  Tensor kept = loss_fn();
  kept.backward(Tensor(), /*retain_graph=*/true);
  const std::string second = error_of([&] { kept.backward(); });  // allowed: graph retained
  const std::string third = error_of([&] { kept.backward(); });   // freed by the second
  rule("retain_graph keeps saved tensors", second.empty() ? "second backward ran" : second,
       second.empty());
  rule("backward through a freed graph is an error", third.empty() ? "(no error)" : third,
       third.find("second time") != std::string::npos);

  bool no_grad_ok = false;
  {
    //! [no_grad]
    gnm::autograd::NoGradGuard no_grad;  // like torch.no_grad(): nothing is recorded
    const Tensor z = x * 2.0;
    no_grad_ok = !z.requires_grad() && z.grad_fn() == nullptr;
    //! [no_grad]
  }
  rule("no_grad records nothing", no_grad_ok ? "x * 2 has no grad_fn" : "recorded", no_grad_ok);
  const Tensor d = x.detach();
  const bool detach_ok = d.storage() == x.storage() && !d.requires_grad();
  rule("detach shares storage, drops history",
       detach_ok ? "same storage, requires_grad false" : "wrong", detach_ok);
  const std::string dtype_err = error_of([&] {
    (void)(x + gnm::zeros({2, 3}, {.dtype = gnm::DType::f64}));
  });
  rule("mixed dtypes are an error naming both", dtype_err,
       dtype_err.find("float32") != std::string::npos &&
           dtype_err.find("float64") != std::string::npos);
  const std::string shape_err = error_of([&] { (gnm::matmul(x, w) + b).backward(); });
  rule("backward of a non-scalar needs a gradient", shape_err.empty() ? "(no error)" : shape_err,
       !shape_err.empty());
  sec.add(rules);

  // gradcheck: every differentiable op in float64 against central differences.
  Table checks("9.5 gradcheck (float64, central differences)",
               {"op", "inputs", "max |analytic - numeric|", "ok"});
  int passed = 0, total = 0;
  for (const GradCase& c : make_grad_cases()) {
    const gnm::autograd::GradcheckResult r = gnm::autograd::gradcheck(c.f, c.inputs);
    ++total;
    passed += r.ok ? 1 : 0;
    sec.verified = sec.verified && r.ok;
    if (!r.ok) std::printf("gradcheck %s: %s\n", c.name.c_str(), r.message.c_str());
    checks.add({str(c.name), str(c.shapes), sci(r.max_abs_error), flag(r.ok)});
  }
  const Tensor p = uniform_tensor({3, 5}, 91, -1.0f, 1.0f).requires_grad_(true);
  const Tensor q = uniform_tensor({3, 5}, 92, -1.0f, 1.0f).requires_grad_(true);
  for (const auto& [name, op] : make_no_grad_cases()) {
    const bool ok = !op(p, q).requires_grad();
    sec.verified = sec.verified && ok;
    checks.add(
        {str(name), str("(3, 5) (3, 5)"), str("no gradient (result not tracked)"), flag(ok)});
  }
  sec.add(checks);
  Table summary("9.5 gradcheck summary", {"differentiable ops checked", "passed"});
  summary.add({integer(total), integer(passed)});
  sec.figures.emplace_back("gradcheck_ops", total);
  sec.figures.emplace_back("gradcheck_passed", passed);
  sec.add(summary);

  // Exercises 9.3 and 9.4 against the engine's SoftmaxBackward and matmul backward (f32).
  Table exercises("9.5 exercises against autograd",
                  {"exercise", "shape", "max |ours - engine|", "bound", "ok"});
  {
    const std::int64_t R = 7, C = 13;
    Tensor sx = uniform_tensor({R, C}, 93, -4.0f, 4.0f).requires_grad_(true);
    const Tensor sdy = uniform_tensor({R, C}, 94, -1.0f, 1.0f);
    const Tensor sy = gnm::softmax(sx, 1);
    sy.backward(sdy);
    const std::vector<float> y = sy.detach().to_vector<float>(), dyv = sdy.to_vector<float>();
    std::vector<float> ours(y.size());
    gnm::ch09::softmax_backward(y, dyv, R, C, ours);
    const std::vector<float> engine = sx.grad().to_vector<float>();
    double e = 0.0;
    for (std::size_t i = 0; i < ours.size(); ++i)
      e = std::max(e, std::fabs(static_cast<double>(ours[i]) - static_cast<double>(engine[i])));
    // Both within (C + 8)·u of the exact y ⊙ (dy − s) for |dy| < 1, Σy = 1 (tests/ch09).
    const double bound = 2 * (C + 8) * kU;
    sec.verified = sec.verified && e <= bound;
    exercises.add(
        {str("9.3 softmax_backward"), str("(7, 13)"), sci(e), sci(bound), flag(e <= bound)});
  }
  {
    const std::int64_t M = 5, K = 7, N = 11;
    Tensor ma = uniform_tensor({M, K}, 95, -1.0f, 1.0f).requires_grad_(true);
    Tensor mb = uniform_tensor({K, N}, 96, -1.0f, 1.0f).requires_grad_(true);
    const Tensor mdc = uniform_tensor({M, N}, 97, -1.0f, 1.0f);
    gnm::matmul(ma, mb).backward(mdc);
    std::vector<float> da(static_cast<std::size_t>(M * K)), dbv(static_cast<std::size_t>(K * N));
    gnm::ch09::matmul_backward(ma.detach().to_vector<float>(), mb.detach().to_vector<float>(),
                               mdc.to_vector<float>(), M, K, N, da, dbv);
    double e = std::max(max_diff(da, ma.grad().to_vector<double>()),
                        max_diff(dbv, mb.grad().to_vector<double>()));
    // Each is a ≤ 11-term dot of values < 1: both within 11·u·11 of the exact one.
    const double bound = 2 * 11 * 11 * kU;
    sec.verified = sec.verified && e <= bound;
    exercises.add(
        {str("9.4 matmul_backward"), str("(5, 7) (7, 11)"), sci(e), sci(bound), flag(e <= bound)});
  }
  sec.add(exercises);
  return sec;
}

}  // namespace chapter9
