// Chapter 10.3's learning-rate schedulers (gnm/optim/scheduler.hpp): PyTorch's sequences from
// tests/fixtures/ch10/sched_*.json (scripts/fixtures/ch10_optim.py), resuming from state(), and
// bad arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "json_lite.hpp"  // the tests' tiny JSON reader (see the lead's note)
#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"
#include "gnm/optim/scheduler.hpp"
#include "scratch.hpp"

namespace {

namespace optim = gnm::optim;
using ch03_test::Json;

Json load_fixture(const std::string& name) {
  return ch03_test::JsonParser(gnm::read_file(gnm::testing::fixture_path("ch10/" + name))).parse();
}

std::int64_t integer(const Json& j) { return static_cast<std::int64_t>(j.number); }

// Both sides evaluate the same closed formula (or, for StepLR, the same chain of products) in
// double, in the same order, so they agree to the last bit or within a few ulps where libm's cos
// is involved; 1e-12 relative is the bar, with 1e-12·max_lr as the floor for rates
// near zero (a difference of ulps of the larger terms that formed them).
void expect_sequence(optim::LrScheduler& s, const Json& lrs, double scale, double rel,
                     const std::vector<double>* metrics = nullptr) {
  for (std::size_t k = 0; k < lrs.array.size(); ++k) {
    if (k > 0) {
      if (metrics != nullptr) {
        static_cast<optim::ReduceLROnPlateau&>(s).step((*metrics)[k - 1]);
      } else {
        s.step();
      }
    }
    const double want = lrs[k].number;
    ASSERT_NEAR(s.lr(), want, rel * std::max(std::fabs(want), scale)) << "after " << k << " steps";
    ASSERT_EQ(s.last_step(), static_cast<std::int64_t>(k));
  }
}

TEST(SchedulerFixture, StepLR) {
  const Json doc = load_fixture("sched_step_lr.json");  // named: a temporary would die before the loop
  for (const auto& c : doc["cases"].array) {
    optim::StepLR s(c["base_lr"].number, integer(c["step_size"]), c["gamma"].number);
    expect_sequence(s, c["lrs"], c["base_lr"].number, 1e-12);
  }
}

TEST(SchedulerFixture, CosineWithWarmup) {
  const Json doc = load_fixture("sched_cosine_warmup.json");  // named: a temporary would die before the loop
  for (const auto& c : doc["cases"].array) {
    optim::CosineWithWarmup s(c["base_lr"].number, integer(c["warmup_steps"]),
                              integer(c["total_steps"]), c["min_lr"].number,
                              c["start_factor"].number);
    // LambdaLR evaluates our formula (divided by base_lr, then times base_lr): measured ≤ 3e-16
    // apart. SequentialLR's LinearLR and CosineAnnealingLR are chainable: each step multiplies
    // the previous rate by a ratio, so rounding accumulates by ~1 ulp per step (measured ≤ 1.4e-15
    // after 100 steps), and near the end of the cosine the ratio divides by 1 + cos(...) → 0, so
    // there the drift is relative to base_lr, not to the small rate: hence the floor 1e-12·base_lr.
    SCOPED_TRACE(c["torch_form"].string);
    expect_sequence(s, c["lrs"], c["base_lr"].number, 1e-12);
  }
}

TEST(SchedulerFixture, OneCycleLR) {
  const Json doc = load_fixture("sched_one_cycle.json");  // named: a temporary would die before the loop
  for (const auto& c : doc["cases"].array) {
    optim::OneCycleOptions o;
    o.pct_start = c["pct_start"].number;
    o.anneal = c["anneal"].string == "linear" ? optim::AnnealStrategy::linear
                                              : optim::AnnealStrategy::cos;
    o.div_factor = c["div_factor"].number;
    o.final_div_factor = c["final_div_factor"].number;
    o.three_phase = c["three_phase"].b;
    optim::OneCycleLR s(c["max_lr"].number, integer(c["total_steps"]), o);
    expect_sequence(s, c["lrs"], c["max_lr"].number, 1e-12);
    EXPECT_THROW(s.step(), gnm::Error);  // PyTorch raises on the step after total_steps
  }
}

optim::PlateauOptions plateau_options(const Json& c) {
  optim::PlateauOptions o;
  o.mode = c["mode"].string == "max" ? optim::PlateauMode::max : optim::PlateauMode::min;
  o.factor = c["factor"].number;
  o.patience = integer(c["patience"]);
  o.threshold = c["threshold"].number;
  o.threshold_mode =
      c["threshold_mode"].string == "abs" ? optim::ThresholdMode::abs : optim::ThresholdMode::rel;
  o.cooldown = integer(c["cooldown"]);
  o.min_lr = c["min_lr"].number;
  o.eps = c["eps"].number;
  return o;
}

TEST(SchedulerFixture, ReduceLROnPlateau) {
  int reductions_seen = 0;
  const Json doc = load_fixture("sched_plateau.json");  // named: a temporary would die before the loop
  for (const auto& c : doc["cases"].array) {
    optim::ReduceLROnPlateau s(c["initial_lr"].number, plateau_options(c));
    std::vector<double> metrics;
    for (const auto& m : c["metrics"].array) metrics.push_back(m.number);
    expect_sequence(s, c["lrs"], c["initial_lr"].number, 1e-12, &metrics);
    reductions_seen += s.lr() < c["initial_lr"].number ? 1 : 0;
  }
  EXPECT_EQ(reductions_seen, 4);  // every case exercises at least one reduction
}

// ------------------------------------------------------------------------------------ resuming

// Runs `total` steps straight, and again with a save after `cut` steps into a scheduler built
// with other arguments; both must give the same rates bit for bit.
void expect_resume_identical(const std::function<std::unique_ptr<optim::LrScheduler>()>& make,
                             const std::function<std::unique_ptr<optim::LrScheduler>()>& other,
                             int total, int cut,
                             const std::function<void(optim::LrScheduler&, int)>& advance) {
  auto straight = make();
  std::vector<double> want;
  for (int k = 0; k < total; ++k) {
    advance(*straight, k);
    want.push_back(straight->lr());
  }
  auto first = make();
  for (int k = 0; k < cut; ++k) advance(*first, k);
  const auto saved = first->state();
  auto resumed = other();
  resumed->load_state(saved);
  EXPECT_EQ(resumed->state(), saved);
  EXPECT_EQ(resumed->last_step(), cut);
  for (int k = cut; k < total; ++k) {
    advance(*resumed, k);
    ASSERT_EQ(resumed->lr(), want[static_cast<std::size_t>(k)]) << "step " << k;
  }
}

void plain_step(optim::LrScheduler& s, int) { s.step(); }

TEST(SchedulerState, ResumeMidwayGivesTheIdenticalSequence) {
  expect_resume_identical([] { return std::make_unique<optim::StepLR>(0.1, 7, 0.5); },
                          [] { return std::make_unique<optim::StepLR>(1.0, 1, 0.9); }, 100, 37,
                          plain_step);
  expect_resume_identical(
      [] { return std::make_unique<optim::CosineWithWarmup>(0.1, 10, 80, 1e-4, 0.2); },
      [] { return std::make_unique<optim::CosineWithWarmup>(1.0, 0, 5); }, 100, 8, plain_step);
  optim::OneCycleOptions three;
  three.three_phase = true;
  expect_resume_identical(
      [three] { return std::make_unique<optim::OneCycleLR>(0.1, 90, three); },
      [] { return std::make_unique<optim::OneCycleLR>(1.0, 10); }, 90, 41, plain_step);
  optim::PlateauOptions po;
  po.patience = 2;
  po.cooldown = 1;
  po.factor = 0.5;
  expect_resume_identical(
      [po] { return std::make_unique<optim::ReduceLROnPlateau>(0.1, po); },
      [] { return std::make_unique<optim::ReduceLROnPlateau>(1.0); }, 60, 23,
      [](optim::LrScheduler& s, int k) {
        const double loss = k < 10 ? 1.0 / (1 + k) : 0.1 + 0.01 * std::sin(k);
        static_cast<optim::ReduceLROnPlateau&>(s).step(loss);
      });
}

TEST(SchedulerState, ForeignOrCorruptStateIsRejected) {
  optim::StepLR step(0.1, 3);
  optim::CosineWithWarmup cos(0.1, 2, 10);
  EXPECT_THROW(cos.load_state(step.state()), gnm::Error);  // missing warmup_steps
  auto extra = cos.state();
  extra["gamma"] = 0.5;
  EXPECT_THROW(cos.load_state(extra), gnm::Error);  // unexpected key
  auto fractional = step.state();
  fractional["step"] = 2.5;
  EXPECT_THROW(step.load_state(fractional), gnm::Error);
  auto negative = step.state();
  negative["step_size"] = 0;
  EXPECT_THROW(step.load_state(negative), gnm::Error);
  EXPECT_EQ(step.lr(), 0.1);  // a failed load changes nothing
  optim::OneCycleLR one(0.1, 10);
  auto past = one.state();
  past["step"] = 11;
  EXPECT_THROW(one.load_state(past), gnm::Error);
}

// ------------------------------------------------------------------------------------- errors

TEST(SchedulerArgs, InvalidArgumentsNameTheValue) {
  try {
    optim::StepLR bad(0.1, 0);
    FAIL() << "no throw";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("step_size = 0"), std::string::npos) << e.what();
  }
  EXPECT_THROW(optim::StepLR(-0.1, 3), gnm::Error);
  EXPECT_THROW(optim::CosineWithWarmup(0.1, 10, 10), gnm::Error);
  EXPECT_THROW(optim::CosineWithWarmup(0.1, 0, 10, 0.2), gnm::Error);  // min_lr > base_lr
  EXPECT_THROW(optim::CosineWithWarmup(0.1, 0, 10, 0.0, 1.5), gnm::Error);
  EXPECT_THROW(optim::OneCycleLR(0.1, 0), gnm::Error);
  optim::OneCycleOptions o;
  o.pct_start = 1.5;
  EXPECT_THROW(optim::OneCycleLR(0.1, 10, o), gnm::Error);
  o.pct_start = 0.1;  // 0.1 · 10 − 1 = 0: the first phase has zero length
  EXPECT_THROW(optim::OneCycleLR(0.1, 10, o), gnm::Error);
  optim::PlateauOptions p;
  p.factor = 1.0;
  EXPECT_THROW(optim::ReduceLROnPlateau(0.1, p), gnm::Error);
  p = {};
  p.patience = -1;
  EXPECT_THROW(optim::ReduceLROnPlateau(0.1, p), gnm::Error);
}

TEST(SchedulerArgs, StepsThatCannotHappenThrowAndChangeNothing) {
  optim::OneCycleLR one(0.1, 3);
  for (int k = 0; k < 3; ++k) one.step();
  const double last = one.lr();
  EXPECT_THROW(one.step(), gnm::Error);
  EXPECT_EQ(one.lr(), last);
  EXPECT_EQ(one.last_step(), 3);
  optim::ReduceLROnPlateau plateau(0.1);
  optim::LrScheduler& base = plateau;
  EXPECT_THROW(base.step(), gnm::Error);  // needs a metric
  EXPECT_EQ(plateau.last_step(), 0);
}

TEST(SchedulerSemantics, CosineWithWarmupShape) {
  optim::CosineWithWarmup s(1.0, 4, 12, 0.1);
  std::vector<double> lr = {s.lr()};
  for (int k = 0; k < 20; ++k) {
    s.step();
    lr.push_back(s.lr());
  }
  EXPECT_EQ(lr[0], 0.0);     // warmup from 0
  EXPECT_EQ(lr[2], 0.5);     // halfway up
  EXPECT_EQ(lr[4], 1.0);     // the peak at warmup_steps
  EXPECT_NEAR(lr[8], 0.55, 1e-15);  // halfway down the cosine: (1 + 0.1) / 2
  EXPECT_NEAR(lr[12], 0.1, 1e-15);
  EXPECT_EQ(lr[20], 0.1);    // stays at min_lr after total_steps
}

TEST(SchedulerSemantics, PlateauCountsNaNAsNotBetter) {
  optim::PlateauOptions o;
  o.patience = 1;
  optim::ReduceLROnPlateau s(1.0, o);
  s.step(1.0);
  EXPECT_EQ(s.best(), 1.0);
  s.step(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(s.num_bad_steps(), 1);
  s.step(std::numeric_limits<double>::quiet_NaN());
  EXPECT_DOUBLE_EQ(s.lr(), 0.1);
  EXPECT_EQ(s.best(), 1.0);
}

}  // namespace
