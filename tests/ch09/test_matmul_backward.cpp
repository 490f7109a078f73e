// Exercise 9.4: matmul_backward against a double reference and against the gradients the engine's
// autograd gives gnm::matmul, on odd sizes (1, primes) and empty ones. Outputs start as NaN, so an
// element left unwritten fails. Every test calls matmul_backward on valid sizes first, so each
// fails on the stub.
//
// Tolerance: dA_ik is an N-term float dot product Σ_j dC_ij·B_kj; in any summation order (FMA or
// not) its error is at most N·u·Σ_j |dC_ij·B_kj| (Higham, u = 2⁻²⁴), and dB_kj likewise with M
// terms. Two float results (ours and the engine's) differ by at most the sum of their bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ch09_testing.hpp"
#include "gnm/core/error.hpp"
#include "gnm/tensor/ops.hpp"
#include "matmul_backward.hpp"

namespace {

using gnm::ch09::matmul_backward;
using namespace ch09_testing;

struct Dims {
  std::int64_t M, K, N;
};

struct Reference {
  std::vector<double> da, da_bound, db, db_bound;
};

// dA = dC·Bᵀ and dB = Aᵀ·dC in double, with each element's error bound.
Reference reference(const std::vector<float>& a, const std::vector<float>& b,
                    const std::vector<float>& dc, Dims d) {
  const auto M = static_cast<std::size_t>(d.M), K = static_cast<std::size_t>(d.K),
             N = static_cast<std::size_t>(d.N);
  Reference r{std::vector<double>(M * K), std::vector<double>(M * K), std::vector<double>(K * N),
              std::vector<double>(K * N)};
  for (std::size_t i = 0; i < M; ++i) {
    for (std::size_t k = 0; k < K; ++k) {
      double s = 0, mass = 0;
      for (std::size_t j = 0; j < N; ++j) {
        const double t = static_cast<double>(dc[i * N + j]) * static_cast<double>(b[k * N + j]);
        s += t;
        mass += std::fabs(t);
      }
      r.da[i * K + k] = s;
      r.da_bound[i * K + k] = static_cast<double>(N) * kU * mass + 1e-37;
    }
  }
  for (std::size_t k = 0; k < K; ++k) {
    for (std::size_t j = 0; j < N; ++j) {
      double s = 0, mass = 0;
      for (std::size_t i = 0; i < M; ++i) {
        const double t = static_cast<double>(a[i * K + k]) * static_cast<double>(dc[i * N + j]);
        s += t;
        mass += std::fabs(t);
      }
      r.db[k * N + j] = s;
      r.db_bound[k * N + j] = static_cast<double>(M) * kU * mass + 1e-37;
    }
  }
  return r;
}

std::string describe(Dims d) {
  return "M=" + std::to_string(d.M) + " K=" + std::to_string(d.K) + " N=" + std::to_string(d.N);
}

TEST(MatmulBackward, MatchesADoubleReference) {
  std::uint64_t seed = 40;
  for (Dims d : {Dims{1, 1, 1}, Dims{1, 7, 1}, Dims{7, 1, 13}, Dims{13, 17, 5}, Dims{2, 3, 97},
                 Dims{64, 31, 97}, Dims{131, 67, 29}}) {
    const auto a = uniform(static_cast<std::size_t>(d.M * d.K), ++seed);
    const auto b = uniform(static_cast<std::size_t>(d.K * d.N), ++seed);
    const auto dc = uniform(static_cast<std::size_t>(d.M * d.N), ++seed);
    auto da = poisoned(a.size());
    auto db = poisoned(b.size());
    matmul_backward(a, b, dc, d.M, d.K, d.N, da, db);
    const Reference ref = reference(a, b, dc, d);
    for (std::size_t i = 0; i < da.size(); ++i) {
      ASSERT_LE(std::fabs(static_cast<double>(da[i]) - ref.da[i]), ref.da_bound[i])
          << describe(d) << ", dA element " << i << ": got " << da[i] << ", ref " << ref.da[i];
    }
    for (std::size_t i = 0; i < db.size(); ++i) {
      ASSERT_LE(std::fabs(static_cast<double>(db[i]) - ref.db[i]), ref.db_bound[i])
          << describe(d) << ", dB element " << i << ": got " << db[i] << ", ref " << ref.db[i];
    }
  }
}

TEST(MatmulBackward, AgreesWithTheEnginesAutograd) {
  std::uint64_t seed = 70;
  for (Dims d : {Dims{1, 1, 1}, Dims{5, 3, 11}, Dims{32, 19, 23}}) {
    const auto a = uniform(static_cast<std::size_t>(d.M * d.K), ++seed);
    const auto b = uniform(static_cast<std::size_t>(d.K * d.N), ++seed);
    const auto dc = uniform(static_cast<std::size_t>(d.M * d.N), ++seed);
    gnm::Tensor ta = gnm::from_vector(std::span<const float>(a), {d.M, d.K});
    gnm::Tensor tb = gnm::from_vector(std::span<const float>(b), {d.K, d.N});
    ta.requires_grad_(true);
    tb.requires_grad_(true);
    gnm::matmul(ta, tb).backward(gnm::from_vector(std::span<const float>(dc), {d.M, d.N}));
    const std::vector<float> want_a = ta.grad().to_vector<float>();
    const std::vector<float> want_b = tb.grad().to_vector<float>();
    auto da = poisoned(a.size());
    auto db = poisoned(b.size());
    matmul_backward(a, b, dc, d.M, d.K, d.N, da, db);
    const Reference ref = reference(a, b, dc, d);
    for (std::size_t i = 0; i < da.size(); ++i) {
      EXPECT_LE(std::fabs(da[i] - want_a[i]), 2 * ref.da_bound[i]) << describe(d) << ", dA " << i;
    }
    for (std::size_t i = 0; i < db.size(); ++i) {
      EXPECT_LE(std::fabs(db[i] - want_b[i]), 2 * ref.db_bound[i]) << describe(d) << ", dB " << i;
    }
  }
}

TEST(MatmulBackward, EmptyInnerOrOuterSizesGiveZerosOrNothing) {
  // N = 0: dA = dC (M×0) · Bᵀ (0×K) is an M×K matrix of empty sums, i.e. zeros; dB is empty.
  const auto a = uniform(12, 3);
  auto da = poisoned(12);
  std::vector<float> none;
  matmul_backward(a, none, none, 3, 4, 0, da, none);  // the stub throws here
  for (float v : da) EXPECT_EQ(v, 0.0f);
  // M = 0: dB = Aᵀ (K×0) · dC (0×N) is K×N zeros; dA is empty.
  const auto b = uniform(10, 4);
  auto db = poisoned(10);
  matmul_backward(none, b, none, 0, 2, 5, none, db);
  for (float v : db) EXPECT_EQ(v, 0.0f);
  // K = 0: both gradients are empty.
  const auto dc = uniform(6, 5);
  EXPECT_NO_THROW(matmul_backward(none, none, dc, 2, 0, 3, none, none));
}

TEST(MatmulBackward, RejectsSpansOfTheWrongSize) {
  const auto a = uniform(6, 1), b = uniform(12, 2), dc = uniform(8, 3);
  auto da = poisoned(6), db = poisoned(12);
  matmul_backward(a, b, dc, 2, 3, 4, da, db);  // the stub throws here
  EXPECT_THROW(matmul_backward(a, b, dc, 2, 4, 3, da, db), gnm::ShapeError);
  EXPECT_THROW(matmul_backward(a, b, dc, -2, -3, 4, da, db), gnm::ShapeError);
  std::vector<float> short_db(11);
  EXPECT_THROW(matmul_backward(a, b, dc, 2, 3, 4, da, short_db), gnm::ShapeError);
}

}  // namespace
