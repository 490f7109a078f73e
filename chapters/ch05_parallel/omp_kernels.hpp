// The OpenMP side of section 5.1: the same reductions and the same GEMM kernel as the ThreadPool
// versions, parallelised with OpenMP pragmas instead. Built with -fopenmp when CMake finds OpenMP
// (and not under ThreadSanitizer, which cannot see inside libgomp); otherwise every function
// throws gnm::NotImplemented and have_openmp() is false.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace chapter5 {

// True when this program was built with OpenMP.
bool have_openmp();
// "OpenMP 4.5 (201511)" from _OPENMP, or "not built with OpenMP".
std::string openmp_version();

// The fixed-block sum of exercise 5.1 (block_sum per block, pairwise_combine) with the blocks
// shared out by `#pragma omp parallel for`: bitwise equal to gnm::ch05::parallel_sum.
float omp_sum_fixed_blocks(std::span<const float> x, int threads);

// The idiomatic `#pragma omp parallel for simd reduction(+ : s)`: each thread (and each SIMD
// lane) keeps a private partial, combined in an order OpenMP chooses, so the bits depend on the
// thread count.
float omp_sum_reduction(std::span<const float> x, int threads);

// C += A · B with chapter 2's packed kernel (pack_a, pack_b, micro_kernel_6x16) and the row blocks
// of each packed B panel shared out by `#pragma omp for schedule(dynamic, 1)`: the same work
// decomposition as gnm::ch02::sgemm_threaded, with OpenMP in place of ThreadPool::parallel_for.
void omp_sgemm(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda,
               const float* B, std::int64_t ldb, float* C, std::int64_t ldc, int threads);

// Microseconds per empty `#pragma omp parallel for` over `threads` iterations (fork + join),
// the median over `repeat` regions.
double omp_fork_join_us(int threads, int repeat);

}  // namespace chapter5
