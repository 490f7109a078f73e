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

#include "gnm/core/error.hpp"
#include "gnm/optim/scheduler.hpp"
#include "fixtures_json.hpp"
#include "scratch.hpp"

namespace {

namespace optim = gnm::optim;
using nlohmann::json;

json load_fixture(const std::string& name) {
  return gnm::testing::load_json(gnm::testing::fixture_path("ch10/" + name));
}

std::int64_t integer(const json& j) { return j.get<std::int64_t>(); }

// Both sides evaluate the same closed formula (or, for StepLR, the same chain of products) in
// double, in the same order, so they agree to the last bit or within a few ulps where libm's cos
// is involved; 1e-12 relative is the bar, with 1e-12·max_lr as the floor for rates
// near zero (a difference of ulps of the larger terms that formed them).
void expect_sequence(optim::LrScheduler& s, const json& lrs, double scale, double rel,
                     const std::vector<double>* metrics = nullptr) {
  for (std::size_t k = 0; k < lrs.size(); ++k) {
    if (k > 0) {
      if (metrics != nullptr) {
        static_cast<optim::ReduceLROnPlateau&>(s).step((*metrics)[k - 1]);
      } else {
        s.step();
      }
    }
    const double want = lrs.at(k).get<double>();
    ASSERT_NEAR(s.lr(), want, rel * std::max(std::fabs(want), scale)) << "after " << k << " steps";
    ASSERT_EQ(s.last_step(), static_cast<std::int64_t>(k));
  }
}

TEST(SchedulerFixture, StepLR) {
  const json doc = load_fixture("sched_step_lr.json");  // named: a temporary would die before the loop
  for (const auto& c : doc.at("cases")) {
    optim::StepLR s(c.at("base_lr").get<double>(), integer(c.at("step_size")),
                    c.at("gamma").get<double>());
    expect_sequence(s, c.at("lrs"), c.at("base_lr").get<double>(), 1e-12);
  }
}

TEST(SchedulerFixture, CosineWithWarmup) {
  const json doc = load_fixture("sched_cosine_warmup.json");  // named: a temporary would die before the loop
  for (const auto& c : doc.at("cases")) {
    optim::CosineWithWarmup s(c.at("base_lr").get<double>(), integer(c.at("warmup_steps")),
                              integer(c.at("total_steps")), c.at("min_lr").get<double>(),
                              c.at("start_factor").get<double>());
    // LambdaLR evaluates our formula (divided by base_lr, then times base_lr): measured ≤ 3e-16
    // apart. SequentialLR's LinearLR and CosineAnnealingLR are chainable: each step multiplies
    // the previous rate by a ratio, so rounding accumulates by ~1 ulp per step (measured ≤ 1.4e-15
    // after 100 steps), and near the end of the cosine the ratio divides by 1 + cos(...) → 0, so
    // there the drift is relative to base_lr, not to the small rate: hence the floor 1e-12·base_lr.
    SCOPED_TRACE(c.at("torch_form").get<std::string>());
    expect_sequence(s, c.at("lrs"), c.at("base_lr").get<double>(), 1e-12);
  }
}

TEST(SchedulerFixture, OneCycleLR) {
  const json doc = load_fixture("sched_one_cycle.json");  // named: a temporary would die before the loop
  for (const auto& c : doc.at("cases")) {
    optim::OneCycleOptions o;
    o.pct_start = c.at("pct_start").get<double>();
    o.anneal = c.at("anneal").get<std::string>() == "linear" ? optim::AnnealStrategy::linear
                                              : optim::AnnealStrategy::cos;
    o.div_factor = c.at("div_factor").get<double>();
    o.final_div_factor = c.at("final_div_factor").get<double>();
    o.three_phase = c.at("three_phase").get<bool>();
    optim::OneCycleLR s(c.at("max_lr").get<double>(), integer(c.at("total_steps")), o);
    expect_sequence(s, c.at("lrs"), c.at("max_lr").get<double>(), 1e-12);
    EXPECT_THROW(s.step(), gnm::Error);  // PyTorch raises on the step after total_steps
  }
}

optim::PlateauOptions plateau_options(const json& c) {
  optim::PlateauOptions o;
  o.mode =
      c.at("mode").get<std::string>() == "max" ? optim::PlateauMode::max : optim::PlateauMode::min;
  o.factor = c.at("factor").get<double>();
  o.patience = integer(c.at("patience"));
  o.threshold = c.at("threshold").get<double>();
  o.threshold_mode = c.at("threshold_mode").get<std::string>() == "abs" ? optim::ThresholdMode::abs
                                                                       : optim::ThresholdMode::rel;
  o.cooldown = integer(c.at("cooldown"));
  o.min_lr = c.at("min_lr").get<double>();
  o.eps = c.at("eps").get<double>();
  return o;
}

TEST(SchedulerFixture, ReduceLROnPlateau) {
  int reductions_seen = 0;
  const json doc = load_fixture("sched_plateau.json");  // named: a temporary would die before the loop
  for (const auto& c : doc.at("cases")) {
    optim::ReduceLROnPlateau s(c.at("initial_lr").get<double>(), plateau_options(c));
    std::vector<double> metrics;
    for (const auto& m : c.at("metrics")) metrics.push_back(m.get<double>());
    expect_sequence(s, c.at("lrs"), c.at("initial_lr").get<double>(), 1e-12, &metrics);
    reductions_seen += s.lr() < c.at("initial_lr").get<double>() ? 1 : 0;
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
