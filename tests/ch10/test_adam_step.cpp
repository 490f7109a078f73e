// Exercise 10.1: adam_step against PyTorch's trajectories (tests/fixtures/ch10/optim_adam*.json
// from scripts/fixtures/ch10_optim.py, ex_adam.json from ch10_exercises.py), against a double
// reference and the engine's gnm::optim::adam_update on random data, two properties of the update
// and bad input. Every test calls adam_step on valid input first, so each fails on the stub.
//
// Note [Adam step tolerance]. Each fp32 operation rounds once, relative to the magnitudes it
// combines, and an element passes through at most ~6 of them; so m and v lie within kTol = 16u of
// the sum of the magnitudes of the terms that formed them (g + wd·p and m's lerp may cancel: the
// error is relative to |m_old| + |g| + wd·|p|, not to m). The step s·m/(√(v/bc2) + eps) is bounded
// by interval arithmetic over m ± m_err and v ± v_err, plus kTol of itself for its own roundings;
// the parameter adds kTol·|p| for the decay and the final addition. Two correct implementations
// each lie within this bound of the double reference, so within twice it of each other.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "adam_step.hpp"
#include "ch10_testing.hpp"
#include "gnm/optim/update.hpp"

namespace {

using gnm::ch10::adam_step;
using gnm::ch10::AdamHyper;
using namespace ch10_testing;

constexpr double kTol = 16 * kU;

// ------------------------------------------------------------------------ PyTorch trajectories

struct Trajectory {
  std::string name;
  AdamHyper h;
  bool negate = false;  // torch's maximize=True is the step on −grad (negation is exact)
  std::vector<std::size_t> sizes;
  std::int64_t steps = 0;
  std::vector<float> params0, grads, params;
};

Trajectory read_trajectory(const nlohmann::json& c, const std::string& name) {
  Trajectory t;
  t.name = name;
  t.h.lr = c.at("lr").get<double>();
  t.h.beta1 = c.value("beta1", 0.9);
  t.h.beta2 = c.value("beta2", 0.999);
  t.h.eps = c.value("eps", 1e-8);
  t.h.weight_decay = c.value("weight_decay", 0.0);
  t.h.decoupled = c.value("decoupled", c.value("decoupled_weight_decay", false));
  t.negate = c.value("maximize", false);
  t.sizes = c.at("sizes").get<std::vector<std::size_t>>();
  t.steps = c.at("steps").get<std::int64_t>();
  t.params0 = floats(c.at("params0"));
  t.grads = floats(c.at("grads"));
  t.params = floats(c.at("params"));
  return t;
}

std::vector<Trajectory> all_trajectories() {
  std::vector<Trajectory> out;
  for (const char* name : {"optim_adam", "optim_adamw", "optim_adam_l2_maximize"}) {
    out.push_back(read_trajectory(load_fixture(std::string(name) + ".json"), name));
  }
  const nlohmann::json doc = load_fixture("ex_adam.json");  // named: see test_cosine_warmup.cpp
  for (const auto& c : doc.at("cases")) {
    out.push_back(read_trajectory(c, c.at("name").get<std::string>()));
  }
  return out;
}

// The bar, 1e-6 relative, on every step of every trajectory. Relative to what: a step
// ends with p + Δ, where |Δ| is about lr, so its rounding is relative to max(|p before|,
// |p after|, lr) — a parameter passing near 0 cannot be held to 1e-6 of its own tiny value. And
// each step starts from PyTorch's parameters (m and v are adam_step's own): free-running, an
// implementation that rounds differently from PyTorch (legitimately: say without PyTorch's fused
// multiply-adds) would drift by ~t·ulp(lr) after t steps, which is not an error of the step.
// The solution follows PyTorch's fp32 operations exactly and agrees bit for bit.
TEST(AdamStep, MatchesPyTorchTrajectories) {
  const std::vector<Trajectory> trajectories = all_trajectories();
  ASSERT_EQ(trajectories.size(), 7u);  // 3 from the engine's fixtures, 4 from ex_adam.json
  int identical = 0, compared = 0;
  for (const Trajectory& t : trajectories) {
    SCOPED_TRACE(t.name);
    std::size_t total = 0;
    for (const std::size_t n : t.sizes) total += n;
    ASSERT_EQ(t.params0.size(), total);
    ASSERT_EQ(t.grads.size(), total * static_cast<std::size_t>(t.steps));
    ASSERT_EQ(t.params.size(), t.grads.size());
    std::vector<float> p = t.params0, m(total, 0.0f), v(total, 0.0f);
    for (std::int64_t step = 1; step <= t.steps; ++step) {
      const std::vector<float> before = p;
      const std::size_t base = static_cast<std::size_t>(step - 1) * total;
      std::size_t off = 0;
      for (const std::size_t n : t.sizes) {  // one call per parameter tensor, as PyTorch loops
        std::vector<float> g(t.grads.begin() + static_cast<std::ptrdiff_t>(base + off),
                             t.grads.begin() + static_cast<std::ptrdiff_t>(base + off + n));
        if (t.negate) std::transform(g.begin(), g.end(), g.begin(), [](float x) { return -x; });
        adam_step(std::span<float>(p).subspan(off, n), g, std::span<float>(m).subspan(off, n),
                  std::span<float>(v).subspan(off, n), step, t.h);
        off += n;
      }
      for (std::size_t i = 0; i < total; ++i) {
        const float want = t.params[base + i];
        const double scale =
            std::max({std::fabs(double{want}), std::fabs(double{before[i]}), t.h.lr});
        ASSERT_NEAR(p[i], want, 1e-6 * scale) << "step " << step << ", element " << i;
        identical += p[i] == want ? 1 : 0;
        ++compared;
        p[i] = want;  // the next step starts from PyTorch's parameters
      }
    }
  }
  RecordProperty("identical_to_pytorch", identical);  // all of them, for the solution
  RecordProperty("compared", compared);
}

// ------------------------------------------------------ double reference and engine, random data

// Gradients over six orders of magnitude, with exact zeros (where eps alone decides the step).
std::vector<float> gradient(std::size_t n, std::uint64_t seed) {
  std::vector<float> g = uniform(n, seed);
  const float scales[] = {1e-4f, 1.0f, 100.0f};
  for (std::size_t i = 0; i < n; ++i) g[i] = i % 11 == 5 ? 0.0f : g[i] * scales[i % 3];
  return g;
}

struct Bounds {
  double p_ref, m_ref, v_ref, p_err, m_err, v_err;
};

// One step in double from the fp32 state (p, m, v), with the bounds of Note [Adam step tolerance].
Bounds reference(float p, float g, float m, float v, std::int64_t step, const AdamHyper& h) {
  const double t = static_cast<double>(step);
  const double bc1 = 1.0 - std::pow(h.beta1, t), bc2 = 1.0 - std::pow(h.beta2, t);
  const bool l2 = !h.decoupled;
  const double p0 = h.decoupled ? double{p} * (1.0 - h.lr * h.weight_decay) : double{p};
  const double ge = double{g} + (l2 ? h.weight_decay * double{p} : 0.0);
  const double terms = std::fabs(double{g}) + h.weight_decay * std::fabs(double{p});
  Bounds b{};
  b.m_ref = h.beta1 * double{m} + (1.0 - h.beta1) * ge;
  b.v_ref = h.beta2 * double{v} + (1.0 - h.beta2) * ge * ge;
  b.m_err = kTol * (std::fabs(double{m}) + terms);
  b.v_err = kTol * (b.v_ref + (1.0 - h.beta2) * terms * terms);
  const auto step_of = [&](double mm, double vv) {
    return h.lr / bc1 * mm / (std::sqrt(std::max(vv, 0.0) / bc2) + h.eps);
  };
  const double s = step_of(b.m_ref, b.v_ref);
  double worst = 0.0;  // interval arithmetic: the step is monotone in m and in v
  for (const double dm : {-b.m_err, b.m_err}) {
    for (const double dv : {-b.v_err, b.v_err}) {
      worst = std::max(worst, std::fabs(step_of(b.m_ref + dm, b.v_ref + dv) - s));
    }
  }
  b.p_ref = p0 - s;
  b.p_err = kTol * std::fabs(double{p}) + worst + kTol * std::fabs(s) + 1e-37;
  return b;
}

class AdamStepRandom : public ::testing::TestWithParam<std::size_t> {};

TEST_P(AdamStepRandom, AgreesWithADoubleReferenceAndTheEngine) {
  const std::size_t n = GetParam();
  AdamHyper defaults;
  AdamHyper l2_half{0.01, 0.5, 0.95, 1e-6, 0.05, false};   // lerp weight 0.5: its other branch
  AdamHyper adamw{0.01, 0.3, 0.9, 1e-8, 0.1, true};
  AdamHyper big_eps{0.1, 0.9, 0.99, 1e-3, 0.0, false};
  std::uint64_t seed = 1000 + n;
  int identical = 0;  // parameters bit for bit equal to the engine's: all of them, for the solution
  for (const AdamHyper& h : {defaults, l2_half, adamw, big_eps}) {
    std::vector<float> p = uniform(n, ++seed, -2.0f, 2.0f), m(n, 0.0f), v(n, 0.0f);
    gnm::optim::AdamOptions o;
    o.lr = h.lr;
    o.beta1 = h.beta1;
    o.beta2 = h.beta2;
    o.eps = h.eps;
    o.weight_decay = h.weight_decay;
    o.decoupled_weight_decay = h.decoupled;
    // Steps 1–3 (bias correction large), then far on (1 − β^t → 1; t as a double, β^t → 0).
    for (const std::int64_t step : {1, 2, 3, 10, 1000, 1000000}) {
      const std::vector<float> g = gradient(n, ++seed);
      std::vector<float> pe = p, me = m, ve = v;  // the engine starts from the same state
      const std::vector<float> p_old = p, m_old = m, v_old = v;
      adam_step(p, g, m, v, step, h);
      gnm::optim::adam_update(pe, g, me, ve, {}, o, step);
      for (std::size_t i = 0; i < n; ++i) {
        const Bounds b = reference(p_old[i], g[i], m_old[i], v_old[i], step, h);
        ASSERT_NEAR(m[i], b.m_ref, b.m_err) << "exp_avg[" << i << "], step " << step;
        ASSERT_NEAR(v[i], b.v_ref, b.v_err) << "exp_avg_sq[" << i << "], step " << step;
        ASSERT_NEAR(p[i], b.p_ref, b.p_err) << "param[" << i << "], step " << step;
        ASSERT_NEAR(m[i], me[i], 2 * b.m_err) << "exp_avg[" << i << "] vs the engine";
        ASSERT_NEAR(v[i], ve[i], 2 * b.v_err) << "exp_avg_sq[" << i << "] vs the engine";
        ASSERT_NEAR(p[i], pe[i], 2 * b.p_err) << "param[" << i << "] vs the engine";
        identical += p[i] == pe[i] ? 1 : 0;
      }
    }
  }
  RecordProperty("identical_to_engine", identical);
}

INSTANTIATE_TEST_SUITE_P(Sizes, AdamStepRandom, ::testing::Values(0, 1, 7, 1000));

// --------------------------------------------------------------------------------- properties

TEST(AdamStep, FirstStepMovesEachElementByLrAgainstItsGradient) {
  // At t = 1, m̂ = g and v̂ = g², so Δ = −lr·g/(|g| + eps) ≈ −lr·sign(g) whatever |g| is.
  const std::size_t n = 257;
  std::vector<float> g = uniform(n, 7);
  for (std::size_t i = 0; i < n; ++i) g[i] *= std::pow(10.0f, static_cast<float>(i % 7) - 4.0f);
  g[100] = 0.0f;
  const std::vector<float> p0 = uniform(n, 8);
  std::vector<float> p = p0, m(n, 0.0f), v(n, 0.0f);
  AdamHyper h;
  h.lr = 0.01;
  adam_step(p, g, m, v, 1, h);
  for (std::size_t i = 0; i < n; ++i) {
    const double moved = double{p[i]} - double{p0[i]};
    if (g[i] == 0.0f) {
      EXPECT_EQ(p[i], p0[i]) << "a zero gradient must not move element " << i;
      continue;
    }
    const double want = -h.lr * (g[i] > 0 ? 1.0 : -1.0) *
                        (std::fabs(double{g[i]}) / (std::fabs(double{g[i]}) + h.eps));
    // p + Δ rounds by u·|p|; Δ itself carries a few fp32 roundings.
    EXPECT_NEAR(moved, want, kU * std::fabs(double{p[i]}) + kTol * h.lr) << "element " << i;
  }
}

TEST(AdamStep, DecoupledDecayShrinksTheParameterInsteadOfTheGradient) {
  const std::size_t n = 9;
  const std::vector<float> p0 = uniform(n, 21, -3.0f, 3.0f), zero(n, 0.0f);
  AdamHyper h;
  h.lr = 0.01;
  h.weight_decay = 0.1;
  // AdamW with a zero gradient: m and v stay 0 and p is only multiplied by fp32(1 − lr·wd).
  h.decoupled = true;
  std::vector<float> p = p0, m(n, 0.0f), v(n, 0.0f);
  adam_step(p, zero, m, v, 1, h);
  const auto decay = static_cast<float>(1.0 - h.lr * h.weight_decay);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(p[i], p0[i] * decay) << "AdamW, element " << i;
    EXPECT_EQ(m[i], 0.0f);
    EXPECT_EQ(v[i], 0.0f);
  }
  // Adam's L2 term is part of the gradient, g = wd·p, and a first step moves by lr against it.
  h.decoupled = false;
  p = p0;
  adam_step(p, zero, m, v, 1, h);
  for (std::size_t i = 0; i < n; ++i) {
    const double gi = h.weight_decay * std::fabs(double{p0[i]});
    const double moved = h.lr * gi / (gi + h.eps);
    EXPECT_NEAR(double{p[i]}, double{p0[i]} - (p0[i] > 0 ? moved : -moved),
                kU * std::fabs(double{p0[i]}) + kTol * h.lr)
        << "Adam, element " << i;
    EXPECT_NE(m[i], 0.0f);
  }
}

// ------------------------------------------------------------------------------------ errors

TEST(AdamStep, EmptyAndBadSizes) {
  std::vector<float> p = {0.5f, -1.0f, 2.0f}, g = {0.1f, 0.2f, -0.3f}, m(3, 0.0f), v(3, 0.0f);
  adam_step(p, g, m, v, 1, {});  // the stub throws here
  EXPECT_NE(p[0], 0.5f);
  std::vector<float> none;
  EXPECT_NO_THROW(adam_step(none, none, none, none, 1, {}));
  std::vector<float> g4(4), m5(5);
  EXPECT_THROW(adam_step(p, g4, m, v, 2, {}), gnm::ShapeError);
  EXPECT_THROW(adam_step(p, g, m5, v, 2, {}), gnm::ShapeError);
  EXPECT_THROW(adam_step(p, g, m, none, 2, {}), gnm::ShapeError);
  const std::string msg = message_of([&] { adam_step(p, g4, m, v, 2, {}); });
  EXPECT_NE(msg.find("= 4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("= 3"), std::string::npos) << msg;
}

TEST(AdamStep, BadHyperParametersAndStepsNameTheValue) {
  std::vector<float> p = {0.5f, -1.0f}, g = {0.1f, 0.2f}, m(2, 0.0f), v(2, 0.0f);
  adam_step(p, g, m, v, 1, {});  // the stub throws here
  const std::vector<float> p_before = p, m_before = m;
  const auto bad = [&](AdamHyper h, std::int64_t step) {
    return message_of([&] { adam_step(p, g, m, v, step, h); });
  };
  AdamHyper h;
  h.lr = -0.5;
  EXPECT_NE(bad(h, 2).find("-0.5"), std::string::npos) << bad(h, 2);
  h = {};
  h.beta1 = 1.0;
  EXPECT_NE(bad(h, 2).find("beta1 = 1"), std::string::npos) << bad(h, 2);
  h = {};
  h.beta2 = -0.25;
  EXPECT_NE(bad(h, 2).find("-0.25"), std::string::npos) << bad(h, 2);
  h = {};
  h.eps = std::nan("");
  EXPECT_NE(bad(h, 2).find("nan"), std::string::npos) << bad(h, 2);
  h = {};
  h.weight_decay = -0.01;
  EXPECT_NE(bad(h, 2).find("-0.01"), std::string::npos) << bad(h, 2);
  h = {};
  h.lr = INFINITY;
  EXPECT_NE(bad(h, 2).find("inf"), std::string::npos) << bad(h, 2);
  EXPECT_NE(bad({}, 0).find("step = 0"), std::string::npos) << bad({}, 0);
  EXPECT_NE(bad({}, -3).find("step = -3"), std::string::npos) << bad({}, -3);
  EXPECT_EQ(p, p_before);  // a rejected call changes nothing
  EXPECT_EQ(m, m_before);
}

}  // namespace
