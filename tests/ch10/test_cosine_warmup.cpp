// Exercise 10.3: cosine_warmup_lr against PyTorch's LambdaLR sequences
// (tests/fixtures/ch10/sched_cosine_warmup.json from scripts/fixtures/ch10_optim.py, the cases
// that start at 0, and ex_cosine_warmup.json from ch10_exercises.py), against the engine's
// gnm::optim::CosineWithWarmup, the schedule's key points and shape, and bad arguments. Every test
// calls cosine_warmup_lr on valid input first, so each fails on the stub.
//
// Tolerance: every side evaluates the same closed formula in double, perhaps in another order
// (base·k/W or base·(k/W); min + (base − min)·c/2 or (base + min)/2 + …). Each order rounds a few
// times relative to base_lr, and libm's cos is within an ulp: a few units of 2⁻⁵³·base_lr. The
// tests allow 1e-12 relative to max(|lr|, base_lr), the bar, far above that.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ch10_testing.hpp"
#include "cosine_warmup.hpp"
#include "gnm/optim/scheduler.hpp"

namespace {

using gnm::ch10::cosine_warmup_lr;
using namespace ch10_testing;

constexpr double kRel = 1e-12;

struct Schedule {
  double base_lr;
  std::int64_t warmup, total;
  double min_lr;
};

void expect_sequence(const Schedule& s, const std::vector<double>& lrs) {
  for (std::size_t k = 0; k < lrs.size(); ++k) {
    const double got = cosine_warmup_lr(static_cast<std::int64_t>(k), s.base_lr, s.warmup,
                                        s.total, s.min_lr);
    ASSERT_NEAR(got, lrs[k], kRel * std::max(std::fabs(lrs[k]), s.base_lr))
        << "step " << k << " of base " << s.base_lr << ", warmup " << s.warmup << ", total "
        << s.total << ", min " << s.min_lr;
  }
}

TEST(CosineWarmup, MatchesPyTorchLambdaLR) {
  int checked = 0;
  // Named: in `for (… : load_fixture(…).at(…))` the document would die before the loop.
  const nlohmann::json engine_doc = load_fixture("sched_cosine_warmup.json");
  const nlohmann::json exercise_doc = load_fixture("ex_cosine_warmup.json");
  for (const auto& c : engine_doc.at("cases")) {
    // This fixture also holds schedules starting at start_factor·base_lr (not the exercise's).
    if (c.at("start_factor").get<double>() != 0.0 || c.at("torch_form") != "lambda") continue;
    expect_sequence({c.at("base_lr").get<double>(), c.at("warmup_steps").get<std::int64_t>(),
                     c.at("total_steps").get<std::int64_t>(), c.at("min_lr").get<double>()},
                    c.at("lrs").get<std::vector<double>>());
    ++checked;
  }
  for (const auto& c : exercise_doc.at("cases")) {
    expect_sequence({c.at("base_lr").get<double>(), c.at("warmup_steps").get<std::int64_t>(),
                     c.at("total_steps").get<std::int64_t>(), c.at("min_lr").get<double>()},
                    c.at("lrs").get<std::vector<double>>());
    ++checked;
  }
  EXPECT_EQ(checked, 8);
}

TEST(CosineWarmup, AgreesWithTheEnginesScheduler) {
  for (const double base : {0.0, 3e-4, 0.1, 1.0}) {
    for (const std::int64_t warmup : {0, 1, 7, 100}) {
      for (const std::int64_t length : {1, 2, 13, 1000}) {  // of the cosine: T − W
        for (const double min_fraction : {0.0, 0.1, 1.0}) {
          const Schedule s{base, warmup, warmup + length, base * min_fraction};
          gnm::optim::CosineWithWarmup engine(s.base_lr, s.warmup, s.total, s.min_lr, 0.0);
          for (std::int64_t k = 0; k <= s.total + 5; ++k) {
            if (k > 0) engine.step();
            const double got = cosine_warmup_lr(k, s.base_lr, s.warmup, s.total, s.min_lr);
            ASSERT_NEAR(got, engine.lr(), kRel * std::max(std::fabs(engine.lr()), base))
                << "step " << k << " of base " << base << ", warmup " << warmup << ", total "
                << s.total << ", min " << s.min_lr;
          }
        }
      }
    }
  }
}

TEST(CosineWarmup, KeyPointsAndShape) {
  const double base = 0.1, min = 1e-3;
  const std::int64_t w = 10, t = 110;
  const auto lr = [&](std::int64_t k) { return cosine_warmup_lr(k, base, w, t, min); };
  EXPECT_EQ(lr(0), 0.0);  // warmup starts at 0
  EXPECT_NEAR(lr(5), base * 0.5, 4e-16 * base);
  EXPECT_NEAR(lr(w), base, 4e-16 * base);  // the top, to rounding
  EXPECT_NEAR(lr((w + t) / 2), (base + min) / 2, 4e-16 * base);  // the cosine's middle
  EXPECT_NEAR(lr(t), min, 4e-16 * base);  // exact as the header writes it: cos(π) rounds to −1
  EXPECT_EQ(lr(t + 1), min);
  EXPECT_EQ(lr(std::int64_t{1} << 50), min);
  for (std::int64_t k = 1; k <= t + 3; ++k) {
    if (k <= w) {
      EXPECT_GT(lr(k), lr(k - 1)) << "warmup rises at step " << k;
    } else {
      EXPECT_LE(lr(k), lr(k - 1)) << "the cosine never rises, step " << k;
    }
  }
  // No warmup: the schedule starts at the top. One cosine step: the top, then the bottom.
  EXPECT_EQ(cosine_warmup_lr(0, 2.0, 0, 1, 0.5), 2.0);
  EXPECT_EQ(cosine_warmup_lr(1, 2.0, 0, 1, 0.5), 0.5);
  // min_lr == base_lr: constant after the warmup.
  for (std::int64_t k = 3; k < 20; ++k) EXPECT_EQ(cosine_warmup_lr(k, 0.5, 3, 10, 0.5), 0.5);
  // base_lr 0: nothing moves.
  EXPECT_EQ(cosine_warmup_lr(4, 0.0, 3, 10), 0.0);
}

TEST(CosineWarmup, BadArgumentsNameTheValue) {
  EXPECT_EQ(cosine_warmup_lr(0, 1.0, 0, 10), 1.0);  // the stub throws here
  const auto msg = [](auto&& f) { return message_of(f); };
  EXPECT_NE(msg([] { cosine_warmup_lr(-1, 0.1, 2, 10); }).find("step = -1"), std::string::npos);
  EXPECT_NE(msg([] { cosine_warmup_lr(0, -0.1, 2, 10); }).find("-0.1"), std::string::npos);
  EXPECT_NE(msg([] { cosine_warmup_lr(0, std::nan(""), 2, 10); }).find("nan"),
            std::string::npos);
  EXPECT_THROW(cosine_warmup_lr(0, INFINITY, 2, 10), gnm::Error);
  EXPECT_NE(msg([] { cosine_warmup_lr(0, 0.1, 2, 10, 0.25); }).find("0.25"), std::string::npos);
  EXPECT_THROW(cosine_warmup_lr(0, 0.1, 2, 10, -1e-3), gnm::Error);
  EXPECT_THROW(cosine_warmup_lr(0, 0.1, 2, 10, std::nan("")), gnm::Error);
  EXPECT_NE(msg([] { cosine_warmup_lr(0, 0.1, 10, 10); }).find("warmup_steps = 10"),
            std::string::npos);  // W = T: no cosine left
  EXPECT_NE(msg([] { cosine_warmup_lr(0, 0.1, -1, 10); }).find("warmup_steps = -1"),
            std::string::npos);
  EXPECT_NE(msg([] { cosine_warmup_lr(0, 0.1, 0, 0); }).find("total_steps = 0"),
            std::string::npos);
}

}  // namespace
