// Exercise 4.3: translate_exception() and the C entry point that relies on it. Every exception
// type maps to its status and message; nothing escapes; a success clears the message; messages
// are per thread and truncated, never overflowed. Every test goes through translate_exception(),
// so each fails on the stub (whose NotImplemented escapes from the catch block).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "c_boundary.hpp"
#include "gnm/core/error.hpp"

namespace {

using gnm::ch04::translate_exception;

// The status translate_exception() gives for `thrown`, thrown and caught as a C entry point would.
template <class Thrower>
gnm_status status_of(Thrower thrower) {
  try {
    thrower();
  } catch (...) {
    return translate_exception();
  }
  ADD_FAILURE() << "the thrower did not throw";
  return GNM_OK;
}

std::string last() { return ch04_last_error(); }

TEST(Ch04CBoundary, EachErrorTypeMapsToItsStatusAndMessage) {
  EXPECT_EQ(status_of([] { throw gnm::ShapeError("shapes (2, 3) and (4, 5)"); }), GNM_ERROR_SHAPE);
  EXPECT_EQ(last(), "shapes (2, 3) and (4, 5)");
  EXPECT_EQ(status_of([] { throw gnm::NotImplemented("no CUDA here"); }),
            GNM_ERROR_NOT_IMPLEMENTED);
  EXPECT_EQ(last(), "no CUDA here");
  EXPECT_EQ(status_of([] { throw gnm::IoError("cannot open 'x.bin'"); }), GNM_ERROR_IO);
  EXPECT_EQ(last(), "cannot open 'x.bin'");
  EXPECT_EQ(status_of([] { throw gnm::Error("lo must be < hi"); }), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(last(), "lo must be < hi");
}

TEST(Ch04CBoundary, NonEngineExceptionsAreInternalErrors) {
  EXPECT_EQ(status_of([] { throw std::bad_alloc(); }), GNM_ERROR_OUT_OF_MEMORY);
  EXPECT_EQ(last(), "out of memory");
  EXPECT_EQ(status_of([] { throw std::runtime_error("vector::at"); }), GNM_ERROR_INTERNAL);
  EXPECT_EQ(last(), "internal error: vector::at");
  EXPECT_EQ(status_of([] { throw 42; }), GNM_ERROR_INTERNAL);
  EXPECT_EQ(last(), "internal error: unknown exception");
}

TEST(Ch04CBoundary, LongMessagesAreTruncatedNotOverflowed) {
  const std::string long_message(3 * gnm::ch04::kLastErrorCapacity, 'x');
  EXPECT_EQ(status_of([&] { throw gnm::ShapeError(long_message); }), GNM_ERROR_SHAPE);
  EXPECT_EQ(last(), long_message.substr(0, gnm::ch04::kLastErrorCapacity - 1));
}

TEST(Ch04CBoundary, EntryPointReturnsCodesInsteadOfThrowing) {
  const float x[6] = {3, 4, 0, 0, 1, 0};
  float out[3] = {-1, -1, -1};
  EXPECT_EQ(ch04_row_norms(nullptr, 2, 3, out), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(last().find("null pointer"), std::string::npos) << last();
  EXPECT_EQ(ch04_row_norms(x, -1, 3, out), GNM_ERROR_SHAPE);
  EXPECT_NE(last().find("rows = -1"), std::string::npos) << last();
  const float bad[2] = {1.0f, std::numeric_limits<float>::infinity()};
  EXPECT_EQ(ch04_row_norms(bad, 1, 2, out), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(last().find("non-finite"), std::string::npos) << last();
  // A success after failures clears the message and computes the norms.
  EXPECT_EQ(ch04_row_norms(x, 3, 2, out), GNM_OK);
  EXPECT_EQ(last(), "");
  EXPECT_EQ(out[0], 5.0f);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_EQ(out[2], 1.0f);
}

TEST(Ch04CBoundary, LastErrorIsPerThread) {
  EXPECT_EQ(ch04_row_norms(nullptr, 1, 1, nullptr), GNM_ERROR_INVALID_ARGUMENT);
  const std::string here = last();
  std::string there = "unset";
  std::thread worker([&] {
    there = ch04_last_error();  // a new thread has no error yet
    float out = 0;
    const float one = 1.0f;
    EXPECT_EQ(ch04_row_norms(&one, 1, 1, &out), GNM_OK);
    EXPECT_EQ(status_of([] { throw gnm::IoError("worker's own error"); }), GNM_ERROR_IO);
  });
  worker.join();
  EXPECT_EQ(there, "");
  EXPECT_EQ(last(), here) << "another thread's failure must not overwrite this thread's message";
}

}  // namespace
