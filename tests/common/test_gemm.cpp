// The engine's SGEMM against a double-precision reference: odd shapes, every transpose
// combination, alpha/beta, padded leading dimensions, 1 and 2 threads, the OpenBLAS backend, and
// shape errors that name the values. The correctness tests run once per micro-kernel (portable,
// AVX2, AVX-512); a kernel this CPU or build cannot run is skipped with the reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "padded_matrix.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/thread_pool.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/gemm.hpp"

#if GNM_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace {

using gnm::cpu::CpuKernel;
using gnm::cpu::Transpose;
using Index = std::int64_t;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Case {
  Index M, N, K;
  Transpose ta = Transpose::No;
  Transpose tb = Transpose::No;
  float alpha = 1.0f;
  float beta = 0.0f;
  Index pad = 0;  // extra elements per row of A, B and C beyond the width (leading dims)
};

std::string describe(const Case& c, int threads) {
  std::ostringstream s;
  s << c.M << "x" << c.N << "x" << c.K << " ta=" << (c.ta == Transpose::Yes ? "T" : "N")
    << " tb=" << (c.tb == Transpose::Yes ? "T" : "N") << " alpha=" << c.alpha
    << " beta=" << c.beta << " pad=" << c.pad << " threads=" << threads;
  return s.str();
}

using Stored = gnm::test::PaddedMatrix;

struct Operands {
  Stored A, B, C;  // C holds the initial values (NaN everywhere when beta == 0)
  explicit Operands(const Case& c)
      : A(c.ta == Transpose::No ? c.M : c.K, c.ta == Transpose::No ? c.K : c.M, c.pad, 1),
        B(c.tb == Transpose::No ? c.K : c.N, c.tb == Transpose::No ? c.N : c.K, c.pad, 2),
        C(c.M, c.N, c.pad, 3) {
    if (c.beta == 0.0f) std::fill(C.v.begin(), C.v.end(), kNaN);  // must be overwritten
  }
  float a(const Case& c, Index i, Index k) const {
    return c.ta == Transpose::No ? A.at(i, k) : A.at(k, i);
  }
  float b(const Case& c, Index k, Index j) const {
    return c.tb == Transpose::No ? B.at(k, j) : B.at(j, k);
  }
};

// Checks `got` (a C with the layout of ops.C) against the double reference. Error model: each
// element is alpha · (a K-term fp32 dot product) + beta · c. Summing K products with FMAs in any
// order errs by at most γ_K · Σ_k |a_ik b_kj| with γ_K = K·u/(1 − K·u) ≈ K·u, u = eps/2 = 2^-24;
// scaling by alpha, adding beta · c and the final rounding add a few more units of u relative to
// |alpha| Σ|a b| + |beta c|. We allow (K + 4) · eps, i.e. twice that worst case: the bound is
// rigorous, not tuned, yet a missing or repeated term (|a b| ~ 1/4 on average) is far outside it.
// The ldc padding must still be NaN (never written).
::testing::AssertionResult matches_reference(const Case& c, const Operands& ops,
                                             const std::vector<float>& got) {
  int reported = 0;
  Index bad = 0;
  std::ostringstream msg;
  for (Index i = 0; i < c.M; ++i) {
    for (Index j = 0; j < ops.C.ld; ++j) {
      const float g = got[static_cast<std::size_t>(i * ops.C.ld + j)];
      if (j >= c.N) {
        if (!std::isnan(g)) {
          ++bad;
          if (reported++ < 5) msg << "\n  padding C[" << i << "][" << j << "] written: " << g;
        }
        continue;
      }
      double dot = 0.0, abs_dot = 0.0;
      for (Index k = 0; k < c.K; ++k) {
        const double p = static_cast<double>(ops.a(c, i, k)) * static_cast<double>(ops.b(c, k, j));
        dot += p;
        abs_dot += std::fabs(p);
      }
      const double c0 = c.beta == 0.0f ? 0.0 : static_cast<double>(ops.C.at(i, j));
      const double ref = static_cast<double>(c.alpha) * dot + static_cast<double>(c.beta) * c0;
      const double scale =
          std::fabs(static_cast<double>(c.alpha)) * abs_dot + std::fabs(static_cast<double>(c.beta) * c0);
      const double bound = static_cast<double>(c.K + 4) * gnm::kEpsF32 * scale;
      const double err = std::fabs(static_cast<double>(g) - ref);
      if (!(err <= bound)) {  // also catches NaN
        ++bad;
        if (reported++ < 5) {
          msg << "\n  C[" << i << "][" << j << "] = " << g << ", expected " << ref << " (error "
              << err << " > bound " << bound << ")";
        }
      }
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " bad elements" << msg.str();
}

std::vector<float> run_engine(const Case& c, const Operands& ops, gnm::ThreadPool& pool) {
  std::vector<float> out = ops.C.v;
  gnm::cpu::sgemm_engine(c.ta, c.tb, c.M, c.N, c.K, c.alpha, ops.A.v.data(), ops.A.ld,
                         ops.B.v.data(), ops.B.ld, c.beta, out.data(), ops.C.ld, &pool);
  return out;
}

const Index kShapes[][3] = {
    {1, 1, 1},      {37, 53, 71},  {6, 16, 256},  {7, 17, 257}, {5, 15, 3},
    {13, 1, 29},    {1, 31, 64},   {100, 70, 1},  {2, 3, 300},  {150, 300, 260},
    {290, 33, 513}, {7, 4100, 20}, {64, 48, 32},
    {5, 1000, 300},  // one row block: with 2 threads the columns are split instead
    // Around the AVX-512 kernel's 14×32 tile, KC = 512 and MC = 168 (NC = 2048: 7x4100x20).
    {14, 32, 512},  {15, 33, 513}, {28, 64, 1025}, {169, 65, 200}, {337, 97, 40},
};

// Runs each test once per kernel; SetUp selects it (or skips, naming what is missing), TearDown
// restores the kernel that was active before.
class SgemmKernel : public ::testing::TestWithParam<CpuKernel> {
 protected:
  void SetUp() override {
    saved_ = gnm::cpu::cpu_kernel();
    const CpuKernel k = GetParam();
    if (!gnm::cpu::cpu_kernel_supported(k)) {
      // Asking for it anyway must be a NotImplemented that says why; that reason is the skip's.
      try {
        gnm::cpu::set_cpu_kernel(k);
      } catch (const gnm::NotImplemented& e) {
        GTEST_SKIP() << e.what();
      }
      FAIL() << "set_cpu_kernel accepted the unsupported kernel " << gnm::cpu::cpu_kernel_name(k);
    }
    gnm::cpu::set_cpu_kernel(k);
    ASSERT_EQ(gnm::cpu::cpu_kernel(), k);
    ASSERT_STREQ(gnm::cpu::sgemm_config().kernel, gnm::cpu::cpu_kernel_name(k));
  }
  void TearDown() override { gnm::cpu::set_cpu_kernel(saved_); }

 private:
  CpuKernel saved_ = CpuKernel::Auto;
};

std::string kernel_test_name(const ::testing::TestParamInfo<CpuKernel>& info) {
  switch (info.param) {
    case CpuKernel::Portable: return "portable";
    case CpuKernel::Avx2: return "avx2";
    case CpuKernel::Avx512: return "avx512";
    default: return "auto";
  }
}

}  // namespace

namespace gnm::cpu {
// Names the kernel in gtest's output (instead of "4-byte object <01-00 00-00>").
void PrintTo(CpuKernel k, std::ostream* os) { *os << cpu_kernel_name(k); }
}  // namespace gnm::cpu

INSTANTIATE_TEST_SUITE_P(Kernels, SgemmKernel,
                         ::testing::Values(CpuKernel::Portable, CpuKernel::Avx2,
                                           CpuKernel::Avx512),
                         kernel_test_name);

TEST_P(SgemmKernel, OddShapesAllTransposesOneAndTwoThreads) {
  gnm::ThreadPool one(1), two(2);
  for (const auto& s : kShapes) {
    for (Transpose ta : {Transpose::No, Transpose::Yes}) {
      for (Transpose tb : {Transpose::No, Transpose::Yes}) {
        const Case c{s[0], s[1], s[2], ta, tb, 1.0f, 0.0f, 0};
        const Operands ops(c);
        for (gnm::ThreadPool* pool : {&one, &two}) {
          EXPECT_TRUE(matches_reference(c, ops, run_engine(c, ops, *pool)))
              << describe(c, pool->size());
        }
      }
    }
  }
}

TEST_P(SgemmKernel, AlphaBetaAndPaddedLeadingDimensions) {
  gnm::ThreadPool two(2);
  for (const auto& s : {std::array<Index, 3>{37, 53, 71}, std::array<Index, 3>{150, 300, 260}}) {
    for (float alpha : {1.0f, -0.5f, 2.0f}) {
      for (float beta : {0.0f, 1.0f, -1.5f}) {
        for (Index pad : {0, 3, 16}) {
          const Case c{s[0], s[1], s[2], Transpose::Yes, Transpose::No, alpha, beta, pad};
          const Operands ops(c);
          EXPECT_TRUE(matches_reference(c, ops, run_engine(c, ops, two))) << describe(c, 2);
        }
      }
    }
  }
}

TEST_P(SgemmKernel, BetaZeroOverwritesNaNAndKZeroScales) {
  gnm::ThreadPool two(2);
  for (float beta : {0.0f, 0.5f}) {
    const Case c{9, 21, 0, Transpose::No, Transpose::No, 1.0f, beta, 2};
    const Operands ops(c);  // beta == 0: C is NaN everywhere
    const auto got = run_engine(c, ops, two);
    EXPECT_TRUE(matches_reference(c, ops, got)) << describe(c, 2);
  }
  // alpha == 0 reads neither A nor B (NaN there does not matter), C = beta · C.
  const Case c{4, 5, 6, Transpose::No, Transpose::No, 0.0f, 0.0f, 1};
  Operands ops(c);
  std::fill(ops.A.v.begin(), ops.A.v.end(), kNaN);
  const auto got = run_engine(c, ops, two);
  for (Index i = 0; i < c.M; ++i) {
    for (Index j = 0; j < c.N; ++j) EXPECT_EQ(got[static_cast<std::size_t>(i * ops.C.ld + j)], 0.0f);
  }
}

TEST_P(SgemmKernel, EmptyDimensionsTouchNothing) {
  gnm::ThreadPool two(2);
  std::vector<float> c(8, kNaN);
  const float a = 1.0f, b = 1.0f;
  gnm::cpu::sgemm_engine(Transpose::No, Transpose::No, 0, 4, 3, 1.0f, &a, 3, &b, 4, 0.0f,
                         c.data(), 4, &two);
  gnm::cpu::sgemm_engine(Transpose::No, Transpose::No, 2, 0, 3, 1.0f, &a, 3, &b, 1, 0.0f,
                         c.data(), 1, &two);
  gnm::cpu::sgemm_engine(Transpose::No, Transpose::No, 0, 0, 0, 1.0f, nullptr, 1, nullptr, 1,
                         0.0f, nullptr, 1, &two);
  for (float v : c) EXPECT_TRUE(std::isnan(v));
}

TEST_P(SgemmKernel, DefaultPoolAndNestedCallsFromPoolJobs) {
  const Case c{37, 53, 71};
  const Operands ops(c);
  std::vector<float> out = ops.C.v;
  gnm::cpu::sgemm(c.ta, c.tb, c.M, c.N, c.K, 1.0f, ops.A.v.data(), ops.A.ld, ops.B.v.data(),
                  ops.B.ld, 0.0f, out.data(), ops.C.ld);  // default pool, default backend
  EXPECT_TRUE(matches_reference(c, ops, out));

  // A batch of products, one per chunk: the inner sgemm runs inline on each participant.
  gnm::ThreadPool two(2);
  const Case big{150, 300, 260};
  const Operands big_ops(big);
  std::vector<std::vector<float>> outs(4, big_ops.C.v);
  two.parallel_for(0, 4, 1, [&](Index lo, Index hi) {
    for (Index b = lo; b < hi; ++b) {
      gnm::cpu::sgemm_engine(big.ta, big.tb, big.M, big.N, big.K, 1.0f, big_ops.A.v.data(),
                             big_ops.A.ld, big_ops.B.v.data(), big_ops.B.ld, 0.0f,
                             outs[static_cast<std::size_t>(b)].data(), big_ops.C.ld, &two);
    }
  });
  for (const auto& o : outs) EXPECT_TRUE(matches_reference(big, big_ops, o));
}

TEST(Sgemm, BadShapesAreShapeErrorsNamingTheValues) {
  std::vector<float> buf(64, 0.0f);
  const float* p = buf.data();
  float* c = buf.data();
  auto expect_shape_error = [&](auto call, std::vector<std::string> parts) {
    try {
      call();
      ADD_FAILURE() << "expected gnm::ShapeError";
    } catch (const gnm::ShapeError& e) {
      for (const auto& part : parts) {
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      }
    }
  };
  using gnm::cpu::sgemm;
  expect_shape_error([&] { sgemm(Transpose::No, Transpose::No, -1, 2, 2, 1, p, 2, p, 2, 0, c, 2); },
                     {"M = -1", "N = 2", "K = 2"});
  // A not transposed is M×K = 3×5: lda must be ≥ 5.
  expect_shape_error([&] { sgemm(Transpose::No, Transpose::No, 3, 2, 5, 1, p, 4, p, 2, 0, c, 2); },
                     {"lda = 4", "a_rows = 3", "a_cols = 5", "trans_a = No"});
  // A transposed is stored K×M = 5×3: lda ≥ 3 suffices, 2 does not.
  EXPECT_NO_THROW(sgemm(Transpose::Yes, Transpose::No, 3, 2, 5, 1, p, 3, p, 2, 0, c, 2));
  expect_shape_error([&] { sgemm(Transpose::Yes, Transpose::No, 3, 2, 5, 1, p, 2, p, 2, 0, c, 2); },
                     {"lda = 2", "a_rows = 5", "a_cols = 3", "trans_a = Yes"});
  expect_shape_error([&] { sgemm(Transpose::No, Transpose::No, 3, 4, 5, 1, p, 5, p, 3, 0, c, 4); },
                     {"ldb = 3", "b_rows = 5", "b_cols = 4"});
  expect_shape_error([&] { sgemm(Transpose::No, Transpose::Yes, 3, 4, 5, 1, p, 5, p, 4, 0, c, 4); },
                     {"ldb = 4", "b_rows = 4", "b_cols = 5", "trans_b = Yes"});
  expect_shape_error([&] { sgemm(Transpose::No, Transpose::No, 3, 4, 5, 1, p, 5, p, 4, 0, c, 3); },
                     {"ldc = 3", "M = 3", "N = 4"});
  // Leading dimensions are at least 1 even for empty matrices, as in BLAS.
  expect_shape_error([&] { sgemm(Transpose::No, Transpose::No, 0, 0, 0, 1, p, 0, p, 1, 0, c, 1); },
                     {"lda = 0"});
  // Null pointers with work to do are errors (not shape errors).
  EXPECT_THROW(sgemm(Transpose::No, Transpose::No, 2, 2, 2, 1, nullptr, 2, p, 2, 0, c, 2),
               gnm::Error);
  EXPECT_THROW(sgemm(Transpose::No, Transpose::No, 2, 2, 2, 1, p, 2, p, 2, 0, nullptr, 2),
               gnm::Error);
}

TEST(Sgemm, BackendParsing) {
  EXPECT_EQ(gnm::cpu::parse_blas_backend("engine"), gnm::cpu::Backend::Engine);
  EXPECT_EQ(gnm::cpu::parse_blas_backend("openblas"), gnm::cpu::Backend::OpenBlas);
  for (const char* bad : {"", "OpenBLAS", "mkl", "engine "}) {
    try {
      (void)gnm::cpu::parse_blas_backend(bad);
      ADD_FAILURE() << "expected gnm::Error for '" << bad << "'";
    } catch (const gnm::Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("got '") + bad + "'"), std::string::npos)
          << e.what();
    }
  }
}

TEST(Sgemm, KernelParsingSupportAndConfig) {
  EXPECT_EQ(gnm::cpu::parse_cpu_kernel("auto"), CpuKernel::Auto);
  EXPECT_EQ(gnm::cpu::parse_cpu_kernel("avx512"), CpuKernel::Avx512);
  EXPECT_EQ(gnm::cpu::parse_cpu_kernel("avx2"), CpuKernel::Avx2);
  EXPECT_EQ(gnm::cpu::parse_cpu_kernel("portable"), CpuKernel::Portable);
  for (const char* bad : {"", "AVX512", "avx-512", "sse", "avx2 "}) {
    try {
      (void)gnm::cpu::parse_cpu_kernel(bad);
      ADD_FAILURE() << "expected gnm::Error for '" << bad << "'";
    } catch (const gnm::Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("got '") + bad + "'"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_TRUE(gnm::cpu::cpu_kernel_supported(CpuKernel::Portable));
  EXPECT_TRUE(gnm::cpu::cpu_kernel_supported(CpuKernel::Auto));
#if defined(__AVX2__) && defined(__FMA__)
  EXPECT_TRUE(gnm::cpu::cpu_kernel_supported(CpuKernel::Avx2));  // the build requires AVX2
#endif
  // Auto is the widest supported kernel, and what the engine uses when nothing is forced.
  const CpuKernel best = gnm::cpu::cpu_kernel_supported(CpuKernel::Avx512) ? CpuKernel::Avx512
                         : gnm::cpu::cpu_kernel_supported(CpuKernel::Avx2) ? CpuKernel::Avx2
                                                                           : CpuKernel::Portable;
  EXPECT_STREQ(gnm::cpu::sgemm_config(CpuKernel::Auto).kernel, gnm::cpu::cpu_kernel_name(best));
  const struct {
    CpuKernel kernel;
    Index mr, nr;
  } expected[] = {{CpuKernel::Portable, 6, 16}, {CpuKernel::Avx2, 6, 16},
                  {CpuKernel::Avx512, 14, 32}};
  for (const auto& e : expected) {
    if (!gnm::cpu::cpu_kernel_supported(e.kernel)) {
      EXPECT_THROW((void)gnm::cpu::sgemm_config(e.kernel), gnm::NotImplemented);
      try {
        gnm::cpu::set_cpu_kernel(e.kernel);
        ADD_FAILURE() << "expected gnm::NotImplemented";
      } catch (const gnm::NotImplemented& err) {  // names the kernel and what is missing
        EXPECT_NE(std::string(err.what()).find(gnm::cpu::cpu_kernel_name(e.kernel)),
                  std::string::npos) << err.what();
      }
      continue;
    }
    const auto cfg = gnm::cpu::sgemm_config(e.kernel);
    EXPECT_STREQ(cfg.kernel, gnm::cpu::cpu_kernel_name(e.kernel));
    EXPECT_EQ(cfg.mr, e.mr);
    EXPECT_EQ(cfg.nr, e.nr);
    EXPECT_EQ(cfg.mc % cfg.mr, 0);
    EXPECT_EQ(cfg.nc % cfg.nr, 0);
    EXPECT_GT(cfg.kc, 0);
  }
}

#if GNM_HAVE_OPENBLAS
TEST_P(SgemmKernel, AgreesWithOpenBlasAndTheOpenBlasBackend) {
  gnm::ThreadPool two(2);
  const auto saved = gnm::cpu::blas_backend();
  for (const auto& s : kShapes) {
    for (Transpose ta : {Transpose::No, Transpose::Yes}) {
      for (Transpose tb : {Transpose::No, Transpose::Yes}) {
        const Case c{s[0], s[1], s[2], ta, tb, 0.75f, 0.5f, 1};
        const Operands ops(c);
        const auto engine = run_engine(c, ops, two);
        std::vector<float> blas = ops.C.v;
        gnm::cpu::set_blas_backend(gnm::cpu::Backend::OpenBlas);
        gnm::cpu::sgemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, ops.A.v.data(), ops.A.ld,
                        ops.B.v.data(), ops.B.ld, c.beta, blas.data(), ops.C.ld, &two);
        gnm::cpu::set_blas_backend(saved);
        EXPECT_TRUE(matches_reference(c, ops, blas)) << "OpenBLAS " << describe(c, 2);
        // Both are within the bound of the exact result, so within twice it of each other.
        for (Index i = 0; i < c.M; ++i) {
          double abs_row = 0.0;
          for (Index k = 0; k < c.K; ++k) abs_row = std::max(abs_row, std::fabs(double(ops.a(c, i, k))));
          for (Index j = 0; j < c.N; ++j) {
            const auto at = static_cast<std::size_t>(i * ops.C.ld + j);
            const double bound = 2.0 * double(c.K + 4) * gnm::kEpsF32 *
                                 (0.75 * double(c.K) * abs_row + 0.5 * std::fabs(double(ops.C.v[at])));
            ASSERT_LE(std::fabs(double(engine[at]) - double(blas[at])), bound)
                << "C[" << i << "][" << j << "] " << describe(c, 2);
          }
        }
      }
    }
  }
}
#endif

TEST(SgemmReference, ExactSmallProductMassAndShapeErrors) {
  // A (2×3, lda 4) · B (3×2, ldb 3): small integers, exact in double.
  const std::vector<float> A = {1, -2, 3, 99, 4, 5, -6, 99};
  const std::vector<float> B = {1, 2, 99, -1, 0, 99, 2, -3, 99};
  std::vector<double> c(4), mass(4);
  gnm::cpu::sgemm_reference(2, 2, 3, A.data(), 4, B.data(), 3, c, mass);
  EXPECT_EQ(c, (std::vector<double>{9, -7, -13, 26}));
  EXPECT_EQ(mass, (std::vector<double>{9, 11, 21, 26}));
  std::vector<double> small(3);
  EXPECT_THROW(gnm::cpu::sgemm_reference(2, 2, 3, A.data(), 4, B.data(), 3, small, mass),
               gnm::ShapeError);
  EXPECT_THROW(gnm::cpu::sgemm_reference(2, 2, 3, A.data(), 2, B.data(), 3, c, mass),
               gnm::ShapeError);
}
