// Exercise 5.1 — a deterministic parallel reduction (section 5.1 of the book).
//
// Write, in exercises/ch05/parallel_sum.cpp:
//   5.1  parallel_sum()   per-block partial sums inside ThreadPool::parallel_for, combined in a
//                         fixed order, so the result never depends on the number of threads
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch05/exercise/ParallelSum
//
// block_sum() and pairwise_combine() are given: they are the two halves your function joins.
#pragma once

#include <cstddef>
#include <span>

#include "gnm/core/thread_pool.hpp"

namespace gnm::ch05 {

/// Elements per block of parallel_sum(): 16 KiB of floats, about a microsecond of work — large
/// enough that claiming a chunk costs little beside it, small enough for thousands of blocks.
inline constexpr std::size_t kSumBlock = 4096;
/// Interleaved accumulators inside block_sum(): two AVX2 vectors of 8, so the adds pipeline.
inline constexpr std::size_t kSumLanes = 16;

/// Given. The fp32 sum of one block: element i goes to lane i % kSumLanes, each lane adds left to
/// right, then the lanes are combined pairwise. Every addition happens in an order fixed by the
/// block alone, so the compiler may vectorise it without changing a bit. `offset` is the index of
/// x[0] in the whole array: a NaN or infinity in the block, or a block sum that overflows, throws
/// gnm::Error naming the offending global index (x[offset + i]). Returns 0 for an empty block.
float block_sum(std::span<const float> x, std::size_t offset);

/// Given. The pairwise (tree) sum of `partials`: split in halves, sum each half, add the two.
/// The tree depends only on partials.size(). Returns 0 for an empty span.
float pairwise_combine(std::span<const float> partials);

/// Ex 5.1. The sum of `x` computed on `pool`:
///
///  1. Cut x into blocks of kSumBlock elements (the last one may be shorter): block b starts at
///     b · kSumBlock. The blocks are fixed by x.size() alone — never by the thread count.
///  2. Inside pool.parallel_for over the block indices, write block_sum(block b, its offset) into
///     partials[b]: each chunk writes its own entries, so no two threads touch the same element.
///  3. After parallel_for has returned, return pairwise_combine(partials).
///
/// The result is then bitwise identical on 1, 2 or 64 threads and from run to run. An empty x
/// gives 0. An exception thrown by block_sum on a worker thread comes back out of parallel_for:
/// let it propagate to the caller unchanged.
float parallel_sum(std::span<const float> x, ThreadPool& pool);

/// Given. A worst-case bound on |parallel_sum(x) − Σx| for n elements with Σ|x| = abs_sum:
/// (⌈kSumBlock / kSumLanes⌉ + log2(kSumLanes) + ⌈log2(blocks)⌉) · u · Σ|x|, u = 2^-24 — the
/// longest chain of additions any element goes through, times the unit roundoff (Higham, §4.2).
double parallel_sum_error_bound(std::size_t n, double abs_sum);

}  // namespace gnm::ch05
