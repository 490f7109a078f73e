// Chapter 7.5's bf16 wgmma + TMA GEMM (chapters/ch07_cuda_from_cpp/wgmma_kernels.cuh, the text
// nvcc compiles for sm_90a) run on the CPU through the host emulator, its PTX instructions
// replaced by host models written from the PTX ISA (wgmma_models.hpp): TMA with the 128-byte
// swizzle and zero fill, mbarriers with real phase/parity and transaction-count semantics,
// wgmma executed late (at the wait_group that retires it) from shared-memory descriptors.
//
// The kernel runs with the launcher's grid, block and shared memory (wgmma_launch_config) and
// tensor maps built from the launcher's own parameters (wgmma_tensor_map_spec), against a double
// product of the bf16 inputs; the shapes cover one tile, edge tiles in M and N, the smallest
// product, a K that wraps the 4-stage ring three times (so every mbarrier's parity flips), 2×2
// blocks, an odd N (scalar stores), and dynamic shared memory that starts 16 bytes past a
// 1024-byte boundary (the kernel's round-up must fit its slack). The models are checked on their
// own against hand-worked numbers (swizzle, descriptor decode, mbarrier phases) and one wgmma
// against an exact integer product whose fragment placement is written here from the ISA's
// table. Negative controls: a wrong descriptor stride gives wrong results, a flipped mbarrier
// parity deadlocks or reads a refilled stage, and a wrong expect_tx count makes the kernel's
// watchdog trap.
//
// What this cannot check: the real instructions (tests/ch07/test_wgmma_gpu.cu does, on an H100),
// speed, TMA's asynchrony, and any misreading of the ISA that the models and the kernel share.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cuda_host_emulator.hpp"
// The real kernels, after the emulator (include order matters here).
#include "ch07_cuda_from_cpp/wgmma_kernels.cuh"

#include "gnm/core/random.hpp"

namespace {

using gnm::emu::emu_launch_dynamic;
namespace ch = gnm::ch07;
namespace wm = gnm::ch07::wgmma_model;

constexpr float kPoison = -777.0f;
constexpr int kGuard = 64;

std::vector<__nv_bfloat16> random_bf16(std::int64_t n, std::uint64_t seed) {
  std::vector<float> f(static_cast<std::size_t>(n));
  if (n > 0) gnm::fill_uniform(f, seed, -1.0f, 1.0f);
  std::vector<__nv_bfloat16> out(f.size());
  for (std::size_t i = 0; i < f.size(); ++i) out[i] = __float2bfloat16(f[i]);
  return out;
}

double to_double(__nv_bfloat16 h) { return static_cast<double>(__bfloat162float(h)); }

struct Result {
  std::vector<float> c;       // kGuard poison, M·N of C, kGuard poison
  double worst_excess = 0.0;  // max over C of |c − exact| − bound (<= 0 when all pass)
  bool guards_intact = true;
};

// Sets the model's faults, clock speed-up and shared base for one scope, and resets them after.
struct ModelScope {
  ModelScope(std::uint64_t descriptor_xor, std::uint32_t flip_parity_at, std::uint32_t extra_tx,
             int timer_speedup, std::uint32_t shared_base = wm::kSharedBase,
             std::uint32_t hold_mma_until_loads = 0) {
    wm::faults().hold_mma_until_loads = hold_mma_until_loads;
    wm::faults().loads_issued = 0;
    wm::faults().descriptor_xor = descriptor_xor;
    wm::faults().flip_parity_at = flip_parity_at;
    wm::faults().extra_expect_tx = extra_tx;
    wm::timer_speedup() = timer_speedup;
    wm::shared_base() = shared_base;
  }
  ModelScope(const ModelScope&) = delete;
  ModelScope& operator=(const ModelScope&) = delete;
  ~ModelScope() {
    wm::faults().hold_mma_until_loads = 0;
    wm::faults().descriptor_xor = 0;
    wm::faults().flip_parity_at = 0;
    wm::faults().extra_expect_tx = 0;
    wm::timer_speedup() = 1;
    wm::shared_base() = wm::kSharedBase;
  }
};

// C = A·Bᵀ through the emulated kernel, launched as wgmma_gemm_bf16 launches it, checked against
// a double product of the same bf16 values. Error bound: the products of bf16 values are exact in
// fp32 and the model adds them one at a time in fp32, each addition erring by at most 2^-24 of a
// partial sum bounded by Σ|a||b|, so |c − exact| <= K · 2^-24 · Σ_k |a_ik||b_jk|; we allow
// K · 2^-23 · Σ|a||b|, twice that (an element never written stays −777 and fails it).
Result run_gemm(int M, int N, int K, std::uint64_t seed) {
  const std::vector<__nv_bfloat16> A = random_bf16(std::int64_t{M} * K, seed);
  const std::vector<__nv_bfloat16> B = random_bf16(std::int64_t{N} * K, seed + 1);
  Result r;
  r.c.assign(static_cast<std::size_t>(std::int64_t{M} * N + 2 * kGuard), kPoison);
  float* C = r.c.data() + kGuard;
  const ch::WgmmaLaunch l = ch::wgmma_launch_config(M, N, K);
  const CUtensorMap map_a =
      wm::encode_tensor_map(A.data(), ch::wgmma_tensor_map_spec(M, K, ch::kWgmmaTileM));
  const CUtensorMap map_b =
      wm::encode_tensor_map(B.data(), ch::wgmma_tensor_map_spec(N, K, ch::kWgmmaTileN));
  const int vector_store = ch::wgmma_vector_store(N, C) ? 1 : 0;
  emu_launch_dynamic(dim3(static_cast<unsigned>(l.blocks)), dim3(static_cast<unsigned>(l.threads)),
                     l.shared_bytes, ch::wgmma_gemm_kernel, map_a, map_b, C, M, N, K,
                     vector_store);
  r.worst_excess = -1.0;
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double exact = 0.0, magnitude = 0.0;
      for (int k = 0; k < K; ++k) {
        const double p = to_double(A[static_cast<std::size_t>(std::int64_t{i} * K + k)]) *
                         to_double(B[static_cast<std::size_t>(std::int64_t{j} * K + k)]);
        exact += p;
        magnitude += std::abs(p);
      }
      const double bound = static_cast<double>(K) * std::ldexp(1.0, -23) * magnitude;
      const double got = static_cast<double>(C[std::int64_t{i} * N + j]);
      r.worst_excess = std::max(r.worst_excess, std::abs(got - exact) - bound);
    }
  }
  for (std::size_t g = 0; g < kGuard; ++g) {
    if (r.c[g] != kPoison || r.c[r.c.size() - 1 - g] != kPoison) r.guards_intact = false;
  }
  return r;
}

void expect_correct(int M, int N, int K) {
  const Result r = run_gemm(M, N, K, 9000 + static_cast<std::uint64_t>(M * 7 + N * 3 + K));
  const std::string what = std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
  EXPECT_LE(r.worst_excess, 0.0) << what;
  EXPECT_TRUE(r.guards_intact) << what;
}

}  // namespace

// ---- the models alone -------------------------------------------------------------------

TEST(Ch07WgmmaEmulated, SwizzleMatchesHandWorkedAddresses) {
  // Bits 4–6 (16-byte chunk) ^= bits 7–9 (128-byte row within the 1024-byte block).
  EXPECT_EQ(wm::swizzle_128b(0x0000u), 0x0000u);
  EXPECT_EQ(wm::swizzle_128b(0x0080u), 0x0090u);  // row 1, chunk 0 → chunk 1
  EXPECT_EQ(wm::swizzle_128b(0x0392u), 0x03E2u);  // row 7, chunk 1 → chunk 6, byte 2 kept
  EXPECT_EQ(wm::swizzle_128b(0x0410u), 0x0410u);  // next 1024-byte block: row 0 again
  EXPECT_EQ(wm::swizzle_128b(0x1AF4u), 0x1AA4u);  // row 5 (0x1A80), chunk 7 → chunk 2
  // TMA box (row r, byte b): chunk b/16 XOR r%8 of a 128-byte row.
  EXPECT_EQ(wm::tma_box_offset(3, 34, 128, true), 3u * 128 + 1 * 16 + 2);  // chunk 2 ^ 3 = 1
  EXPECT_EQ(wm::tma_box_offset(9, 0, 128, true), 9u * 128 + 1 * 16);       // row 9: XOR 1
  EXPECT_EQ(wm::tma_box_offset(3, 34, 128, false), 3u * 128 + 34);
  // The TMA's box-relative pattern and wgmma's address-based one agree only from a 1024-byte
  // boundary: why every stage of the ring starts on one.
  bool agree_1024 = true, agree_128 = true;
  for (std::uint32_t r = 0; r < 64; ++r) {
    for (std::uint32_t b = 0; b < 128; ++b) {
      const std::uint32_t off = wm::tma_box_offset(r, b, 128, true);
      agree_1024 &= wm::swizzle_128b(0x2000u + r * 128 + b) == 0x2000u + off;
      agree_128 &= wm::swizzle_128b(0x2080u + r * 128 + b) == 0x2080u + off;
    }
  }
  EXPECT_TRUE(agree_1024);
  EXPECT_FALSE(agree_128);
}

TEST(Ch07WgmmaEmulated, DescriptorDecodesTheKernelsAndAHandBuiltOne) {
  const wm::Descriptor k = wm::decode_descriptor(ch::smem_descriptor(0x5400u + 64u));
  EXPECT_EQ(k.start, 0x5440u);
  EXPECT_EQ(k.leading, 16u);   // "1": unused for swizzled K-major
  EXPECT_EQ(k.stride, 1024u);  // 8 rows × 128 bytes between core-matrix groups
  EXPECT_EQ(k.base_offset, 0u);
  EXPECT_EQ(k.swizzle, 1u);  // 128-byte swizzle
  // start 0x1230 >> 4 = 0x123, LBO 32 >> 4 = 2, SBO 128 >> 4 = 8, base offset 5, 32B swizzle (3).
  const std::uint64_t hand = 0x123u | (std::uint64_t{2} << 16) | (std::uint64_t{8} << 32) |
                             (std::uint64_t{5} << 49) | (std::uint64_t{3} << 62);
  const wm::Descriptor h = wm::decode_descriptor(hand);
  EXPECT_EQ(h.start, 0x1230u);
  EXPECT_EQ(h.leading, 32u);
  EXPECT_EQ(h.stride, 128u);
  EXPECT_EQ(h.base_offset, 5u);
  EXPECT_EQ(h.swizzle, 3u);
  // The address field keeps 18 bits of the shared address: a shared window is 256 KiB.
  EXPECT_EQ(wm::decode_descriptor(ch::smem_descriptor(0x7FFF0u)).start, 0x3FFF0u);
}

TEST(Ch07WgmmaEmulated, MbarrierPhasesParitiesAndTransactionCounts) {
  const gnm::emu::DynamicSharedScope shared(64);
  const std::uint32_t bar = wm::kSharedBase + 8;
  wm::mbarrier_init(bar, 2);
  EXPECT_FALSE(wm::mbarrier_try_wait_parity(bar, 0));  // phase 0 is running
  EXPECT_TRUE(wm::mbarrier_try_wait_parity(bar, 1));   // "the phase before" counts as complete
  wm::mbarrier_arrive(bar);
  EXPECT_FALSE(wm::mbarrier_try_wait_parity(bar, 0));
  wm::mbarrier_arrive_expect_tx(bar, 100);  // both arrivals in, 100 bytes still due
  EXPECT_FALSE(wm::mbarrier_try_wait_parity(bar, 0));
  wm::mbarrier_complete_tx(bar, 60);
  EXPECT_FALSE(wm::mbarrier_try_wait_parity(bar, 0));
  wm::mbarrier_complete_tx(bar, 40);  // phase 0 completes
  EXPECT_TRUE(wm::mbarrier_try_wait_parity(bar, 0));
  EXPECT_FALSE(wm::mbarrier_try_wait_parity(bar, 1));  // phase 1 is running
  // Bytes may land before they are expected (tx goes negative): still no completion without
  // both arrivals.
  wm::mbarrier_complete_tx(bar, 8);
  wm::mbarrier_arrive(bar);
  EXPECT_FALSE(wm::mbarrier_try_wait_parity(bar, 1));
  wm::mbarrier_arrive_expect_tx(bar, 8);
  EXPECT_TRUE(wm::mbarrier_try_wait_parity(bar, 1));   // phase 1 done
  EXPECT_FALSE(wm::mbarrier_try_wait_parity(bar, 0));  // phase 2 (parity 0) running

  // Across threads: data written before the completing arrival is visible after the wait.
  wm::mbarrier_init(bar, 1);
  int payload = 0;
  std::thread producer([&] {
    payload = 42;
    wm::mbarrier_arrive(bar);
  });
  while (!wm::mbarrier_try_wait_parity(bar, 0)) {
  }
  EXPECT_EQ(payload, 42);
  producer.join();
}

namespace {

// One warpgroup: thread 0 loads a 64×64 A box and a 256×64 B box with the TMA model (the
// launcher's tensor-map parameters), everyone waits, then one wgmma m64n256k16 on k-slice
// `slice` (columns 16·slice … 16·slice + 15) with the kernel's descriptors; each thread writes its
// 128 accumulators to out[thread·128 + i].
void one_wgmma_kernel(CUtensorMap map_a, CUtensorMap map_b, int slice, float* out) {
  unsigned char* const raw = gnm::emu::dynamic_shared();
  const std::uint32_t base = (ch::shared_address(raw) + 1023u) & ~1023u;
  const std::uint32_t a = base, b = base + 64 * 128, bar = b + 256 * 128;
  if (threadIdx.x == 0) {
    ch::mbarrier_init(bar, 1);
    ch::mbarrier_arrive_expect_tx(bar, (64 + 256) * 128);
    ch::tma_load_2d(a, &map_a, bar, 0, 0);
    ch::tma_load_2d(b, &map_b, bar, 0, 0);
  }
  __syncthreads();
  ch::mbarrier_wait(bar, 0);
  float d[128];
  for (int i = 0; i < 128; ++i) d[i] = 1.0f;  // accumulate onto 1: checks scale-d = 1
  ch::wgmma_fence();
  const std::uint32_t k_bytes = 32u * static_cast<std::uint32_t>(slice);
  ch::wgmma_m64n256k16(d, ch::smem_descriptor(a + k_bytes), ch::smem_descriptor(b + k_bytes));
  ch::wgmma_commit();
  ch::wgmma_wait<0>();
  for (int i = 0; i < 128; ++i) out[threadIdx.x * 128 + static_cast<unsigned>(i)] = d[i];
}

}  // namespace

TEST(Ch07WgmmaEmulated, OneWgmmaOnIntegersMatchesTheIsaFragmentTable) {
  // Integers in [-4, 4]: every product and sum is exact in fp32, so the comparison is exact.
  constexpr int K = 64;
  std::vector<__nv_bfloat16> A(64 * K), B(256 * K);
  for (int r = 0; r < 64; ++r) {
    for (int k = 0; k < K; ++k) {
      A[static_cast<std::size_t>(r * K + k)] =
          __float2bfloat16(static_cast<float>((r * 7 + k * 3) % 9 - 4));
    }
  }
  for (int c = 0; c < 256; ++c) {
    for (int k = 0; k < K; ++k) {
      B[static_cast<std::size_t>(c * K + k)] =
          __float2bfloat16(static_cast<float>((c * 5 + k * 11) % 9 - 4));
    }
  }
  const CUtensorMap map_a = wm::encode_tensor_map(A.data(), ch::wgmma_tensor_map_spec(64, K, 64));
  const CUtensorMap map_b =
      wm::encode_tensor_map(B.data(), ch::wgmma_tensor_map_spec(256, K, 256));
  for (const int slice : {0, 2}) {
    std::vector<float> out(128 * 128, kPoison);
    emu_launch_dynamic(dim3(1), dim3(128), 64 * 128 + 256 * 128 + 8 + 1024, one_wgmma_kernel,
                       map_a, map_b, slice, out.data());
    // The ISA's accumulator table for m64nNk16, written out independently of the model: thread
    // t of the warpgroup, warp w = t / 32, g = (t % 32) / 4, q = t % 4; register 4j + i holds
    // row 16w + g (+8 for i = 2, 3), column 8j + 2q (+1 for i = 1, 3).
    int mismatches = 0;
    for (int t = 0; t < 128; ++t) {
      const int w = t / 32, g = (t % 32) / 4, q = t % 4;
      for (int j = 0; j < 32; ++j) {
        for (int i = 0; i < 4; ++i) {
          const int row = 16 * w + g + (i >= 2 ? 8 : 0);
          const int col = 8 * j + 2 * q + (i % 2);
          float expect = 1.0f;
          for (int k = 16 * slice; k < 16 * slice + 16; ++k) {
            expect += __bfloat162float(A[static_cast<std::size_t>(row * K + k)]) *
                      __bfloat162float(B[static_cast<std::size_t>(col * K + k)]);
          }
          if (out[static_cast<std::size_t>(t * 128 + 4 * j + i)] != expect) ++mismatches;
        }
      }
    }
    EXPECT_EQ(mismatches, 0) << "k-slice " << slice;
  }
}

// ---- the kernel -----------------------------------------------------------------------------

TEST(Ch07WgmmaEmulated, KernelMatchesDoubleReference) {
#if defined(__SANITIZE_THREAD__)
  expect_correct(130, 260, 64);      // edge tiles in M and N: 2×2 blocks
  expect_correct(128, 256, 64 * 9);  // the ring wraps twice: parities flip and flip back
#else
  expect_correct(128, 256, 64);       // exactly one tile
  expect_correct(130, 260, 64);       // M and N not multiples of the tile: 2×2 blocks, edges
  expect_correct(1, 1, 8);            // the smallest product (K must be a multiple of 8)
  expect_correct(128, 256, 64 * 12);  // 12 k-tiles: the 4-stage ring wraps 3 times
  expect_correct(77, 255, 136);       // odd N: scalar stores; K not a multiple of 64
#endif
}

TEST(Ch07WgmmaEmulated, KernelFitsWhenDynamicSharedMemoryIsOnly16ByteAligned) {
  // A GPU only promises 16-byte alignment: starting 16 bytes past a 1024-byte boundary, the
  // kernel rounds up by 1008 bytes and the ring and barriers must still fit kWgmmaSharedBytes
  // (the model reports any access past the end).
  const ModelScope unaligned(0, 0, 0, 1, wm::kSharedBase + 16);
  expect_correct(130, 260, 128);
}

// ---- negative controls ----------------------------------------------------------------------

TEST(Ch07WgmmaEmulated, WrongDescriptorStrideGivesWrongResults) {
  // SBO 1024 → 512 bytes (field 64 → 32): core-matrix groups read from the wrong rows.
  const ModelScope fault(std::uint64_t{64 ^ 32} << 32, 0, 0, 1);
  const Result r = run_gemm(128, 256, 64, 77);
  EXPECT_GT(r.worst_excess, 0.01);
}

TEST(Ch07WgmmaEmulated, WrongExpectTxCountTrapsTheWatchdog) {
  // 16 bytes more than the two copies deliver: full[s] never completes, so the consumers' wait
  // runs into the kernel's 10 s watchdog (__trap), here after 2 s with the clock 5× fast.
  const ModelScope fault(0, 0, 16, 5);
  try {
    run_gemm(128, 256, 64, 78);
    ADD_FAILURE() << "the launch should have trapped";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("__trap()"), std::string::npos) << e.what();
  }
}

#if !defined(__SANITIZE_THREAD__)  // refilling a stage while it is read is the race it shows
namespace {

// The shared address the kernel gives empty[s] (see wgmma_gemm_kernel): after the ring come
// full[0..3], then empty[0..3], from the first 1024-aligned address of the dynamic shared memory
// (kSharedBase itself).
std::uint32_t empty_barrier(int s) {
  return wm::kSharedBase + ch::kWgmmaStages * ch::kWgmmaStageBytes +
         8u * static_cast<std::uint32_t>(ch::kWgmmaStages + s);
}

}  // namespace

TEST(Ch07WgmmaEmulated, FlippedMbarrierParityIsCaught) {
  // The producer waits on empty[0] with the wrong parity (the bug `round & 1` for
  // `(round - 1) & 1`): its wait for round 1 passes at once, so it refills stage 0 with k-tile 4
  // while the consumers may still need k-tile 0. Two outcomes are possible, and both are caught:
  // the refill completes full[0]'s second phase before a consumer first waits on it, so that
  // consumer waits for a parity that has gone by and the watchdog traps; or the consumer got in
  // earlier and computes k-tile 0 from overwritten data, so C is wrong. A silently correct C needs
  // the consumers to finish k-tile 0 before the refill lands; the model rules that out by holding
  // every wgmma until all 10 TMA loads (5 k-tiles of A and B) have landed.
  const ModelScope fault(0, empty_barrier(0), 0, 5, wm::kSharedBase, 10);
  try {
    const Result r = run_gemm(128, 256, 64 * 5, 79);
    EXPECT_GT(r.worst_excess, 0.01) << "a flipped parity went unnoticed";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("__trap()"), std::string::npos) << e.what();
  }
}
#endif
