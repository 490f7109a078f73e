#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/core/verify.hpp"

TEST(Verify, PassesWithinToleranceAndFailsOutside) {
  const std::vector<double> ref = {1.0, -2.0, 1000.0};
  std::vector<float> got = {1.0f, -2.0f, 1000.0f};
  EXPECT_TRUE(gnm::compare(got, ref, {0.0, 0.0}).ok);
  got[2] = 1000.5f;
  auto r = gnm::compare(got, ref, {0.0, 1e-3});  // bound 1.0 at 1000
  EXPECT_TRUE(r.ok) << r.report;
  r = gnm::compare(got, ref, {0.0, 1e-4});  // bound 0.1
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.mismatches, 1u);
  EXPECT_EQ(r.worst_index, 2u);
  EXPECT_DOUBLE_EQ(r.max_abs_error, 0.5);
  EXPECT_NE(r.report.find("[2] got 1000.5, expected 1000"), std::string::npos) << r.report;
}

TEST(Verify, NanAndInfAreMismatches) {
  const std::vector<double> ref = {1.0, 2.0};
  const std::vector<float> got = {std::numeric_limits<float>::quiet_NaN(),
                                  std::numeric_limits<float>::infinity()};
  const auto r = gnm::compare(got, ref, {1.0, 1.0});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.mismatches, 2u);
}

TEST(Verify, ReportsAtMostFiveMismatches) {
  const std::vector<double> ref(100, 0.0);
  const std::vector<float> got(100, 1.0f);
  const auto r = gnm::compare(got, ref, {0.5, 0.0});
  EXPECT_EQ(r.mismatches, 100u);
  EXPECT_EQ(std::count(r.report.begin(), r.report.end(), '\n'), 5);
}

TEST(Verify, SizeMismatchAndBadToleranceThrow) {
  const std::vector<double> ref(3);
  const std::vector<float> got(4);
  EXPECT_THROW(gnm::compare(got, ref, {}), gnm::ShapeError);
  const std::vector<float> got3(3);
  EXPECT_THROW(gnm::compare(got3, ref, {-1.0, 0.0}), gnm::Error);
  EXPECT_TRUE(gnm::compare(std::vector<float>{}, std::vector<double>{}, {}).ok);
}

TEST(Timer, SummaryIsOrderStatistics) {
  const auto s = gnm::summarize({5.0, 1.0, 3.0, 2.0});
  EXPECT_EQ(s.min_ms, 1.0);
  EXPECT_EQ(s.max_ms, 5.0);
  EXPECT_EQ(s.median_ms, 2.5);
  EXPECT_EQ(s.runs, 4);
  EXPECT_EQ(gnm::summarize({7.0}).median_ms, 7.0);
  EXPECT_THROW(gnm::summarize({}), gnm::Error);
  gnm::HostTimer t;
  EXPECT_GE(t.elapsed_ms(), 0.0);
}

TEST(Timer, MedianTimeRunsWarmupAndRepeats) {
  int calls = 0;
  const double ms = gnm::median_time_ms(5, [&] { ++calls; }, /*warmup=*/2);
  EXPECT_EQ(calls, 7);
  EXPECT_GE(ms, 0.0);
  EXPECT_THROW(gnm::median_time_ms(0, [] {}), gnm::Error);
  EXPECT_THROW(gnm::median_time_ms(1, [] {}, -1), gnm::Error);
}
