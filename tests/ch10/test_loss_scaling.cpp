// Exercise 10.2: unscale_and_check and update_scale against torch.amp.GradScaler's trajectories
// (tests/fixtures/ch10/optim_grad_scaler.json from scripts/fixtures/ch10_optim.py and
// ex_loss_scaling.json from ch10_exercises.py), against the engine's gnm::optim::GradScaler on
// random data with +inf, −inf and NaN injected, hand-worked edge cases and bad input. The rules
// fix every rounding (the scale and 1/scale are fp32 values, computed as the header says), so all
// comparisons are exact. Every test calls the exercise on valid input first: each fails on the
// stub.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "ch10_testing.hpp"
#include "gnm/optim/grad_scaler.hpp"
#include "loss_scaling.hpp"

namespace {

using gnm::ch10::LossScaleConfig;
using gnm::ch10::LossScaleState;
using gnm::ch10::unscale_and_check;
using gnm::ch10::update_scale;
using namespace ch10_testing;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kMax = std::numeric_limits<float>::max();

// ------------------------------------------------------------------------------------ PyTorch

TEST(LossScaling, MatchesTorchGradScalerWithInjectedOverflow) {
  const auto doc = load_fixture("optim_grad_scaler.json");
  const LossScaleConfig config{doc.at("growth_factor").get<double>(),
                               doc.at("backoff_factor").get<double>(),
                               doc.at("growth_interval").get<std::int64_t>()};
  LossScaleState state{doc.at("init_scale").get<double>(), 0};
  // As the generator injected them into the second gradient element.
  const auto bad_at = [](std::size_t it) {
    switch (it) {
      case 4: case 21: case 22: return kInf;
      case 5: case 20: return kNaN;
      case 13: return -kInf;
      default: return 0.0f;
    }
  };
  int skipped = 0;
  const auto& rows = doc.at("iterations");
  for (std::size_t it = 0; it < rows.size(); ++it) {
    const auto& row = rows[it];
    ASSERT_EQ(state.scale, row.at("scale_before").get<double>()) << "iteration " << it;
    // (p · c).sum() · S differentiated: c · S in fp32.
    std::vector<float> g = {1.0f, -2.0f, 0.5f, 3.0f};
    if (bad_at(it) != 0.0f) g[1] = bad_at(it);
    for (float& x : g) x *= static_cast<float>(state.scale);
    const bool found_inf = unscale_and_check(g, state.scale);
    ASSERT_EQ(found_inf, row.at("found_inf").get<bool>()) << "iteration " << it;
    std::vector<float> finite;
    std::copy_if(g.begin(), g.end(), std::back_inserter(finite),
                 [](float x) { return std::isfinite(x); });
    ASSERT_EQ(finite, floats(row.at("unscaled_finite"))) << "iteration " << it;
    update_scale(state, found_inf, config);
    skipped += found_inf ? 1 : 0;
    ASSERT_EQ(state.scale, row.at("scale_after").get<double>()) << "iteration " << it;
    ASSERT_EQ(state.growth_tracker, row.at("growth_tracker").get<std::int64_t>())
        << "iteration " << it;
  }
  EXPECT_EQ(skipped, 6);
}

TEST(LossScaling, MatchesTorchOnDefaultsTheFp32CeilingAndRoundingFactors) {
  const auto doc = load_fixture("ex_loss_scaling.json");
  for (const auto& t : doc.at("trajectories")) {
    const LossScaleConfig config{t.at("growth_factor").get<double>(),
                                 t.at("backoff_factor").get<double>(),
                                 t.at("growth_interval").get<std::int64_t>()};
    LossScaleState state{t.at("init_scale").get<double>(), 0};
    SCOPED_TRACE("init_scale " + std::to_string(state.scale));
    std::size_t it = 0;
    for (const auto& row : t.at("iterations")) {
      ASSERT_EQ(state.scale, row.at("scale_before").get<double>()) << "iteration " << it;
      std::vector<float> g = floats(row.at("grads"));  // as PyTorch's backward produced them
      const bool found_inf = unscale_and_check(g, state.scale);
      ASSERT_EQ(found_inf, row.at("found_inf").get<bool>()) << "iteration " << it;
      const std::vector<float> want = floats(row.at("unscaled"));
      for (std::size_t i = 0; i < g.size(); ++i) {
        ASSERT_TRUE(same_float(g[i], want[i]))
            << "iteration " << it << ", element " << i << ": " << g[i] << " vs " << want[i];
      }
      update_scale(state, found_inf, config);
      ASSERT_EQ(state.scale, row.at("scale_after").get<double>()) << "iteration " << it;
      ASSERT_EQ(state.growth_tracker, row.at("growth_tracker").get<std::int64_t>())
          << "iteration " << it;
      ++it;
    }
  }
  // Single calls of PyTorch's unscale kernel, among them a finite value that overflows only once
  // multiplied (3e38 · 2): checked before the product, so it is not flagged.
  for (const auto& c : doc.at("unscale")) {
    std::vector<float> g = floats(c.at("grads"));
    const double scale = c.at("scale").get<double>();
    EXPECT_EQ(unscale_and_check(g, scale), c.at("found_inf").get<bool>()) << "scale " << scale;
    const std::vector<float> want = floats(c.at("unscaled"));
    for (std::size_t i = 0; i < g.size(); ++i) {
      EXPECT_TRUE(same_float(g[i], want[i]))
          << "scale " << scale << ", element " << i << ": " << g[i] << " vs " << want[i];
    }
  }
}

// ------------------------------------------------------------------------ engine, random data

class LossScalingRandom : public ::testing::TestWithParam<std::size_t> {};

TEST_P(LossScalingRandom, AgreesWithTheEnginesGradScaler) {
  const std::size_t n = GetParam();
  struct Case {
    double init_scale;
    LossScaleConfig config;
  };
  const Case cases[] = {{65536.0, {2.0, 0.5, 3}}, {1000.0, {1.7, 0.3, 2}}, {3.0, {3.0, 0.7, 1}}};
  std::uint64_t seed = 5000 + n;
  for (const Case& c : cases) {
    gnm::optim::GradScaler engine(c.init_scale, c.config.growth_factor, c.config.backoff_factor,
                                  c.config.growth_interval);
    LossScaleState state{c.init_scale, 0};
    const int iterations = 200;
    // Per iteration: whether to inject, where, and which kind.
    const std::vector<float> dice = uniform(3 * iterations, ++seed, 0.0f, 1.0f);
    for (int it = 0; it < iterations; ++it) {
      std::vector<float> g = uniform(n, ++seed, -4.0f, 4.0f);
      for (float& x : g) x *= static_cast<float>(state.scale);
      const auto k = static_cast<std::size_t>(3 * it);
      if (n > 0 && dice[k] < 0.2f) {
        const auto pos =
            std::min(n - 1, static_cast<std::size_t>(dice[k + 1] * static_cast<float>(n)));
        g[pos] = dice[k + 2] < 0.33f ? kInf : dice[k + 2] < 0.67f ? -kInf : kNaN;
      }
      std::vector<float> ge = g;
      const std::span<float> engine_grads[] = {ge};
      const bool found_inf = unscale_and_check(g, state.scale);
      const bool engine_found = engine.unscale_and_check(engine_grads);
      ASSERT_EQ(found_inf, engine_found) << "iteration " << it;
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_TRUE(same_float(g[i], ge[i])) << "iteration " << it << ", element " << i;
      }
      update_scale(state, found_inf, c.config);
      engine.update(engine_found);
      ASSERT_EQ(state.scale, engine.scale()) << "iteration " << it;
      ASSERT_EQ(state.growth_tracker, engine.growth_tracker()) << "iteration " << it;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, LossScalingRandom, ::testing::Values(0, 1, 7, 1000));

// ------------------------------------------------------------------------------- edge cases

TEST(LossScaling, FlagsInfMinusInfAndNaNAnywhereAndStillUnscalesTheRest) {
  for (const std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{1000}}) {
    for (const float bad : {kInf, -kInf, kNaN}) {
      for (const std::size_t pos : {std::size_t{0}, n / 2, n - 1}) {
        std::vector<float> g = uniform(n, 40 + n, -1024.0f, 1024.0f);
        g[pos] = bad;
        const std::vector<float> before = g;
        EXPECT_TRUE(unscale_and_check(g, 1024.0)) << n << " elements, " << bad << " at " << pos;
        for (std::size_t i = 0; i < n; ++i) {
          ASSERT_TRUE(same_float(g[i], before[i] * (1.0f / 1024.0f))) << "element " << i;
        }
      }
    }
  }
  // Extreme finite values are not overflow: the largest float, subnormals, signed zeros.
  std::vector<float> fine = {kMax, -kMax, 1e-45f, -0.0f, 0.0f};
  EXPECT_FALSE(unscale_and_check(fine, 2.0));
  EXPECT_EQ(fine[0], kMax / 2);
  EXPECT_TRUE(std::signbit(fine[3]));
  // 1/3 rounded to fp32 once (not a division per element): PyTorch's multiplier.
  std::vector<float> third = {3.0f, 1.0f};
  EXPECT_FALSE(unscale_and_check(third, 3.0));
  EXPECT_EQ(third[0], 3.0f * static_cast<float>(1.0 / 3.0));
  EXPECT_EQ(third[1], static_cast<float>(1.0 / 3.0));
}

TEST(LossScaling, GrowthIntervalBackoffAndTheFp32Ceiling) {
  // Hand-worked: interval 3, ×2 and ×0.5.
  const LossScaleConfig config{2.0, 0.5, 3};
  LossScaleState s{8.0, 0};
  struct Expect {
    bool found_inf;
    double scale;
    std::int64_t tracker;
  };
  const Expect plan[] = {
      {false, 8.0, 1}, {false, 8.0, 2}, {false, 16.0, 0},  // the third good step grows
      {false, 16.0, 1}, {false, 16.0, 2}, {true, 8.0, 0},  // one short of growing: backoff
      {true, 4.0, 0},                                      // twice in a row
      {false, 4.0, 1}, {false, 4.0, 2}, {false, 8.0, 0},
  };
  for (std::size_t i = 0; i < std::size(plan); ++i) {
    update_scale(s, plan[i].found_inf, config);
    EXPECT_EQ(s.scale, plan[i].scale) << "iteration " << i;
    EXPECT_EQ(s.growth_tracker, plan[i].tracker) << "iteration " << i;
  }
  // growth_interval 1: every good step grows. At 2¹²⁷, ×2 overflows fp32: the scale stays.
  LossScaleState top{std::ldexp(1.0, 126), 0};
  update_scale(top, false, {2.0, 0.5, 1});
  EXPECT_EQ(top.scale, std::ldexp(1.0, 127));
  update_scale(top, false, {2.0, 0.5, 1});
  EXPECT_EQ(top.scale, std::ldexp(1.0, 127));
  EXPECT_EQ(top.growth_tracker, 0);
  // The new scale is rounded to fp32: 1000 · 0.3 = 300.00000000000006 in double, 300 in fp32.
  LossScaleState r{1000.0, 0};
  update_scale(r, true, {2.0, 0.3, 5});
  EXPECT_EQ(r.scale, static_cast<double>(static_cast<float>(1000.0 * 0.3)));
}

// ------------------------------------------------------------------------------------ errors

TEST(LossScaling, EmptyGradientsAndBadArgumentsNameTheValue) {
  std::vector<float> g = {2.0f, -4.0f};
  EXPECT_FALSE(unscale_and_check(g, 2.0));  // the stub throws here
  EXPECT_EQ(g, (std::vector<float>{1.0f, -2.0f}));
  LossScaleState s;
  update_scale(s, false, {});  // and here
  EXPECT_EQ(s.growth_tracker, 1);

  EXPECT_FALSE(unscale_and_check({}, 65536.0));
  EXPECT_NE(message_of([&] { unscale_and_check(g, 0.0); }).find("scale = 0"), std::string::npos);
  EXPECT_NE(message_of([&] { unscale_and_check(g, -8.0); }).find("-8"), std::string::npos);
  EXPECT_THROW(unscale_and_check(g, std::nan("")), gnm::Error);
  EXPECT_THROW(unscale_and_check(g, INFINITY), gnm::Error);
  EXPECT_THROW(unscale_and_check(g, 1e39), gnm::Error);   // not an fp32 value
  EXPECT_THROW(unscale_and_check(g, 1e-39), gnm::Error);  // 1/scale overflows fp32
  EXPECT_EQ(g, (std::vector<float>{1.0f, -2.0f}));        // untouched by a rejected call

  const LossScaleState before = s;
  const auto bad_update = [&](LossScaleState st, const LossScaleConfig& c) {
    return message_of([&] { update_scale(st, false, c); });
  };
  EXPECT_NE(bad_update(s, {1.0, 0.5, 10}).find("growth_factor = 1"), std::string::npos);
  EXPECT_NE(bad_update(s, {2.0, 1.0, 10}).find("backoff_factor = 1"), std::string::npos);
  EXPECT_NE(bad_update(s, {2.0, 0.0, 10}).find("backoff_factor = 0"), std::string::npos);
  EXPECT_NE(bad_update(s, {2.0, 0.5, 0}).find("growth_interval = 0"), std::string::npos);
  EXPECT_NE(bad_update({0.0, 0}, {}).find("scale = 0"), std::string::npos);
  EXPECT_NE(bad_update({1024.0, 2000}, {}).find("growth_tracker = 2000"), std::string::npos);
  EXPECT_NE(bad_update({1024.0, -1}, {}).find("growth_tracker = -1"), std::string::npos);
  EXPECT_THROW(update_scale(s, true, {INFINITY, 0.5, 10}), gnm::Error);
  EXPECT_EQ(s.scale, before.scale);  // a rejected call changes nothing
  EXPECT_EQ(s.growth_tracker, before.growth_tracker);
}

}  // namespace
