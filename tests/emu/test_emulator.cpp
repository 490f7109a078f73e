// Self-tests of the host CUDA emulator (cuda_host_emulator.hpp) against the semantics the CUDA
// C++ Programming Guide documents: warp shuffles with width 32, 16 and 8 (segments, edges, the
// modulo rule of __shfl_sync, xor into a later segment), the lane numbering of multi-dimensional
// blocks (x fastest), the short last warp of a block, shuffles from lanes that returned, atomics
// (exact for integers, old value returned), __syncthreads() with threads that left early, and the
// emulator's own contract: blocks run one after another in blockIdx order (x fastest) and a
// __shared__ array is one per kernel, not cleared between blocks. Every other emulated test
// trusts these rules, so they are checked here on their own.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_host_emulator.hpp"

namespace {

using gnm::emu::emu_launch;

constexpr unsigned kFull = 0xffffffffu;

// ---- shuffles ----

constexpr int kShuffles = 12;  // results per thread of shuffle_kernel

// Each thread shuffles its own id (block · 1000 + linear thread index, exact in every T) in 12
// ways and stores, per shuffle, the id it received.
template <typename T>
__global__ void shuffle_kernel(int* out, int width) {
  const int t = static_cast<int>(threadIdx.x);
  const int lane = t % warpSize;
  const T v = static_cast<T>(static_cast<int>(blockIdx.x) * 1000 + t);
  int* o = out + (static_cast<int>(blockIdx.x) * static_cast<int>(blockDim.x) + t) * kShuffles;
  o[0] = static_cast<int>(__shfl_sync(kFull, v, 3, width));
  o[1] = static_cast<int>(__shfl_sync(kFull, v, lane + 5, width));  // ≥ width: modulo width
  o[2] = static_cast<int>(__shfl_sync(kFull, v, 37, width));
  o[3] = static_cast<int>(__shfl_up_sync(kFull, v, 1, width));
  o[4] = static_cast<int>(__shfl_up_sync(kFull, v, 3, width));
  o[5] = static_cast<int>(__shfl_down_sync(kFull, v, 1, width));
  o[6] = static_cast<int>(__shfl_down_sync(kFull, v, 5, width));
  o[7] = static_cast<int>(__shfl_xor_sync(kFull, v, 1, width));
  o[8] = static_cast<int>(__shfl_xor_sync(kFull, v, 2, width));
  o[9] = static_cast<int>(__shfl_xor_sync(kFull, v, 4, width));
  o[10] = static_cast<int>(__shfl_xor_sync(kFull, v, 8, width));
  o[11] = static_cast<int>(__shfl_xor_sync(kFull, v, 16, width));
}

// The source lane of shuffle k for `lane`, written from the Programming Guide's text (not from
// the emulator's code): segments of `width` lanes; __shfl_sync reads lane srcLane mod width of
// the caller's segment; up/down read lane ∓ delta when it lies in the caller's segment, else the
// caller keeps its value; xor reads lane ^ laneMask, except that a lane in a LATER segment gives
// the caller its own value (earlier segments may be read).
int expected_source(int k, int lane, int width) {
  const int seg = lane / width * width;
  const auto up = [&](int d) { return lane - d >= seg ? lane - d : lane; };
  const auto down = [&](int d) { return lane + d < seg + width ? lane + d : lane; };
  const auto bfly = [&](int m) { return (lane ^ m) / width > lane / width ? lane : lane ^ m; };
  switch (k) {
    case 0: return seg + 3 % width;
    case 1: return seg + (lane + 5) % width;
    case 2: return seg + 37 % width;
    case 3: return up(1);
    case 4: return up(3);
    case 5: return down(1);
    case 6: return down(5);
    default: return bfly(1 << (k - 7));
  }
}

template <typename T>
void check_shuffles(int width) {
  constexpr unsigned kBlocks = 2, kThreads = 64;  // two full warps per block
  std::vector<int> out(kBlocks * kThreads * kShuffles, -1);
  emu_launch(dim3(kBlocks), dim3(kThreads), shuffle_kernel<T>, out.data(), width);
  int wrong = 0;
  for (unsigned b = 0; b < kBlocks; ++b) {
    for (unsigned t = 0; t < kThreads; ++t) {
      const int lane = static_cast<int>(t % 32);
      const int warp_first = static_cast<int>(t) - lane;
      for (int k = 0; k < kShuffles; ++k) {
        const int want = static_cast<int>(b) * 1000 + warp_first + expected_source(k, lane, width);
        const int got = out[(b * kThreads + t) * kShuffles + static_cast<unsigned>(k)];
        if (got != want && ++wrong <= 5) {
          ADD_FAILURE() << "width " << width << ", block " << b << ", thread " << t
                        << ", shuffle " << k << ": got " << got << ", want " << want;
        }
      }
    }
  }
  EXPECT_EQ(wrong, 0) << "width " << width;
}

TEST(CudaHostEmulator, ShufflesFollowTheWidthRules) {
  for (const int width : {32, 16, 8}) {
    check_shuffles<int>(width);
    check_shuffles<float>(width);
    check_shuffles<double>(width);  // 8 bytes: CUDA shuffles it as two 32-bit halves
  }
}

TEST(CudaHostEmulator, ShuffleReferenceSpotChecks) {
  // The rules above, spelled out for a few lanes, so that a shared misreading of the guide by
  // the reference and the emulator cannot pass unnoticed.
  EXPECT_EQ(expected_source(10, 8, 8), 0);    // xor 8, width 8: lane 8 reads the EARLIER segment
  EXPECT_EQ(expected_source(10, 0, 8), 0);    // … lane 0 would read a later one: its own value
  EXPECT_EQ(expected_source(11, 3, 16), 3);   // xor 16, width 16: later segment, own value
  EXPECT_EQ(expected_source(11, 19, 16), 3);  // … from the second segment: reads the first
  EXPECT_EQ(expected_source(1, 13, 8), 10);   // srcLane 18 with width 8: 18 mod 8 = 2 of seg 8
  EXPECT_EQ(expected_source(2, 20, 16), 21);  // srcLane 37 mod 16 = 5 of segment 16
  EXPECT_EQ(expected_source(4, 17, 16), 17);  // up 3 from lane 1 of a segment: keeps its own
  EXPECT_EQ(expected_source(6, 27, 8), 27);   // down 5 from lane 3 of a segment: keeps its own
  EXPECT_EQ(expected_source(6, 26, 8), 31);
}

// Lane numbering in a 4 × 3 × 5 block (60 threads: a full warp and a 28-lane one): linear index
// x + 4 (y + 3 z), 32 consecutive ones per warp.
__global__ void lane_numbering_kernel(int* out) {
  const int linear = static_cast<int>(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z));
  const int packed = static_cast<int>(threadIdx.x | threadIdx.y << 8 | threadIdx.z << 16);
  out[3 * linear + 0] = __shfl_sync(kFull, linear, 0);         // lane 0 of my warp
  out[3 * linear + 1] = __shfl_xor_sync(kFull, packed, 1);     // my neighbour's threadIdx
  out[3 * linear + 2] = __shfl_up_sync(kFull, linear, 1);
}

TEST(CudaHostEmulator, MultiDimensionalBlocksNumberLanesXFastest) {
  const dim3 block(4, 3, 5);
  std::vector<int> out(3 * 60, -1);
  emu_launch(dim3(1), block, lane_numbering_kernel, out.data());
  for (int linear = 0; linear < 60; ++linear) {
    const int other = linear ^ 1;
    const int packed = other % 4 | (other / 4 % 3) << 8 | (other / 12) << 16;
    EXPECT_EQ(out[3 * linear + 0], linear / 32 * 32) << linear;
    EXPECT_EQ(out[3 * linear + 1], packed) << linear;
    EXPECT_EQ(out[3 * linear + 2], linear % 32 == 0 ? linear : linear - 1) << linear;
  }
}

// ---- the short last warp and lanes that returned ----

// 40 threads: warp 1 has lanes 0 … 7 only. Everything here stays inside the lanes that exist.
__global__ void short_warp_legal_kernel(int* out) {
  const int t = static_cast<int>(threadIdx.x);
  out[4 * t + 0] = __shfl_xor_sync(kFull, t, 4, 8);
  out[4 * t + 1] = __shfl_up_sync(kFull, t, 1);
  out[4 * t + 2] = __shfl_sync(kFull, t, 7, 8);
  out[4 * t + 3] = __shfl_down_sync(kFull, t, 2, 8);  // lanes 6, 7 of a segment keep their own
}

// Lane 3 of each warp reads lane 20: fine in warp 0, a lane that does not exist in warp 1.
__global__ void short_warp_illegal_kernel(int* out) {
  const int t = static_cast<int>(threadIdx.x);
  const int lane = t % 32;
  out[t] = __shfl_sync(kFull, t, lane == 3 ? 20 : lane);
}

TEST(CudaHostEmulator, ShortLastWarpLegalShufflesWorkIllegalOnesThrow) {
  std::vector<int> out(4 * 40, -1);
  emu_launch(dim3(1), dim3(40), short_warp_legal_kernel, out.data());
  for (int t = 0; t < 40; ++t) {
    const int seg8 = t / 8 * 8;
    EXPECT_EQ(out[4 * t + 0], t ^ 4) << t;
    EXPECT_EQ(out[4 * t + 1], t % 32 == 0 ? t : t - 1) << t;
    EXPECT_EQ(out[4 * t + 2], seg8 + 7) << t;
    EXPECT_EQ(out[4 * t + 3], t % 8 + 2 < 8 ? t + 2 : t) << t;
  }
  try {
    emu_launch(dim3(1), dim3(40), short_warp_illegal_kernel, out.data());
    ADD_FAILURE() << "a shuffle from a lane that does not exist did not throw";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("__shfl_sync: lane 3 reads lane 20 of a warp that has "
                                         "only 8 threads"),
              std::string::npos)
        << e.what();
  }
  // The pool is usable after a failed launch.
  emu_launch(dim3(1), dim3(40), short_warp_legal_kernel, out.data());
  EXPECT_EQ(out[4 * 39 + 0], 39 ^ 4);
}

// Lane 5 returns; lane 9 then reads it (illegal) or everyone reads lane 0 (legal).
__global__ void returned_lane_kernel(int* out, bool read_returned) {
  const int t = static_cast<int>(threadIdx.x);
  if (t == 5) return;
  out[t] = __shfl_sync(kFull, t, read_returned && t == 9 ? 5 : 0);
}

TEST(CudaHostEmulator, ShuffleFromAReturnedLaneThrows) {
  std::vector<int> out(32, -1);
  emu_launch(dim3(2), dim3(32), returned_lane_kernel, out.data(), false);
  for (int t = 0; t < 32; ++t) EXPECT_EQ(out[t], t == 5 ? -1 : 0) << t;
  try {
    emu_launch(dim3(1), dim3(32), returned_lane_kernel, out.data(), true);
    ADD_FAILURE() << "a shuffle from a returned lane did not throw";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("lane 9 reads lane 5, which has already returned"),
              std::string::npos)
        << e.what();
  }
}

__global__ void bad_width_kernel(int* out) {
  out[threadIdx.x] = __shfl_xor_sync(kFull, static_cast<int>(threadIdx.x), 1, 12);
}

TEST(CudaHostEmulator, WidthThatIsNotAPowerOfTwoThrows) {
  std::vector<int> out(32, -1);
  EXPECT_THROW(emu_launch(dim3(1), dim3(32), bad_width_kernel, out.data()), std::logic_error);
}

// ---- atomics ----

constexpr int kAtomicRounds = 20;

// Each thread adds (its global index mod 7) + 1 to three counters, 20 times, and takes a ticket
// (the old value atomicAdd returns) each time.
__global__ void atomic_add_kernel(int* sum_i, unsigned long long* sum_u, float* sum_f,
                                  int* ticket, int* tickets) {
  const int g = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  for (int r = 0; r < kAtomicRounds; ++r) {
    atomicAdd(sum_i, g % 7 + 1);
    atomicAdd(sum_u, static_cast<unsigned long long>(g % 7 + 1));
    atomicAdd(sum_f, 1.0f);
    tickets[g * kAtomicRounds + r] = atomicAdd(ticket, 1);
  }
}

TEST(CudaHostEmulator, AtomicAddIsExactAcrossBlocks) {
  const unsigned blocks = 5, threads = 100;  // threads: not a multiple of the warp
  const int n = static_cast<int>(blocks * threads);
  int sum_i = 0, ticket = 0;
  unsigned long long sum_u = 0;
  float sum_f = 0.0f;
  std::vector<int> tickets(static_cast<std::size_t>(n * kAtomicRounds), -1);
  emu_launch(dim3(blocks), dim3(threads), atomic_add_kernel, &sum_i, &sum_u, &sum_f, &ticket,
             tickets.data());
  long long want = 0;
  for (int g = 0; g < n; ++g) want += g % 7 + 1;
  want *= kAtomicRounds;
  EXPECT_EQ(sum_i, want);
  EXPECT_EQ(sum_u, static_cast<unsigned long long>(want));
  EXPECT_EQ(sum_f, static_cast<float>(n * kAtomicRounds));  // 10000 < 2^24: exact
  std::sort(tickets.begin(), tickets.end());
  std::vector<int> all(tickets.size());
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(tickets, all) << "atomicAdd's old values are not a permutation";
}

__global__ void atomic_min_max_kernel(const int* values, int* mn, int* mx, int* old_min) {
  const int g = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  old_min[g] = atomicMin(mn, values[g]);
  atomicMax(mx, values[g]);
}

TEST(CudaHostEmulator, AtomicMinMax) {
  const int n = 3 * 64;
  std::vector<int> values(n), old_min(n);
  for (int i = 0; i < n; ++i) values[static_cast<std::size_t>(i)] = (i * 37) % n - 100;
  int mn = 1 << 30, mx = -(1 << 30);
  emu_launch(dim3(3), dim3(64), atomic_min_max_kernel, values.data(), &mn, &mx, old_min.data());
  EXPECT_EQ(mn, *std::min_element(values.begin(), values.end()));
  EXPECT_EQ(mx, *std::max_element(values.begin(), values.end()));
  for (const int o : old_min) EXPECT_GE(o, mn);
  // Old-value semantics, one thread at a time.
  int x = 5;
  EXPECT_EQ(atomicMin(&x, 3), 5);
  EXPECT_EQ(x, 3);
  EXPECT_EQ(atomicMin(&x, 7), 3);
  EXPECT_EQ(x, 3);
  EXPECT_EQ(atomicMax(&x, 9), 3);
  EXPECT_EQ(x, 9);
}

// ---- barriers, shared memory, block order ----

// Every third thread returns at once; the others run 8 rounds of write / barrier / read the next
// live thread's value / barrier. With a barrier that waited for the returned threads this hangs.
__global__ void early_return_kernel(int* out) {
  __shared__ int s[96];
  const int t = static_cast<int>(threadIdx.x);
  if (t % 3 == 0) return;
  int acc = 0;
  for (int round = 0; round < 8; ++round) {
    s[t] = round * 1000 + t + static_cast<int>(blockIdx.x);
    __syncthreads();
    const int next = t % 3 == 1 ? t + 1 : (t + 2) % 96;  // the next thread that did not return
    acc += s[next];
    __syncthreads();
  }
  out[blockIdx.x * 96 + static_cast<unsigned>(t)] = acc;
}

TEST(CudaHostEmulator, SyncthreadsWithEarlyReturnsDoesNotDeadlock) {
  std::vector<int> out(3 * 96, -1);
  emu_launch(dim3(3), dim3(96), early_return_kernel, out.data());
  for (int b = 0; b < 3; ++b) {
    for (int t = 0; t < 96; ++t) {
      const int next = t % 3 == 1 ? t + 1 : (t + 2) % 96;
      int want = -1;
      if (t % 3 != 0) {
        want = 0;
        for (int round = 0; round < 8; ++round) want += round * 1000 + next + b;
      }
      EXPECT_EQ(out[static_cast<std::size_t>(b * 96 + t)], want) << b << " " << t;
    }
  }
}

// Thread 0 of each block records the value the previous block left in a __shared__ variable,
// the ticket of its block (order of execution) and the most blocks it ever saw running.
__global__ void block_order_kernel(int* previous, int* order, int* ticket, int* running,
                                   int* max_running) {
  __shared__ int last;
  const int b = static_cast<int>(blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z));
  if (threadIdx.x == 0) {
    atomicAdd(running, 1);
    previous[b] = last;
    order[b] = atomicAdd(ticket, 1);
  }
  __syncthreads();
  atomicMax(max_running, atomicAdd(running, 0));
  __syncthreads();
  if (threadIdx.x == 0) {
    last = b;
    atomicAdd(running, -1);
  }
}

TEST(CudaHostEmulator, BlocksRunOneAfterAnotherAndSharedMemoryPersists) {
  const dim3 grid(3, 2, 2);
  const int blocks = 12;
  std::vector<int> previous(blocks, -2), order(blocks, -1);
  int ticket = 0, running = 0, max_running = 0;
  emu_launch(dim3(1), dim3(1), block_order_kernel, previous.data(), order.data(), &ticket,
             &running, &max_running);  // leaves last = 0 for the launch below
  ticket = 0;
  emu_launch(grid, dim3(48), block_order_kernel, previous.data(), order.data(), &ticket, &running,
             &max_running);
  EXPECT_EQ(max_running, 1);
  for (int b = 0; b < blocks; ++b) {
    EXPECT_EQ(order[static_cast<std::size_t>(b)], b) << "blockIdx order is x fastest";
    EXPECT_EQ(previous[static_cast<std::size_t>(b)], b == 0 ? 0 : b - 1)
        << "__shared__ is one per kernel, kept between blocks";
  }
}

// ---- built-ins ----

TEST(CudaHostEmulator, BuiltIns) {
  const float a = 1.0f + 0x1p-12f, b = 1.0f - 0x1p-12f, c = -1.0f;
  EXPECT_EQ(__fmaf_rn(a, b, c), std::fma(a, b, c));  // one rounding: -2^-24, not 0
  EXPECT_EQ(__fmaf_rn(a, b, c), -0x1p-24f);
  EXPECT_EQ(rsqrtf(4.0f), 0.5f);
  const int x[2] = {7, 9};
  EXPECT_EQ(__ldg(x + 1), 9);
  EXPECT_EQ(__ldcg(x), 7);
  EXPECT_EQ(warpSize, 32);
  const dim3 d(5);
  EXPECT_EQ(d.y * d.z, 1u);
}

}  // namespace
