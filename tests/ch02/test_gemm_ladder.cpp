// Exercises 2.3 and 2.4: every rung of the GEMM ladder against a double-precision reference on
// odd shapes, with NaN in every padding (it must be neither read nor written).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gemm_ladder.hpp"
#include "padded_matrix.hpp"
#include "gnm/core/aligned_buffer.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/thread_pool.hpp"
#include "gnm/core/verify.hpp"

namespace {

using Index = std::int64_t;
using Gemm = std::function<void(Index, Index, Index, const float*, Index, const float*, Index,
                                float*, Index)>;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Version {
  const char* name;
  Gemm fn;
};

using Matrix = gnm::test::PaddedMatrix;

// Runs `version` on A (M×K), B (K×N) and a C holding random values, and checks C += A·B against
// a double reference. Error model: each element adds a K-term fp32 dot product (each product and
// each addition rounded, in any order) to c0; that errs by at most γ_{K+1} (Σ|a b| + |c0|) with
// γ_n = n·u/(1 − n·u) ≈ n·u, u = 2^-24 = eps/2. We allow (K + 2) · eps, about twice the worst
// case: rigorous rather than tuned, yet one missing or doubled term (|a b| ≈ 1/4 on average) is
// far outside it. NaN in the padding of A or B would poison C if read; C's padding must stay NaN.
::testing::AssertionResult check_product(const Version& version, Index M, Index N, Index K,
                                         Index pad) {
  const Matrix A(M, K, pad, 11), B(K, N, pad, 12), C0(M, N, pad, 13);
  std::vector<float> c = C0.v;
  version.fn(M, N, K, A.v.data(), A.ld, B.v.data(), B.ld, c.data(), C0.ld);
  std::ostringstream msg;
  Index bad = 0;
  for (Index i = 0; i < M; ++i) {
    for (Index j = 0; j < C0.ld; ++j) {
      const float got = c[static_cast<std::size_t>(i * C0.ld + j)];
      if (j >= N) {
        if (!std::isnan(got) && bad++ < 5) msg << "\n  padding C[" << i << "][" << j << "] written";
        continue;
      }
      double ref = C0.at(i, j), scale = std::fabs(static_cast<double>(C0.at(i, j)));
      for (Index k = 0; k < K; ++k) {
        const double p = static_cast<double>(A.at(i, k)) * static_cast<double>(B.at(k, j));
        ref += p;
        scale += std::fabs(p);
      }
      const double err = std::fabs(static_cast<double>(got) - ref);
      const double bound = static_cast<double>(K + 2) * gnm::kEpsF32 * scale;
      if (!(err <= bound) && bad++ < 5) {
        msg << "\n  C[" << i << "][" << j << "] = " << got << ", expected " << ref << " (error "
            << err << " > " << bound << ")";
      }
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << version.name << " on " << M << "x" << N << "x" << K
                                       << " (pad " << pad << "): " << bad << " bad elements"
                                       << msg.str();
}

// Odd shapes: 1×1×1, primes, not multiples of the 6×16 tile or the blocks, K = 1.
const Index kOddShapes[][3] = {{1, 1, 1},   {37, 53, 71}, {6, 16, 256}, {7, 17, 257}, {5, 15, 3},
                               {13, 1, 29}, {1, 31, 64},  {100, 70, 1}, {64, 48, 32}};

void check_shapes(const Version& v, std::initializer_list<std::array<Index, 3>> extra = {}) {
  for (const auto& s : kOddShapes) {
    for (Index pad : {0, 3}) EXPECT_TRUE(check_product(v, s[0], s[1], s[2], pad));
  }
  for (const auto& s : extra) EXPECT_TRUE(check_product(v, s[0], s[1], s[2], 5));
}

Version threaded(gnm::ThreadPool& pool) {
  return {"sgemm_threaded", [&pool](Index M, Index N, Index K, const float* A, Index lda,
                                    const float* B, Index ldb, float* C, Index ldc) {
            gnm::ch02::sgemm_threaded(M, N, K, A, lda, B, ldb, C, ldc, pool);
          }};
}

}  // namespace

TEST(Ch02Gemm, LoopOrdersMatchReference) {  // ex 2.3 (and the given naive version)
  check_shapes({"sgemm_naive", gnm::ch02::sgemm_naive});
  check_shapes({"sgemm_ikj", gnm::ch02::sgemm_ikj});
  check_shapes({"sgemm_jki", gnm::ch02::sgemm_jki});
}

TEST(Ch02Gemm, BlockedMatchesReferenceAcrossBlockEdges) {  // ex 2.3
  using namespace gnm::ch02;
  // Shapes that cross kBlockM (64), kBlockK (128) and kBlockN (512) by one or a few elements.
  check_shapes({"sgemm_blocked", sgemm_blocked},
               {{kBlockM + 1, 19, kBlockK + 1}, {3, kBlockN + 7, 2 * kBlockK + 5}, {130, 515, 129}});
}

TEST(Ch02Gemm, PackALayoutWithZeroPadding) {  // ex 2.4
  using gnm::ch02::kMR;
  const Index mc = kMR + 1, kc = 3, lda = 5;
  std::vector<float> a(static_cast<std::size_t>(mc * lda), kNaN);
  for (Index i = 0; i < mc; ++i) {
    for (Index p = 0; p < kc; ++p) a[static_cast<std::size_t>(i * lda + p)] = float(100 * i + p);
  }
  std::vector<float> dst(static_cast<std::size_t>(2 * kMR * kc), kNaN);
  gnm::ch02::pack_a(mc, kc, a.data(), lda, dst.data());
  for (Index panel = 0; panel < 2; ++panel) {
    for (Index p = 0; p < kc; ++p) {
      for (Index i = 0; i < kMR; ++i) {
        const Index row = panel * kMR + i;
        const float want = row < mc ? float(100 * row + p) : 0.0f;
        EXPECT_EQ(dst[static_cast<std::size_t>(panel * kMR * kc + p * kMR + i)], want)
            << "panel " << panel << ", p " << p << ", i " << i;
      }
    }
  }
}

TEST(Ch02Gemm, PackBLayoutWithZeroPadding) {  // ex 2.4
  using gnm::ch02::kNR;
  const Index nc = kNR + 3, kc = 2, ldb = nc + 4;
  std::vector<float> b(static_cast<std::size_t>(kc * ldb), kNaN);
  for (Index p = 0; p < kc; ++p) {
    for (Index j = 0; j < nc; ++j) b[static_cast<std::size_t>(p * ldb + j)] = float(1000 * p + j);
  }
  gnm::AlignedBuffer<float> dst(static_cast<std::size_t>(2 * kNR * kc));
  std::fill(dst.begin(), dst.end(), kNaN);
  gnm::ch02::pack_b(kc, nc, b.data(), ldb, dst.data());
  for (Index panel = 0; panel < 2; ++panel) {
    for (Index p = 0; p < kc; ++p) {
      for (Index j = 0; j < kNR; ++j) {
        const Index col = panel * kNR + j;
        const float want = col < nc ? float(1000 * p + col) : 0.0f;
        EXPECT_EQ(dst[static_cast<std::size_t>(panel * kNR * kc + p * kNR + j)], want)
            << "panel " << panel << ", p " << p << ", j " << j;
      }
    }
  }
}

TEST(Ch02Gemm, MicroKernelFullAndEdgeTiles) {  // ex 2.4
  using gnm::ch02::kMR;
  using gnm::ch02::kNR;
  const Index kc = 5, ldc = kNR + 2;
  // Small integers: every product and sum is exact in fp32, so the result must be exact.
  gnm::AlignedBuffer<float> a(static_cast<std::size_t>(kc * kMR)), b(static_cast<std::size_t>(kc * kNR));
  for (Index p = 0; p < kc; ++p) {
    for (Index i = 0; i < kMR; ++i) a[static_cast<std::size_t>(p * kMR + i)] = float(i + p);
    for (Index j = 0; j < kNR; ++j) b[static_cast<std::size_t>(p * kNR + j)] = float(j - p);
  }
  for (const auto& [mr, nr] : {std::pair<Index, Index>{kMR, kNR}, {4, 9}, {1, 1}, {kMR, 3}}) {
    std::vector<float> c(static_cast<std::size_t>(kMR * ldc), kNaN);
    for (Index i = 0; i < mr; ++i) {
      for (Index j = 0; j < nr; ++j) c[static_cast<std::size_t>(i * ldc + j)] = 1.0f;
    }
    gnm::ch02::micro_kernel_6x16(kc, a.data(), b.data(), c.data(), ldc, mr, nr);
    for (Index i = 0; i < kMR; ++i) {
      for (Index j = 0; j < ldc; ++j) {
        const float got = c[static_cast<std::size_t>(i * ldc + j)];
        if (i >= mr || j >= nr) {
          EXPECT_TRUE(std::isnan(got)) << "outside the " << mr << "x" << nr << " tile: C[" << i
                                       << "][" << j << "] was written";
          continue;
        }
        float want = 1.0f;
        for (Index p = 0; p < kc; ++p) want += float(i + p) * float(j - p);
        EXPECT_EQ(got, want) << mr << "x" << nr << " tile, C[" << i << "][" << j << "]";
      }
    }
  }
}

TEST(Ch02Gemm, PackedMatchesReferenceAcrossBlockEdges) {  // ex 2.4
  using namespace gnm::ch02;
  check_shapes({"sgemm_packed", sgemm_packed},
               {{kMC + 1, 33, kKC + 1}, {2 * kMC + 7, 2 * kNR + 1, 2 * kKC + 3}, {7, kNC + 9, 20}});
}

TEST(Ch02Gemm, ThreadedMatchesReferenceOnOneTwoThreeThreads) {  // uses the ex 2.4 parts
  using namespace gnm::ch02;
  for (int threads : {1, 2, 3}) {
    gnm::ThreadPool pool(threads);
    check_shapes(threaded(pool), {{3 * kMC + 5, 40, kKC + 9}});
    // Threads split rows, never the sum over k: the result is bitwise that of v4.
    const Index M = 2 * kMC + 31, N = kNR + 5, K = kKC + 3;
    const Matrix A(M, K, 0, 21), B(K, N, 0, 22), C0(M, N, 0, 23);
    std::vector<float> serial = C0.v, parallel = C0.v;
    sgemm_packed(M, N, K, A.v.data(), K, B.v.data(), N, serial.data(), N);
    sgemm_threaded(M, N, K, A.v.data(), K, B.v.data(), N, parallel.data(), N, pool);
    EXPECT_EQ(serial, parallel) << threads << " threads";
  }
}

TEST(Ch02Gemm, EmptyDimensionsLeaveCUnchanged) {  // ex 2.3 and 2.4
  gnm::ThreadPool pool(2);
  const std::vector<Version> versions = {
      {"sgemm_ikj", gnm::ch02::sgemm_ikj},         {"sgemm_jki", gnm::ch02::sgemm_jki},
      {"sgemm_blocked", gnm::ch02::sgemm_blocked}, {"sgemm_packed", gnm::ch02::sgemm_packed},
      {"sgemm_naive", gnm::ch02::sgemm_naive},     threaded(pool)};
  for (const auto& v : versions) {
    for (const auto& s : {std::array<Index, 3>{0, 5, 3}, {4, 0, 3}, {4, 5, 0}, {0, 0, 0}}) {
      EXPECT_TRUE(check_product(v, s[0], s[1], s[2], 2));  // K = 0: C keeps its values exactly
    }
  }
}

TEST(Ch02Gemm, BadShapesAreShapeErrorsNamingTheValues) {  // ex 2.3 and 2.4
  gnm::ThreadPool pool(2);
  for (const Version& v : {Version{"sgemm_ikj", gnm::ch02::sgemm_ikj},
                           Version{"sgemm_blocked", gnm::ch02::sgemm_blocked},
                           Version{"sgemm_packed", gnm::ch02::sgemm_packed}, threaded(pool)}) {
    EXPECT_TRUE(check_product(v, 3, 4, 5, 0));  // a valid call first: the stub must fail here
    std::vector<float> buf(64, 0.0f);
    auto expect_error = [&](Index M, Index N, Index K, Index lda, Index ldb, Index ldc,
                            const std::string& part) {
      try {
        v.fn(M, N, K, buf.data(), lda, buf.data(), ldb, buf.data(), ldc);
        ADD_FAILURE() << v.name << ": expected gnm::ShapeError containing '" << part << "'";
      } catch (const gnm::ShapeError& e) {
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      }
    };
    expect_error(-1, 2, 2, 2, 2, 2, "M = -1");
    expect_error(3, 4, 5, 4, 4, 4, "lda = 4");
    expect_error(3, 4, 5, 5, 3, 4, "ldb = 3");
    expect_error(3, 4, 5, 5, 4, 2, "ldc = 2");
  }
}
