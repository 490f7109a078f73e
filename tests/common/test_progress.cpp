// gnm::ProgressBar: the frame text, the throttle, silence off a terminal.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "gnm/core/error.hpp"
#include "gnm/core/progress.hpp"

namespace {

std::string read_all(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  int c;
  while ((c = std::fgetc(f)) != EOF) s += static_cast<char>(c);
  return s;
}

TEST(Progress, RenderShowsBarPercentTimesAndMetrics) {
  EXPECT_EQ(gnm::render_progress("epoch 1/3", 5, 10, 4.0, "loss 0.5", 10),
            "epoch 1/3 [#####.....]  50%  0:04<0:04  loss 0.5");
  // Nothing done yet: the remaining time is unknown.
  EXPECT_EQ(gnm::render_progress("", 0, 7, 0.0, "", 4), "[....]   0%  0:00<?");
  // Done beyond total is clamped; an empty job is complete; hours are shown from one hour.
  EXPECT_EQ(gnm::render_progress("x", 12, 10, 3725.0, "", 2), "x [##] 100%  1:02:05<0:00");
  EXPECT_EQ(gnm::render_progress("x", 0, 0, 1.0, "", 3), "x [###] 100%  0:01<?");
  // 1/3 done: floor(1/3 · 6) = 2 cells and 33 %.
  EXPECT_EQ(gnm::render_progress("x", 1, 3, 1.0, "", 6), "x [##....]  33%  0:01<0:02");
}

TEST(Progress, RenderRejectsBadArguments) {
  EXPECT_THROW(gnm::render_progress("x", 0, -1, 0.0, ""), gnm::Error);
  EXPECT_THROW(gnm::render_progress("x", 0, 1, 0.0, "", 0), gnm::Error);
  EXPECT_THROW(gnm::ProgressBar("x", -3, nullptr, true), gnm::Error);
  EXPECT_THROW(gnm::ProgressBar("x", 3, nullptr, true, -1.0), gnm::Error);
}

TEST(Progress, SilentWhenNotATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  EXPECT_FALSE(gnm::is_terminal(f));
  {
    gnm::ProgressBar bar("epoch", 100, f);  // default: draw only on a terminal
    EXPECT_FALSE(bar.enabled());
    for (int i = 1; i <= 100; ++i) bar.update(i, "loss 1");
    bar.finish("done");
    EXPECT_EQ(bar.frames(), 0);
  }
  EXPECT_EQ(read_all(f), "");
  std::fclose(f);
}

TEST(Progress, ThrottlesRedrawsAndEndsTheLine) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    // A long interval: only the first update, the last unit and finish() draw.
    gnm::ProgressBar bar("run", 1000, f, true, 3600.0);
    for (int i = 1; i <= 1000; ++i) bar.update(i, "m");
    EXPECT_EQ(bar.frames(), 2);
    bar.finish("final");
    EXPECT_EQ(bar.frames(), 3);
    bar.update(5, "ignored after finish");
    EXPECT_EQ(bar.frames(), 3);
  }
  const std::string s = read_all(f);
  EXPECT_EQ(s.front(), '\r');
  EXPECT_EQ(s.back(), '\n');
  EXPECT_NE(s.find("run [########################] 100%"), std::string::npos) << s;
  EXPECT_NE(s.find("final"), std::string::npos);
  EXPECT_EQ(s.find("ignored"), std::string::npos);
  std::fclose(f);
}

TEST(Progress, ShorterFramePadsOverTheLongerOne) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    gnm::ProgressBar bar("r", 2, f, true, 0.0);
    bar.update(1, "a long metrics text");
    bar.update(2, "short");
  }  // the destructor ends the unfinished line
  const std::string s = read_all(f);
  const auto second = s.rfind('\r');
  ASSERT_NE(second, std::string::npos);
  const std::string first_frame = s.substr(1, second - 1);
  const std::string last_frame = s.substr(second + 1, s.size() - second - 2);  // drop '\n'
  EXPECT_EQ(last_frame.size(), first_frame.size());
  EXPECT_EQ(s.back(), '\n');
  std::fclose(f);
}

}  // namespace
