// Chapter 6's own kernels (chapters/ch06_gpu_architecture/*_kernels.cuh, the text nvcc compiles
// into the chapter program) run on the CPU through the host emulator, with the chapter's launch
// configurations: 6.1's divergence kernel (bit-exact against std::fma chains), 6.3's pointer
// chase (the chain is the intended single cycle and every load flavour walks it) and constant-
// memory table sums (exact: small integers), and 6.4's two block reductions (against a double
// sum, with the chapter's error bound, per block and in total). Outputs carry poisoned guard
// zones. The GPU's timing is the chapter's business; this checks the values it times.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "emu_test_support.hpp"
#include "ch06_gpu_architecture/memory_kernels.cuh"  // the real kernels, after the emulator
#include "ch06_gpu_architecture/sync_kernels.cuh"
#include "ch06_gpu_architecture/threads_kernels.cuh"
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"

namespace {

using gnm::emu::test::kUnderTsan;
using gnm::emu::test::random_floats;

using gnm::emu::emu_launch;
namespace mk = chapter06::memory_kernels;
namespace sk = chapter06::sync_kernels;
namespace tk = chapter06::threads_kernels;

constexpr float kPoison = -777.0f;
constexpr int kGuard = 64;

bool guard_clean(const std::vector<float>& buf, std::size_t n) {
  return gnm::emu::test::guard_clean(buf, n, kPoison);
}

// ---- 6.4 reductions ----

using ReduceKernel = void (*)(const float*, float*, std::int64_t);

struct ReduceOutcome {
  bool total_ok = false;      // finite and within the bound
  int partials_wrong = 0;     // block sums outside their bound
  bool guards_clean = false;  // nothing written past `blocks` partials or the one result
  double error = 0, bound = 0;
};

// The chapter's two passes (sec_sync.cu, reduce()): `blocks` = reduce_blocks(n, sm_count) blocks
// of 256 threads write partial sums, then one block sums those.
ReduceOutcome emulate_reduce(ReduceKernel kernel, std::int64_t n, int sm_count,
                             std::uint64_t seed) {
  const std::vector<float> x = random_floats(n, seed);
  const int blocks = sk::reduce_blocks(n, sm_count);
  std::vector<float> partials(static_cast<std::size_t>(blocks + kGuard), kPoison);
  std::vector<float> result(1 + kGuard, kPoison);
  result[0] = std::numeric_limits<float>::quiet_NaN();  // a kernel that writes nothing fails
  emu_launch(dim3(static_cast<unsigned>(blocks)), dim3(sk::kReduceBlock), kernel, x.data(),
             partials.data(), n);
  emu_launch(dim3(1), dim3(sk::kReduceBlock), kernel, static_cast<const float*>(partials.data()),
             result.data(), static_cast<std::int64_t>(blocks));
  ReduceOutcome o;
  // Block b sums the elements i with (i / 256) mod blocks = b (thread_sum's grid-stride loop).
  // Its sum tree is at most ceil(n / threads) + 8 deep, so the chapter's model gives
  // |error| <= (ceil(n / threads) + 8) · 2^-23 · Σ|x| over the block (a factor 2 to spare).
  std::vector<double> block_sum(static_cast<std::size_t>(blocks)), block_abs(block_sum.size());
  double ref = 0, abs_sum = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(x[static_cast<std::size_t>(i)]);
    const auto b = static_cast<std::size_t>(i / sk::kReduceBlock % blocks);
    block_sum[b] += v;
    block_abs[b] += std::fabs(v);
    ref += v;
    abs_sum += std::fabs(v);
  }
  const std::int64_t threads = std::int64_t{blocks} * sk::kReduceBlock;
  const double block_depth = static_cast<double>((n + threads - 1) / threads + 8);
  for (std::size_t b = 0; b < block_sum.size(); ++b) {
    const double err = std::fabs(static_cast<double>(partials[b]) - block_sum[b]);
    if (!(err <= block_depth * gnm::kEpsF32 * block_abs[b])) ++o.partials_wrong;
  }
  o.bound = sk::reduce_error_bound(n, blocks, abs_sum, gnm::kEpsF32);
  o.error = std::fabs(static_cast<double>(result[0]) - ref);
  o.total_ok = std::isfinite(result[0]) && o.error <= o.bound;
  o.guards_clean = guard_clean(partials, static_cast<std::size_t>(blocks)) && guard_clean(result, 1);
  return o;
}

struct ReduceCase {
  std::int64_t n;
  int sm_count;  // 132: an H100's blocks; 1: 8 blocks, so thread_sum's loop runs several times
};

// n = 0 (one block writes 0), 1, below a warp, a warp, around one block, primes, and sizes whose
// grid-stride loop runs several times. Under TSan (a barrier of 256 threads costs milliseconds)
// the cases that still have partial warps, several blocks and the loop.
#if defined(__SANITIZE_THREAD__)
const ReduceCase kReduceCases[] = {{1, 132}, {257, 132}, {4099, 1}};
#else
const ReduceCase kReduceCases[] = {{0, 132},    {1, 132},    {31, 132},  {32, 132},
                                   {255, 132},  {257, 132},  {1021, 132}, {4099, 1},
                                   {20011, 1},  {10007, 132}};
#endif

TEST(Ch06KernelsEmulated, ReductionsTreeAndShuffle) {
  for (const ReduceCase c : kReduceCases) {
    for (const bool tree : {true, false}) {
      const ReduceOutcome o = emulate_reduce(tree ? sk::reduce_tree_kernel : sk::reduce_shuffle_kernel,
                                             c.n, c.sm_count, 640 + static_cast<std::uint64_t>(c.n));
      const std::string what = std::string(tree ? "tree" : "shuffle") + ", n " +
                               std::to_string(c.n) + ", sm_count " + std::to_string(c.sm_count);
      EXPECT_TRUE(o.total_ok) << what << ": |error| " << o.error << " > bound " << o.bound;
      EXPECT_EQ(o.partials_wrong, 0) << what;
      EXPECT_TRUE(o.guards_clean) << what;
    }
  }
}

TEST(Ch06KernelsEmulated, ReduceLaunchArithmetic) {
  EXPECT_EQ(sk::reduce_blocks(0, 132), 1);
  EXPECT_EQ(sk::reduce_blocks(1, 132), 1);
  EXPECT_EQ(sk::reduce_blocks(256, 132), 1);
  EXPECT_EQ(sk::reduce_blocks(257, 132), 2);
  EXPECT_EQ(sk::reduce_blocks((1 << 26) + 3, 132), 1056);  // capped at 8 blocks per SM
}

// Negative control: the tree kernel with an off-by-one loop bound (`half > 1`), so partial[1] is
// never added: a quarter of a percent of the elements go missing, far above the bound.
__global__ void buggy_reduce_tree_kernel(const float* __restrict__ in, float* __restrict__ out,
                                         std::int64_t n) {
  __shared__ float partial[sk::kReduceBlock];
  const int tid = static_cast<int>(threadIdx.x);
  partial[tid] = sk::thread_sum(in, n);
  __syncthreads();
  for (int half = sk::kReduceBlock / 2; half > 1; half /= 2) {  // BUG: must be half > 0
    if (tid < half) partial[tid] += partial[tid + half];
    __syncthreads();
  }
  if (tid == 0) out[blockIdx.x] = partial[0];
}

TEST(Ch06KernelsEmulated, NegativeControlCatchesShortTree) {
  const ReduceOutcome o = emulate_reduce(buggy_reduce_tree_kernel, 4099, 1, 7);
  EXPECT_FALSE(o.total_ok) << "the harness missed a lost partial sum";
  EXPECT_GT(o.partials_wrong, 0);
  EXPECT_TRUE(o.guards_clean);
}

// ---- 6.1 divergence ----

float path_chain(int p, float x, int iters) {
  const float a = 1.0f - static_cast<float>(p + 1) * 0x1p-12f;  // the chapter's path constants
  const float b = static_cast<float>(p + 1) * 0x1p-10f;
  for (int i = 0; i < iters; ++i) x = std::fma(x, a, b);
  return x;
}

TEST(Ch06KernelsEmulated, DivergenceKernelBitExact) {
  struct Row {
    int paths;
    bool by_warp;
  };
  const Row rows[] = {{1, false}, {2, false}, {4, false}, {8, false}, {16, false}, {32, false},
                      {32, true}};
  const int sizes[] = {1, 31, 257, kUnderTsan ? 300 : 2053};
  for (const int n : sizes) {
    const std::vector<float> in = random_floats(n, 61 + static_cast<std::uint64_t>(n));
    for (const Row& row : rows) {
      const int iters = 17;
      std::vector<float> out(static_cast<std::size_t>(n + kGuard), kPoison);
      // The chapter's launch (sec_threads.cu): blocks of kBlock = 256, ceil(n / 256) of them.
      emu_launch(dim3(static_cast<unsigned>((n + tk::kBlock - 1) / tk::kBlock)), dim3(tk::kBlock),
                 tk::divergence_kernel, in.data(), out.data(), n, row.paths, row.by_warp, iters);
      int wrong = 0;
      for (int i = 0; i < n; ++i) {
        const int lane = i % tk::kBlock % 32;
        const int path = row.by_warp ? i / 32 % 32 : lane % row.paths;
        const float want = path_chain(path, in[static_cast<std::size_t>(i)], iters);
        if (out[static_cast<std::size_t>(i)] != want) ++wrong;
      }
      const std::string what = "n " + std::to_string(n) + ", paths " + std::to_string(row.paths) +
                               (row.by_warp ? " by warp" : " by lane");
      EXPECT_EQ(wrong, 0) << what;
      EXPECT_TRUE(guard_clean(out, static_cast<std::size_t>(n))) << what;
    }
  }
}

// ---- 6.3 pointer chase and constant memory ----

constexpr std::uint32_t kChainPoison = 0xdeadbeefu;

TEST(Ch06KernelsEmulated, PointerChaseFollowsTheCycle) {
  std::mt19937_64 rng(63);
  for (const std::uint32_t n : {1u, 2u, 3u, 37u, 256u, 300u, 1024u}) {
    std::vector<std::uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::shuffle(order.begin(), order.end(), rng);
    const std::size_t words = std::size_t{n} * mk::kNodeStride;
    std::vector<std::uint32_t> chain(words + kGuard, kChainPoison);
    // The chapter's launch (sec_memory.cu, pointer_chase).
    emu_launch(dim3((n + 255) / 256), dim3(256), mk::build_chain_kernel,
               static_cast<const std::uint32_t*>(order.data()), n, chain.data());
    const std::string what = "n " + std::to_string(n);
    // Each node links to the next in `order`; the other 31 words of a 128-byte node and the
    // guard stay untouched.
    std::vector<std::uint32_t> rank(n);
    for (std::uint32_t i = 0; i < n; ++i) rank[order[i]] = i;
    int wrong = 0;
    for (std::size_t w = 0; w < chain.size(); ++w) {
      std::uint32_t want = kChainPoison;
      if (w < words && w % mk::kNodeStride == 0) {
        const auto node = static_cast<std::uint32_t>(w / mk::kNodeStride);
        want = order[(rank[node] + 1) % n] * mk::kNodeStride;
      }
      if (chain[w] != want) ++wrong;
    }
    ASSERT_EQ(wrong, 0) << what;
    // One cycle through all n nodes: n steps from the start visit every node once and return.
    std::vector<bool> seen(n, false);
    std::uint32_t p = order[0] * mk::kNodeStride;
    for (std::uint32_t s = 0; s < n; ++s) {
      EXPECT_FALSE(seen[p / mk::kNodeStride]) << what;
      seen[p / mk::kNodeStride] = true;
      p = chain[p];
    }
    EXPECT_EQ(p, order[0] * mk::kNodeStride) << what;
    // The chapter's walk: a warm-up of min(n, cap) plain loads, then each flavour, resuming at
    // *pos; the end must be order[walked mod n].
    std::uint32_t pos = order[0] * mk::kNodeStride;
    long long walked = n;
    emu_launch(dim3(1), dim3(1), mk::chase_kernel<mk::LoadKind::ld>,
               static_cast<const std::uint32_t*>(chain.data()), &pos, static_cast<long long>(n));
    for (const long long steps : {7LL, 1000LL}) {
      emu_launch(dim3(1), dim3(1), mk::chase_kernel<mk::LoadKind::ld>,
                 static_cast<const std::uint32_t*>(chain.data()), &pos, steps);
      emu_launch(dim3(1), dim3(1), mk::chase_kernel<mk::LoadKind::ldcg>,
                 static_cast<const std::uint32_t*>(chain.data()), &pos, steps);
      emu_launch(dim3(1), dim3(1), mk::chase_kernel<mk::LoadKind::ldg>,
                 static_cast<const std::uint32_t*>(chain.data()), &pos, steps);
      walked += 3 * steps;
      EXPECT_EQ(pos, order[static_cast<std::size_t>(walked % n)] * mk::kNodeStride) << what;
    }
  }
}

TEST(Ch06KernelsEmulated, ConstantTableSumsExact) {
  // The chapter's table (small integers: every sum is exact in fp32), and a second pattern.
  for (const int pattern : {13, 11}) {
    if (kUnderTsan && pattern == 11) continue;  // one table is enough to see a race
    std::vector<float> table(mk::kTable);
    for (int k = 0; k < mk::kTable; ++k) {
      table[static_cast<std::size_t>(k)] = static_cast<float>(k * (pattern == 13 ? 1 : 7) %
                                                                   pattern - pattern / 2);
    }
    std::copy(table.begin(), table.end(), mk::c_table);  // cudaMemcpyToSymbol's stand-in
    // The chapter's launch with a 2-SM device: sm_count · 8 blocks of 256 threads.
    const int blocks = 2 * 8, block = 256;
    const std::size_t threads = static_cast<std::size_t>(blocks) * block;
    for (const int iters : {37, 256}) {
      if (kUnderTsan && iters == 256) continue;
      for (const int spread : {0, 1}) {
        double lane_sum[32] = {};
        for (int lane = 0; lane < 32; ++lane) {
          for (int j = 0; j < iters; ++j) {
            lane_sum[lane] += static_cast<double>(
                table[static_cast<std::size_t>((j + lane * spread) % mk::kTable)]);
          }
        }
        for (const bool constant : {true, false}) {
          std::vector<float> out(threads + kGuard, kPoison);
          if (constant) {
            emu_launch(dim3(blocks), dim3(block), mk::table_sum_kernel<true>,
                       static_cast<const float*>(table.data()), out.data(), iters, spread);
          } else {
            emu_launch(dim3(blocks), dim3(block), mk::table_sum_kernel<false>,
                       static_cast<const float*>(table.data()), out.data(), iters, spread);
          }
          int wrong = 0;
          for (std::size_t i = 0; i < threads; ++i) {
            if (static_cast<double>(out[i]) != lane_sum[i % block % 32]) ++wrong;
          }
          const std::string what = std::string(constant ? "constant" : "global") + ", iters " +
                                   std::to_string(iters) + ", spread " + std::to_string(spread);
          EXPECT_EQ(wrong, 0) << what;
          EXPECT_TRUE(guard_clean(out, threads)) << what;
        }
      }
    }
  }
}

}  // namespace
