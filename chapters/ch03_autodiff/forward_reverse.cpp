// Section 3.1: forward mode with dual numbers, reverse mode with a scalar Wengert tape, and
// operation counts that show which one wins: forward needs one sweep per input, reverse one
// backward sweep per output.
#include "forward_reverse.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <span>
#include <sstream>

#include "dual.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/core/timer.hpp"

namespace chapter3 {
namespace {

using gnm::ch03::Dual;

//! [scalar_tape]
// Reverse mode on scalars: each operation appends its value and the partial derivatives with
// respect to its (at most two) operands. A backward sweep walks the list once, from the output
// down, and pushes each adjoint to the operands: adj[a] += adj[k] · ∂k/∂a.
class ScalarTape {
 public:
  struct Entry {
    std::int32_t a = -1, b = -1;  // operands (-1: none; a leaf has neither)
    double da = 0.0, db = 0.0;    // ∂this/∂a, ∂this/∂b
  };
  std::int32_t push(double value, std::int32_t a = -1, double da = 0.0, std::int32_t b = -1,
                    double db = 0.0) {
    values_.push_back(value);
    entries_.push_back({a, b, da, db});
    return static_cast<std::int32_t>(values_.size() - 1);
  }
  double value(std::int32_t i) const { return values_[static_cast<std::size_t>(i)]; }
  // Adjoints of every node with respect to node `out`; counts the entries it had to process.
  void backward(std::int32_t out, std::vector<double>& adj, long long& steps) const {
    adj.assign(static_cast<std::size_t>(out) + 1, 0.0);
    adj[static_cast<std::size_t>(out)] = 1.0;
    for (std::int32_t k = out; k >= 0; --k) {
      const Entry& e = entries_[static_cast<std::size_t>(k)];
      if (e.a < 0) continue;  // a leaf: its adjoint is a result
      ++steps;
      const double g = adj[static_cast<std::size_t>(k)];
      adj[static_cast<std::size_t>(e.a)] += g * e.da;
      if (e.b >= 0) adj[static_cast<std::size_t>(e.b)] += g * e.db;
    }
  }
  void clear() {
    values_.clear();
    entries_.clear();
  }

 private:
  std::vector<double> values_;
  std::vector<Entry> entries_;
};

struct SVar {  // a scalar on the tape
  ScalarTape* t;
  std::int32_t i;
  double v() const { return t->value(i); }
};
SVar operator+(SVar a, SVar b) { return {a.t, a.t->push(a.v() + b.v(), a.i, 1.0, b.i, 1.0)}; }
SVar operator*(SVar a, SVar b) { return {a.t, a.t->push(a.v() * b.v(), a.i, b.v(), b.i, a.v())}; }
SVar sin(SVar a) { return {a.t, a.t->push(std::sin(a.v()), a.i, std::cos(a.v()))}; }
//! [scalar_tape]

//! [test_functions]
// R^n -> R: f(x) = Σ_i sin(x_i) · x_{(i+1) mod n}, 3n − 1 primitive operations (counted).
template <class S>
S many_inputs(std::span<const S> x, long long& ops) {
  const std::size_t n = x.size();
  S acc = sin(x[0]) * x[1 % n];
  ops += 2;
  for (std::size_t i = 1; i < n; ++i) {
    acc = acc + sin(x[i]) * x[(i + 1) % n];
    ops += 3;
  }
  return acc;
}

// R -> R^m: s_0 = t, s_k = sin(s_(k−1)) · t, y = (s_1, …, s_m); 2m operations, and every output
// depends on all the earlier ones (a shared chain, as the layers of a network).
template <class S>
std::vector<S> many_outputs(S t, int m, long long& ops) {
  std::vector<S> y;
  y.reserve(static_cast<std::size_t>(m));
  S s = t;
  for (int k = 0; k < m; ++k) {
    s = sin(s) * t;
    ops += 2;
    y.push_back(s);
  }
  return y;
}
//! [test_functions]

// |got − want| / max(1, |want|): both modes compute the same products in a different order, so
// they agree with the formula to a few ulps per term; 1e-12 leaves room for the m-step chain.
double rel_error(double got, double want) {
  return std::fabs(got - want) / std::max(1.0, std::fabs(want));
}
constexpr double kModeTol = 1e-12;

ModeRow run_many_inputs(int n, int repeat) {
  std::vector<double> x(static_cast<std::size_t>(n));
  const gnm::PhiloxRng rng(31);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(rng.uniform(i, -1.0f, 1.0f));
  std::vector<double> want(x.size());
  for (std::size_t j = 0; j < x.size(); ++j) {
    const std::size_t nn = x.size();
    want[j] = std::cos(x[j]) * x[(j + 1) % nn] + std::sin(x[(j + nn - 1) % nn]);
  }

  ModeRow row;
  row.function = "R^n -> R";
  row.inputs = n;
  row.outputs = 1;
  std::vector<double> g_fwd(x.size()), g_rev(x.size());
  //! [forward_sweeps]
  auto forward = [&] {  // one sweep per input: seed x_i with derivative 1, all others 0
    row.forward_ops = 0;
    std::vector<Dual<double>> xd(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      for (std::size_t j = 0; j < x.size(); ++j) xd[j] = Dual<double>(x[j], i == j ? 1.0 : 0.0);
      g_fwd[i] = many_inputs<Dual<double>>(xd, row.forward_ops).d;
    }
  };
  //! [forward_sweeps]
  //! [reverse_sweep]
  ScalarTape tape;
  std::vector<double> adj;
  auto reverse = [&] {  // one forward that records, one backward sweep for all n inputs
    tape.clear();
    row.primal_ops = 0;
    long long steps = 0;
    std::vector<SVar> xv;
    for (double v : x) xv.push_back({&tape, tape.push(v)});
    const SVar y = many_inputs<SVar>(xv, row.primal_ops);
    tape.backward(y.i, adj, steps);
    for (std::size_t i = 0; i < x.size(); ++i) g_rev[i] = adj[static_cast<std::size_t>(xv[i].i)];
    row.reverse_ops = row.primal_ops + steps;
  };
  //! [reverse_sweep]
  row.forward_ms = gnm::median_time_ms(repeat, forward, 1);
  row.reverse_ms = gnm::median_time_ms(repeat, reverse, 1);
  row.forward_sweeps = n;
  row.reverse_sweeps = 1;
  for (std::size_t i = 0; i < x.size(); ++i) {
    row.max_error = std::max({row.max_error, rel_error(g_fwd[i], want[i]), rel_error(g_rev[i], want[i])});
  }
  return row;
}

ModeRow run_many_outputs(int m, int repeat) {
  const double t = 0.7;
  // dy_k/dt by the recurrence ds_k = cos(s_(k−1))·ds_(k−1)·t + sin(s_(k−1)), ds_0 = 1.
  std::vector<double> want;
  double s = t, ds = 1.0;
  for (int k = 0; k < m; ++k) {
    const double s_next = std::sin(s) * t;
    ds = std::cos(s) * ds * t + std::sin(s);
    s = s_next;
    want.push_back(ds);
  }
  ModeRow row;
  row.function = "R -> R^m";
  row.inputs = 1;
  row.outputs = m;
  std::vector<double> j_fwd, j_rev(static_cast<std::size_t>(m));
  auto forward = [&] {  // one sweep gives every output's derivative
    row.forward_ops = 0;
    const auto y = many_outputs<Dual<double>>(Dual<double>(t, 1.0), m, row.forward_ops);
    j_fwd.clear();
    for (const auto& yk : y) j_fwd.push_back(yk.d);
  };
  ScalarTape tape;
  std::vector<double> adj;
  auto reverse = [&] {  // one recording, then one backward sweep per output
    tape.clear();
    row.primal_ops = 0;
    long long steps = 0;
    const SVar tv{&tape, tape.push(t)};
    const auto y = many_outputs<SVar>(tv, m, row.primal_ops);
    for (std::size_t k = 0; k < y.size(); ++k) {
      tape.backward(y[k].i, adj, steps);
      j_rev[k] = adj[static_cast<std::size_t>(tv.i)];
    }
    row.reverse_ops = row.primal_ops + steps;
  };
  row.forward_ms = gnm::median_time_ms(repeat, forward, 1);
  row.reverse_ms = gnm::median_time_ms(repeat, reverse, 1);
  row.forward_sweeps = 1;
  row.reverse_sweeps = m;
  for (std::size_t k = 0; k < want.size(); ++k) {
    row.max_error = std::max({row.max_error, rel_error(j_fwd[k], want[k]), rel_error(j_rev[k], want[k])});
  }
  return row;
}

//! [nested_dual]
template <class S>
S f_exp_sin(S x) {
  using std::exp;
  using std::sin;
  return exp(sin(x));
}
template <class S>
S f_log_over_x(S x) {
  using std::log;
  return log(x) / x;
}
template <class S>
S f_rational(S x) {
  return x / (S(1.0) + x * x);
}

// f''(x) from one evaluation on a nested dual: exact up to rounding, no step size.
template <class F>
double second_derivative(F f, double x) {
  return f(gnm::ch03::variable2(x)).d.d;
}
//! [nested_dual]

template <class F>
double central_second(F f, double x) {
  const double h = 1e-4;  // error ≈ h²/12·|f''''| + 4·eps·|f|/h² ≈ 1e-9 + 1e-7·|f|
  return (f(x + h) - 2.0 * f(x) + f(x - h)) / (h * h);
}

}  // namespace

ForwardReverseResult run_forward_reverse(int max_size, bool quick) {
  ForwardReverseResult r;
  const int repeat = quick ? 3 : 7;
  for (int n = 1; n <= max_size; n *= 10) r.rows.push_back(run_many_inputs(n, repeat));
  for (int m = 1; m <= max_size; m *= 10) r.rows.push_back(run_many_outputs(m, repeat));
  for (const ModeRow& row : r.rows) r.verified = r.verified && row.max_error <= kModeTol;

  struct Case {
    const char* name;
    double (*plain)(double);
    double (*nested)(double);
    double (*analytic)(double);
  };
  const Case cases[] = {
      {"exp(sin x)", [](double x) { return f_exp_sin(x); },
       [](double x) { return second_derivative([](auto v) { return f_exp_sin(v); }, x); },
       [](double x) { return (std::cos(x) * std::cos(x) - std::sin(x)) * std::exp(std::sin(x)); }},
      {"log(x) / x", [](double x) { return f_log_over_x(x); },
       [](double x) { return second_derivative([](auto v) { return f_log_over_x(v); }, x); },
       [](double x) { return (2.0 * std::log(x) - 3.0) / (x * x * x); }},
      {"x / (1 + x^2)", [](double x) { return f_rational(x); },
       [](double x) { return second_derivative([](auto v) { return f_rational(v); }, x); },
       [](double x) { return 2.0 * x * (x * x - 3.0) / std::pow(1.0 + x * x, 3.0); }},
  };
  for (const Case& c : cases) {
    for (double x : {0.5, 2.0}) {
      SecondRow row{c.name, x, c.nested(x), c.analytic(x),
                    central_second(c.plain, x)};
      // Nested duals evaluate the same formula as the hand derivation, term by term reordered:
      // a few ulps of the largest term; 64 eps is a generous bound for these short formulas.
      const double scale = std::max(1.0, std::fabs(row.analytic));
      r.verified = r.verified && std::fabs(row.nested_dual - row.analytic) <= 64 * 2.22e-16 * scale;
      r.verified = r.verified && std::fabs(row.central - row.analytic) <= 1e-5 * scale;
      r.second.push_back(row);
    }
  }
  return r;
}

void print(const ForwardReverseResult& r) {
  std::printf("== 3.1 Forward and reverse mode ==\n");
  std::printf("  %-9s %6s %6s %9s | %7s %12s %10s | %7s %10s %10s | %9s\n", "function", "n", "m",
              "f ops", "fwd swp", "fwd ops", "fwd ms", "rev swp", "rev ops", "rev ms", "max err");
  for (const ModeRow& row : r.rows) {
    std::printf("  %-9s %6d %6d %9lld | %7d %12lld %10.4f | %7d %10lld %10.4f | %9.1e\n",
                row.function.c_str(), row.inputs, row.outputs, row.primal_ops, row.forward_sweeps,
                row.forward_ops, row.forward_ms, row.reverse_sweeps, row.reverse_ops,
                row.reverse_ms, row.max_error);
  }
  std::printf("\n  second derivatives: nested Dual<Dual<double>> vs analytic vs central differences\n");
  std::printf("  %-14s %5s %22s %22s %10s %10s\n", "f", "x", "nested dual", "analytic",
              "dual err", "cd err");
  for (const SecondRow& s : r.second) {
    std::printf("  %-14s %5.2f %22.16f %22.16f %10.1e %10.1e\n", s.function.c_str(), s.x,
                s.nested_dual, s.analytic, std::fabs(s.nested_dual - s.analytic),
                std::fabs(s.central - s.analytic));
  }
  std::printf("  3.1: %s\n\n", r.verified ? "ok" : "FAILED");
}

std::string to_json(const ForwardReverseResult& r) {
  std::ostringstream j;
  j << "\"3.1 forward vs reverse mode: operation counts\": {\"rows\": [";
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const ModeRow& row = r.rows[i];
    j << (i ? ", " : "") << "{\"function\": " << gnm::json_quote(row.function)
      << ", \"n\": " << row.inputs << ", \"m\": " << row.outputs
      << ", \"f ops\": " << row.primal_ops << ", \"forward sweeps\": " << row.forward_sweeps
      << ", \"forward ops\": " << row.forward_ops
      << ", \"forward ms\": " << gnm::json_number(row.forward_ms)
      << ", \"reverse sweeps\": " << row.reverse_sweeps << ", \"reverse ops\": " << row.reverse_ops
      << ", \"reverse ms\": " << gnm::json_number(row.reverse_ms)
      << ", \"max error\": " << gnm::json_number(row.max_error) << "}";
  }
  j << "]}, \"3.1 second derivatives: nested duals\": {\"rows\": [";
  for (std::size_t i = 0; i < r.second.size(); ++i) {
    const SecondRow& s = r.second[i];
    j << (i ? ", " : "") << "{\"f\": " << gnm::json_quote(s.function)
      << ", \"x\": " << gnm::json_number(s.x)
      << ", \"nested dual\": " << gnm::json_number(s.nested_dual)
      << ", \"analytic\": " << gnm::json_number(s.analytic)
      << ", \"dual error\": " << gnm::json_number(std::fabs(s.nested_dual - s.analytic))
      << ", \"central difference error\": " << gnm::json_number(std::fabs(s.central - s.analytic))
      << "}";
  }
  j << "]}";
  return j.str();
}

}  // namespace chapter3
