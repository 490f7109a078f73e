// Exercise 5.1: parallel_sum against a double-precision reference within the bound of its error
// model, bitwise identical for every thread count, and a bad element's error propagated from a
// worker thread. Every test calls parallel_sum, so each fails on the stub.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/thread_pool.hpp"
#include "parallel_sum.hpp"

namespace {

using namespace gnm::ch05;

std::uint32_t bits(float v) {
  std::uint32_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

std::vector<float> uniform(std::size_t n, std::uint64_t seed, float lo, float hi) {
  std::vector<float> x(n);
  if (n > 0) gnm::fill_uniform(x, seed, lo, hi);
  return x;
}

// The definition the exercise asks for, written serially: the result parallel_sum must equal
// bit for bit on any pool.
float serial_blocked_sum(const std::vector<float>& x) {
  std::vector<float> partials;
  for (std::size_t start = 0; start < x.size(); start += kSumBlock) {
    const std::size_t len = std::min(kSumBlock, x.size() - start);
    partials.push_back(block_sum(std::span<const float>(x).subspan(start, len), start));
  }
  return pairwise_combine(partials);
}

TEST(ParallelSum, MatchesTheDoubleReferenceWithinTheErrorModel) {
  gnm::ThreadPool pool(2);
  // Odd sizes: 1, a lane's worth ± 1, a block ± 1, primes, several blocks plus a tail.
  for (std::size_t n : {1u, 15u, 16u, 17u, 4095u, 4096u, 4097u, 12289u, 65537u, 1000003u}) {
    for (const auto& [lo, hi] : {std::pair{0.0f, 1.0f}, std::pair{-1.0f, 1.0f}}) {
      const auto x = uniform(n, 5000 + n, lo, hi);
      double ref = 0, abs_sum = 0;
      for (float v : x) {
        ref += static_cast<double>(v);
        abs_sum += std::fabs(static_cast<double>(v));
      }
      const float got = parallel_sum(x, pool);
      const double bound = parallel_sum_error_bound(n, abs_sum);
      EXPECT_LE(std::fabs(static_cast<double>(got) - ref), bound)
          << "n = " << n << " range [" << lo << ", " << hi << "): got " << got << ", ref " << ref;
    }
  }
}

TEST(ParallelSum, IsBitwiseIdenticalForEveryThreadCount) {
  const auto x = uniform(300007, 77, 0.0f, 1.0f);
  const float want = serial_blocked_sum(x);
  for (int threads : {1, 2, 3, 4, 7}) {
    gnm::ThreadPool pool(threads);
    for (int repeat = 0; repeat < 3; ++repeat) {
      EXPECT_EQ(bits(parallel_sum(x, pool)), bits(want)) << threads << " threads, run " << repeat;
    }
  }
}

TEST(ParallelSum, EmptyAndTinyInputs) {
  gnm::ThreadPool pool(2);
  EXPECT_EQ(parallel_sum({}, pool), 0.0f);
  const std::vector<float> one = {2.5f};
  EXPECT_EQ(parallel_sum(one, pool), 2.5f);
  const std::vector<float> three = {1.0f, -4.0f, 0.25f};
  EXPECT_EQ(parallel_sum(three, pool), -2.75f);  // exact in fp32
}

TEST(ParallelSum, ANonFiniteElementIsReportedFromTheWorkerWithItsIndex) {
  gnm::ThreadPool pool(2);
  auto x = uniform(200000, 9, -1.0f, 1.0f);
  for (float poison : {std::numeric_limits<float>::quiet_NaN(),
                       std::numeric_limits<float>::infinity()}) {
    x[123457] = poison;  // in block 30 of 49: run by whichever thread claims it
    try {
      (void)parallel_sum(x, pool);
      ADD_FAILURE() << "a " << poison << " in the input must throw";
    } catch (const gnm::NotImplemented& e) {
      ADD_FAILURE() << e.what();
    } catch (const gnm::Error& e) {
      EXPECT_NE(std::string(e.what()).find("index = 123457"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
