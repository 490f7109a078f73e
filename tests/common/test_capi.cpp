// The engine's C API (gnm/capi/gnm.h): results against double-precision references, every
// error forced on purpose (null and dead handles, shape mismatches, bad sizes and flags), the
// per-thread last error, and the compile-time guarantees (noexcept entry points, struct layout).
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "gnm/capi/gnm.h"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/gemm.hpp"

namespace {

// No exception can leave the boundary: in C++ every entry point is noexcept.
static_assert(noexcept(gnm_tensor_create(nullptr, nullptr)));
static_assert(noexcept(gnm_sgemm(0, 0, 1.0f, nullptr, nullptr, 0.0f, nullptr)));
static_assert(noexcept(gnm_tensor_free(nullptr)) && noexcept(gnm_last_error()));
static_assert(std::is_standard_layout_v<gnm_shape> && std::is_trivially_copyable_v<gnm_shape>);
static_assert(std::is_standard_layout_v<gnm_tensor_info> &&
              std::is_trivially_copyable_v<gnm_tensor_info>);
static_assert(std::is_same_v<gnm_status, std::int32_t>, "a fixed-width status, not a C enum");

std::string last() { return gnm_last_error(); }

gnm_shape shape_of(std::initializer_list<std::int64_t> dims) {
  gnm_shape s{};
  s.ndim = static_cast<std::int32_t>(dims.size());
  int i = 0;
  for (const auto d : dims) s.dims[i++] = d;
  return s;
}

// Owns a handle for the duration of a test.
struct Handle {
  gnm_tensor* t = nullptr;
  explicit Handle(std::initializer_list<std::int64_t> dims) {
    const gnm_shape s = shape_of(dims);
    EXPECT_EQ(gnm_tensor_create(&s, &t), GNM_OK) << last();
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { EXPECT_EQ(gnm_tensor_free(t), GNM_OK) << last(); }
};

TEST(CApi, VersionAndLayout) {
  EXPECT_EQ(gnm_api_version(), GNM_API_VERSION);
  EXPECT_STREQ(gnm_version_string(), "gnm 0.1.0 (C API 1)");
  EXPECT_EQ(sizeof(gnm_shape), 72u);
  EXPECT_EQ(offsetof(gnm_shape, reserved), 68u);
  EXPECT_EQ(sizeof(gnm_tensor_info), 152u);
  EXPECT_EQ(offsetof(gnm_tensor_info, strides), 88u);
  EXPECT_STREQ(gnm_status_name(GNM_ERROR_OUT_OF_MEMORY), "GNM_ERROR_OUT_OF_MEMORY");
  EXPECT_STREQ(gnm_status_name(99), "unknown status");
}

TEST(CApi, CreateIsZeroedAndDescribesItself) {
  const Handle h({2, 3, 4});
  gnm_shape s{};
  ASSERT_EQ(gnm_tensor_shape(h.t, &s), GNM_OK);
  EXPECT_EQ(s.ndim, 3);
  EXPECT_EQ(s.dims[2], 4);
  gnm_tensor_info info{};
  ASSERT_EQ(gnm_tensor_describe(h.t, &info), GNM_OK);
  EXPECT_EQ(info.numel, 24);
  EXPECT_EQ(info.strides[0], 12);
  EXPECT_EQ(info.strides[1], 4);
  EXPECT_EQ(info.strides[2], 1);
  EXPECT_EQ(info.strides[3], 0);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(info.data) % 64, 0u) << "64-byte aligned";
  for (std::int64_t i = 0; i < 24; ++i) EXPECT_EQ(info.data[i], 0.0f);
  EXPECT_EQ(last(), "");
}

TEST(CApi, ScalarsAndEmptyTensors) {
  const Handle scalar({});
  gnm_tensor_info info{};
  ASSERT_EQ(gnm_tensor_describe(scalar.t, &info), GNM_OK);
  EXPECT_EQ(info.numel, 1);
  const Handle empty({3, 0, 5});
  ASSERT_EQ(gnm_tensor_describe(empty.t, &info), GNM_OK);
  EXPECT_EQ(info.numel, 0);
  EXPECT_EQ(gnm_tensor_fill(empty.t, 1.0f), GNM_OK);
  EXPECT_EQ(gnm_tensor_read(empty.t, nullptr, 0), GNM_OK);
  const Handle huge_but_empty({1LL << 40, 1LL << 40, 0});  // the 0 makes it empty, not overflow
  ASSERT_EQ(gnm_tensor_describe(huge_but_empty.t, &info), GNM_OK);
  EXPECT_EQ(info.numel, 0);
}

TEST(CApi, WriteFillReadRoundTrip) {
  const Handle h({3, 5});
  std::vector<float> in(15), out(15, -1.0f);
  for (int i = 0; i < 15; ++i) in[static_cast<std::size_t>(i)] = 0.5f * static_cast<float>(i);
  ASSERT_EQ(gnm_tensor_write(h.t, in.data(), 15), GNM_OK);
  ASSERT_EQ(gnm_tensor_read(h.t, out.data(), 15), GNM_OK);
  EXPECT_EQ(in, out);
  ASSERT_EQ(gnm_tensor_fill(h.t, 2.5f), GNM_OK);
  ASSERT_EQ(gnm_tensor_read(h.t, out.data(), 15), GNM_OK);
  for (float v : out) EXPECT_EQ(v, 2.5f);
  ASSERT_EQ(gnm_tensor_fill_uniform(h.t, 9, -1.0f, 1.0f), GNM_OK);
  ASSERT_EQ(gnm_tensor_read(h.t, out.data(), 15), GNM_OK);
  for (float v : out) {
    EXPECT_GE(v, -1.0f);
    EXPECT_LT(v, 1.0f);
  }
}

// Every transpose combination, odd sizes, alpha and beta: against sgemm_reference in double,
// within K·eps·Σ|a·b| per element (the worst-case bound of an fp32 K-term dot product).
TEST(CApi, SgemmMatchesTheDoubleReference) {
  const std::int64_t M = 7, N = 11, K = 13;
  for (int ta = 0; ta <= 1; ++ta) {
    for (int tb = 0; tb <= 1; ++tb) {
      const Handle a(ta ? std::initializer_list<std::int64_t>{K, M} : std::initializer_list<std::int64_t>{M, K});
      const Handle b(tb ? std::initializer_list<std::int64_t>{N, K} : std::initializer_list<std::int64_t>{K, N});
      const Handle c({M, N});
      ASSERT_EQ(gnm_tensor_fill_uniform(a.t, 1, -1.0f, 1.0f), GNM_OK);
      ASSERT_EQ(gnm_tensor_fill_uniform(b.t, 2, -1.0f, 1.0f), GNM_OK);
      ASSERT_EQ(gnm_tensor_fill(c.t, 1.0f), GNM_OK);
      ASSERT_EQ(gnm_sgemm(ta, tb, 0.5f, a.t, b.t, 2.0f, c.t), GNM_OK) << last();
      // The reference needs A as M×K and B as K×N: transpose the stored data in double.
      gnm_tensor_info ia{}, ib{}, ic{};
      gnm_tensor_describe(a.t, &ia);
      gnm_tensor_describe(b.t, &ib);
      gnm_tensor_describe(c.t, &ic);
      std::vector<float> am(static_cast<std::size_t>(M * K)), bm(static_cast<std::size_t>(K * N));
      for (std::int64_t i = 0; i < M; ++i) {
        for (std::int64_t k = 0; k < K; ++k) {
          am[static_cast<std::size_t>(i * K + k)] = ta ? ia.data[k * M + i] : ia.data[i * K + k];
        }
      }
      for (std::int64_t k = 0; k < K; ++k) {
        for (std::int64_t j = 0; j < N; ++j) {
          bm[static_cast<std::size_t>(k * N + j)] = tb ? ib.data[j * K + k] : ib.data[k * N + j];
        }
      }
      std::vector<double> ref(static_cast<std::size_t>(M * N)), mass(ref.size());
      gnm::cpu::sgemm_reference(M, N, K, am.data(), K, bm.data(), N, ref, mass);
      for (std::size_t i = 0; i < ref.size(); ++i) {
        const double want = 0.5 * ref[i] + 2.0;  // alpha · A·B + beta · 1
        const double bound = double(K) * gnm::kEpsF32 * (0.5 * mass[i] + 2.0);
        ASSERT_LE(std::fabs(double(ic.data[i]) - want), bound) << "ta " << ta << " tb " << tb;
      }
    }
  }
}

TEST(CApi, SgemmWithBetaZeroIgnoresNaNInC) {
  const Handle a({2, 2}), b({2, 2}), c({2, 2});
  ASSERT_EQ(gnm_tensor_fill(a.t, 1.0f), GNM_OK);
  ASSERT_EQ(gnm_tensor_fill(b.t, 2.0f), GNM_OK);
  ASSERT_EQ(gnm_tensor_fill(c.t, std::numeric_limits<float>::quiet_NaN()), GNM_OK);
  ASSERT_EQ(gnm_sgemm(GNM_NO_TRANSPOSE, GNM_NO_TRANSPOSE, 1.0f, a.t, b.t, 0.0f, c.t), GNM_OK);
  float out[4];
  ASSERT_EQ(gnm_tensor_read(c.t, out, 4), GNM_OK);
  for (float v : out) EXPECT_EQ(v, 4.0f);
}

TEST(CApi, NullPointersAreInvalidArguments) {
  const Handle h({2, 2});
  gnm_shape s = shape_of({2, 2});
  gnm_tensor_info info{};
  float buf[4] = {};
  gnm_tensor* dummy = nullptr;
  EXPECT_EQ(gnm_tensor_create(nullptr, &dummy), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gnm_tensor_create(&s, nullptr), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(last().find("'out' is null"), std::string::npos) << last();
  EXPECT_EQ(gnm_tensor_shape(nullptr, &s), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gnm_tensor_shape(h.t, nullptr), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gnm_tensor_describe(nullptr, &info), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gnm_tensor_describe(h.t, nullptr), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gnm_tensor_fill(nullptr, 0.0f), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gnm_tensor_fill_uniform(nullptr, 1, 0.0f, 1.0f), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gnm_tensor_write(nullptr, buf, 4), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gnm_tensor_write(h.t, nullptr, 4), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gnm_tensor_read(nullptr, buf, 4), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gnm_tensor_read(h.t, nullptr, 4), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gnm_sgemm(0, 0, 1.0f, nullptr, h.t, 0.0f, h.t), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(last().find("'a' is null"), std::string::npos) << last();
  EXPECT_EQ(gnm_sgemm(0, 0, 1.0f, h.t, nullptr, 0.0f, h.t), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gnm_sgemm(0, 0, 1.0f, h.t, h.t, 0.0f, nullptr), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(dummy, nullptr);
}

TEST(CApi, BadShapesAndSizes) {
  gnm_tensor* t = reinterpret_cast<gnm_tensor*>(std::uintptr_t{0x1234});  // must be reset to NULL
  gnm_shape s = shape_of({4, -3});
  EXPECT_EQ(gnm_tensor_create(&s, &t), GNM_ERROR_SHAPE);
  EXPECT_EQ(t, nullptr);
  EXPECT_NE(last().find("(4, -3)"), std::string::npos) << last();
  s = shape_of({1LL << 40, 1LL << 40});
  EXPECT_EQ(gnm_tensor_create(&s, &t), GNM_ERROR_SHAPE);
  EXPECT_NE(last().find("overflows"), std::string::npos) << last();
  s = shape_of({2});
  s.ndim = GNM_MAX_DIMS + 1;
  EXPECT_EQ(gnm_tensor_create(&s, &t), GNM_ERROR_SHAPE);
  s.ndim = -1;
  EXPECT_EQ(gnm_tensor_create(&s, &t), GNM_ERROR_SHAPE);
  s = shape_of({2});
  s.reserved = 7;
  EXPECT_EQ(gnm_tensor_create(&s, &t), GNM_ERROR_SHAPE);
  EXPECT_EQ(t, nullptr);

  const Handle h({2, 3});
  float buf[7] = {};
  EXPECT_EQ(gnm_tensor_write(h.t, buf, 7), GNM_ERROR_SHAPE);
  EXPECT_NE(last().find("count = 7"), std::string::npos) << last();
  EXPECT_EQ(gnm_tensor_read(h.t, buf, 5), GNM_ERROR_SHAPE);
  EXPECT_EQ(gnm_tensor_fill_uniform(h.t, 1, 1.0f, 1.0f), GNM_ERROR_INVALID_ARGUMENT) << "lo == hi";
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
TEST(CApi, OutOfMemoryIsAStatus) { GTEST_SKIP() << "sanitizers abort on huge allocations"; }
#else
TEST(CApi, OutOfMemoryIsAStatus) {
  gnm_tensor* t = nullptr;
  const gnm_shape s = shape_of({1LL << 25, 1LL << 25});  // 2^50 floats = 4 PiB: valid, too big
  EXPECT_EQ(gnm_tensor_create(&s, &t), GNM_ERROR_OUT_OF_MEMORY);
  EXPECT_EQ(t, nullptr);
  EXPECT_NE(last().find("out of memory"), std::string::npos) << last();
}
#endif

TEST(CApi, SgemmShapeErrorsNameTheShapes) {
  const Handle a({2, 3}), b({4, 5}), c({2, 5}), v({3});
  EXPECT_EQ(gnm_sgemm(0, 0, 1.0f, a.t, b.t, 0.0f, c.t), GNM_ERROR_SHAPE);
  EXPECT_NE(last().find("(2, 3)"), std::string::npos) << last();
  EXPECT_NE(last().find("(4, 5)"), std::string::npos) << last();
  EXPECT_EQ(gnm_sgemm(1, 0, 1.0f, a.t, b.t, 0.0f, c.t), GNM_ERROR_SHAPE);  // aᵀ is 3×2
  EXPECT_EQ(gnm_sgemm(0, 0, 1.0f, a.t, v.t, 0.0f, c.t), GNM_ERROR_SHAPE);  // 1-D
  const Handle b2({3, 4});
  EXPECT_EQ(gnm_sgemm(0, 0, 1.0f, a.t, b2.t, 0.0f, c.t), GNM_ERROR_SHAPE);  // c is 2×5, not 2×4
  EXPECT_NE(last().find("(2, 5)"), std::string::npos) << last();
  EXPECT_EQ(gnm_sgemm(2, 0, 1.0f, a.t, b2.t, 0.0f, c.t), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gnm_sgemm(0, -1, 1.0f, a.t, b2.t, 0.0f, c.t), GNM_ERROR_INVALID_ARGUMENT);
  const Handle sq({3, 3});
  EXPECT_EQ(gnm_sgemm(0, 0, 1.0f, sq.t, sq.t, 0.0f, sq.t), GNM_ERROR_INVALID_ARGUMENT)
      << "c aliasing a";
}

TEST(CApi, DeadHandlesAreReportedNotDereferenced) {
  gnm_tensor* t = nullptr;
  const gnm_shape s = shape_of({4});
  ASSERT_EQ(gnm_tensor_create(&s, &t), GNM_OK);
  ASSERT_EQ(gnm_tensor_free(t), GNM_OK);
  EXPECT_EQ(gnm_tensor_free(t), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(last().find("freed twice"), std::string::npos) << last();
  EXPECT_EQ(gnm_tensor_fill(t, 1.0f), GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(last().find("not a live"), std::string::npos) << last();
  int not_a_tensor = 0;
  EXPECT_EQ(gnm_tensor_fill(reinterpret_cast<gnm_tensor*>(&not_a_tensor), 1.0f),
            GNM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gnm_tensor_free(nullptr), GNM_OK) << "free(NULL) is a no-op";
}

TEST(CApi, LastErrorIsClearedBySuccessAndKeptPerThread) {
  EXPECT_EQ(gnm_tensor_fill(nullptr, 0.0f), GNM_ERROR_INVALID_ARGUMENT);
  const std::string mine = last();
  ASSERT_FALSE(mine.empty());
  std::string other_before, other_after;
  std::thread worker([&] {
    other_before = gnm_last_error();
    gnm_tensor_fill_uniform(nullptr, 0, 0.0f, 1.0f);
    other_after = gnm_last_error();
  });
  worker.join();
  EXPECT_EQ(other_before, "");
  EXPECT_FALSE(other_after.empty());
  EXPECT_EQ(last(), mine) << "the worker's failure must not change this thread's message";
  const Handle h({1});
  EXPECT_EQ(last(), "") << "a successful call clears the message";
}

}  // namespace
