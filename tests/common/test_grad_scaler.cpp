// Chapter 10.4's dynamic loss scaling (gnm/optim/grad_scaler.hpp): a trajectory worked out by
// hand, PyTorch's torch.amp.GradScaler("cpu") trajectory from tests/fixtures/ch10/
// optim_grad_scaler.json (scripts/fixtures/ch10_optim.py), skipped steps, state and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/optim/grad_scaler.hpp"
#include "fixtures_json.hpp"
#include "scratch.hpp"

namespace {

using gnm::optim::GradScaler;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// One iteration as a training loop runs it: gradients = g · scale, unscale, step or skip, update.
// Returns whether the step was skipped.
bool iterate(GradScaler& scaler, std::vector<float> g) {
  for (float& x : g) x *= static_cast<float>(scaler.scale());
  const std::span<float> grads[] = {g};
  const bool found_inf = scaler.unscale_and_check(grads);
  scaler.update(found_inf);
  return found_inf;
}

TEST(GradScaler, HandComputedTrajectory) {
  // init 8, ×2 after 2 finite steps, ×0.5 on overflow. Iterations 2, 3 and 7 overflow.
  GradScaler scaler(8.0, 2.0, 0.5, 2);
  const std::vector<float> finite = {1.0f, -0.25f}, inf = {kInf, 1.0f}, nan = {1.0f, kNaN};
  struct Expect {
    const std::vector<float>* grads;
    bool skipped;
    double scale_after;
    std::int64_t tracker_after;
  };
  const std::vector<Expect> plan = {
      {&finite, false, 8.0, 1},   // 1 finite step
      {&finite, false, 16.0, 0},  // 2 in a row: grow, reset
      {&inf, true, 8.0, 0},       // overflow: back off, reset
      {&nan, true, 4.0, 0},       // NaN counts as overflow too
      {&finite, false, 4.0, 1},
      {&finite, false, 8.0, 0},
      {&finite, false, 8.0, 1},
      {&inf, true, 4.0, 0},       // an overflow also resets a tracker half-way to growth
      {&finite, false, 4.0, 1},
  };
  for (std::size_t i = 0; i < plan.size(); ++i) {
    EXPECT_EQ(iterate(scaler, *plan[i].grads), plan[i].skipped) << "iteration " << i;
    EXPECT_EQ(scaler.scale(), plan[i].scale_after) << "iteration " << i;
    EXPECT_EQ(scaler.growth_tracker(), plan[i].tracker_after) << "iteration " << i;
  }
  EXPECT_EQ(scaler.skipped_steps(), 3);
}

TEST(GradScaler, UnscaleRestoresGradientsAndFlagsEveryNonFiniteKind) {
  GradScaler scaler(1024.0);
  std::vector<float> a = {1024.0f, -512.0f, 3.0f}, b = {2048.0f};
  const std::span<float> grads[] = {a, b};
  EXPECT_FALSE(scaler.unscale_and_check(grads));
  EXPECT_EQ(a, (std::vector<float>{1.0f, -0.5f, 3.0f / 1024.0f}));
  EXPECT_EQ(b[0], 2.0f);
  for (const float bad : {kInf, -kInf, kNaN}) {
    std::vector<float> c = {1.0f, 2.0f}, d = {4.0f, bad, 8.0f};
    const std::span<float> two[] = {c, d};
    EXPECT_TRUE(scaler.unscale_and_check(two)) << bad;
    EXPECT_EQ(c[0], 1.0f / 1024.0f);  // every element is unscaled, like PyTorch's kernel
    EXPECT_EQ(d[2], 8.0f / 1024.0f);
  }
  EXPECT_FALSE(scaler.unscale_and_check({}));
}

TEST(GradScaler, MatchesTorchAmpGradScaler) {
  const auto doc =
      gnm::testing::load_json(gnm::testing::fixture_path("ch10/optim_grad_scaler.json"));
  GradScaler scaler(doc.at("init_scale").get<double>(), doc.at("growth_factor").get<double>(),
                    doc.at("backoff_factor").get<double>(),
                    doc.at("growth_interval").get<std::int64_t>());
  const std::vector<int> bad_at = {4, 5, 13, 20, 21, 22};  // as the generator injected them
  std::int64_t skipped = 0;
  for (std::size_t it = 0; it < doc.at("iterations").size(); ++it) {
    const auto& row = doc.at("iterations").at(it);
    // The factors 1.7 and 0.3 are not powers of two, so the fp32 rounding of the scale (and of
    // 1/scale) shows: everything is compared exactly, as both sides round the same way.
    ASSERT_EQ(scaler.scale(), row.at("scale_before").get<double>()) << "iteration " << it;
    std::vector<float> g = {1.0f, -2.0f, 0.5f, 3.0f};
    if (std::find(bad_at.begin(), bad_at.end(), static_cast<int>(it)) != bad_at.end()) {
      g[1] = kInf;
    }
    const auto s = static_cast<float>(scaler.scale());
    for (float& x : g) x *= s;  // autograd's gradient of (p · c).sum() · scale: c · scale
    const std::span<float> grads[] = {g};
    const bool found_inf = scaler.unscale_and_check(grads);
    ASSERT_EQ(found_inf, row.at("found_inf").get<bool>()) << "iteration " << it;
    std::size_t k = 0;
    for (const float x : g) {
      if (std::isfinite(x)) {
        ASSERT_EQ(x, static_cast<float>(row.at("unscaled_finite").at(k++).get<double>()))
            << "iteration " << it;
      }
    }
    scaler.update(found_inf);
    skipped += found_inf ? 1 : 0;
    ASSERT_EQ(scaler.scale(), row.at("scale_after").get<double>()) << "iteration " << it;
    ASSERT_EQ(scaler.growth_tracker(), row.at("growth_tracker").get<std::int64_t>());
  }
  EXPECT_EQ(scaler.skipped_steps(), skipped);
  EXPECT_EQ(skipped, 6);
}

TEST(GradScaler, GrowthStopsAtTheFp32Ceiling) {
  GradScaler scaler(std::ldexp(1.0, 127), 2.0, 0.5, 1);  // 2^127; 2^128 overflows fp32
  EXPECT_FALSE(iterate(scaler, {1e-30f}));
  EXPECT_EQ(scaler.scale(), std::ldexp(1.0, 127));
  EXPECT_EQ(scaler.growth_tracker(), 0);
}

TEST(GradScaler, DisabledScalerLeavesEverythingAlone) {
  GradScaler scaler(65536.0, 2.0, 0.5, 2000, /*enabled=*/false);
  EXPECT_EQ(scaler.scale(), 1.0);
  std::vector<float> g = {kInf, 3.0f};
  const std::span<float> grads[] = {g};
  EXPECT_FALSE(scaler.unscale_and_check(grads));
  EXPECT_EQ(g[1], 3.0f);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 1.0);
  EXPECT_EQ(scaler.skipped_steps(), 0);
  EXPECT_NO_THROW(GradScaler(-1.0, 0.0, 2.0, 0, false));  // nothing is checked, like PyTorch
}

TEST(GradScaler, StateRoundTripResumesIdentically) {
  const std::vector<float> ok = {0.5f}, bad = {kNaN};
  const auto run = [&](GradScaler& s, int from, int to) {
    std::vector<double> scales;
    for (int i = from; i < to; ++i) {
      iterate(s, i % 7 == 3 ? bad : ok);
      scales.push_back(s.scale());
    }
    return scales;
  };
  GradScaler straight(1000.0, 1.7, 0.3, 3);
  const std::vector<double> want = run(straight, 0, 40);
  GradScaler first(1000.0, 1.7, 0.3, 3);
  run(first, 0, 17);
  const auto saved = first.state();
  GradScaler resumed;  // defaults: everything comes from the state
  resumed.load_state(saved);
  EXPECT_EQ(resumed.state(), saved);
  EXPECT_EQ(resumed.skipped_steps(), first.skipped_steps());
  const std::vector<double> rest = run(resumed, 17, 40);
  EXPECT_EQ(rest, std::vector<double>(want.begin() + 17, want.end()));
}

TEST(GradScaler, BadArgumentsAndStatesThrow) {
  EXPECT_THROW(GradScaler(0.0), gnm::Error);
  EXPECT_THROW(GradScaler(1e39), gnm::Error);  // not finite in fp32
  EXPECT_THROW(GradScaler(1024.0, 1.0), gnm::Error);
  EXPECT_THROW(GradScaler(1024.0, 2.0, 1.0), gnm::Error);
  EXPECT_THROW(GradScaler(1024.0, 2.0, 0.0), gnm::Error);
  try {
    GradScaler bad(1024.0, 2.0, 0.5, 0);
    FAIL() << "no throw";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("growth_interval = 0"), std::string::npos) << e.what();
  }
  GradScaler scaler;
  auto missing = scaler.state();
  missing.erase("scale");
  EXPECT_THROW(scaler.load_state(missing), gnm::Error);
  auto extra = scaler.state();
  extra["lr"] = 0.1;
  EXPECT_THROW(scaler.load_state(extra), gnm::Error);
  auto tracker = scaler.state();
  tracker["growth_tracker"] = 2000;  // must stay below growth_interval
  EXPECT_THROW(scaler.load_state(tracker), gnm::Error);
  EXPECT_EQ(scaler.scale(), 65536.0);
}

}  // namespace
