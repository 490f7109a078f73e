// The error family: typed exceptions whose messages carry the condition, values and file:line.
#include <gtest/gtest.h>

#include <string>

#include "gnm/core/check.hpp"
#include "gnm/core/error.hpp"

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

void needs_positive(long n) { GNM_CHECK(n > 0, "n must be positive", n); }

}  // namespace

TEST(Error, CheckPassesSilently) { EXPECT_NO_THROW(needs_positive(3)); }

TEST(Error, CheckNamesConditionMessageValuesAndSite) {
  try {
    needs_positive(-3);
    FAIL() << "expected gnm::Error";
  } catch (const gnm::Error& e) {
    const std::string what = e.what();
    EXPECT_TRUE(contains(what, "check failed: n > 0")) << what;
    EXPECT_TRUE(contains(what, "n must be positive")) << what;
    EXPECT_TRUE(contains(what, "[n = -3]")) << what;
    EXPECT_TRUE(contains(what, "(at test_error.cpp:")) << what;
    EXPECT_EQ(e.file(), "test_error.cpp");
    EXPECT_GT(e.line(), 0);
  }
}

TEST(Error, CheckWithSeveralValuesAndNone) {
  const int rows = 3, cols = 4;
  try {
    GNM_CHECK_SHAPE(rows == cols, "matrix must be square", rows, cols);
    FAIL();
  } catch (const gnm::ShapeError& e) {
    EXPECT_TRUE(contains(e.what(), "[rows = 3, cols = 4]")) << e.what();
  }
  try {
    GNM_CHECK(rows > cols, "no values");
    FAIL();
  } catch (const gnm::Error& e) {
    EXPECT_TRUE(contains(e.what(), "check failed: rows > cols: no values (at")) << e.what();
  }
}

TEST(Error, CheckEvaluatesTheConditionOnce) {
  int calls = 0;
  auto f = [&] { return ++calls; };
  GNM_CHECK(f() == 1, "side effect", calls);
  EXPECT_EQ(calls, 1);
}

TEST(Error, TypedErrorsAreErrors) {
  EXPECT_THROW(throw gnm::ShapeError("s"), gnm::Error);
  EXPECT_THROW(throw gnm::IoError("io"), gnm::Error);
  EXPECT_THROW(throw gnm::NotImplemented("ni"), gnm::Error);
  EXPECT_THROW(throw gnm::CudaError(2, "oom", "x.cu", 7), gnm::Error);
  const gnm::CudaError e(35, "no driver", "/a/b/x.cu", 7);
  EXPECT_EQ(e.code(), 35);
  EXPECT_EQ(std::string(e.what()), "no driver (at x.cu:7)");
}

TEST(Error, TodoThrowsNotImplementedNamingTheExercise) {
  try {
    GNM_TODO("ex 0.4", "write the kernel");
    FAIL();
  } catch (const gnm::NotImplemented& e) {
    EXPECT_TRUE(contains(e.what(), "ex 0.4 is not written yet: write the kernel")) << e.what();
  }
}
