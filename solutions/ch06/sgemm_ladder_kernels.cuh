// The SGEMM ladder's kernels (chapter 6.2): device helpers, then the kernels of rungs 1–9, in
// order. sgemm_ladder.hpp states the contract and lists the rungs, sgemm_ladder.cpp holds their
// launch configurations and sgemm_ladder.cu their launchers and the cuBLAS baseline.
//
// This header includes no CUDA header, so the same text compiles twice: with nvcc, included by
// sgemm_ladder.cu, and with g++ in tests/ch06 after the host emulator
// (tests/emu/cuda_host_emulator.hpp: one std::thread per CUDA thread, __syncthreads() as a
// block-wide barrier). CI thus runs every rung, exercises 6.1 and 6.2 included, on the CPU and
// checks its index math, edge tiles and barrier placement against a double-precision reference;
// what the emulator cannot show (coalescing, bank conflicts, speed) needs a GPU.
//
// Napkin math, H100 SXM: FP32 peak = 132 SMs × 128 FMA/clock × 2 FLOP × 1.98 GHz ≈ 67 TFLOP/s;
// 4096³ is 2 · 4096³ = 137 GFLOP, 2.1 ms at peak. A block that computes a BM × BN tile of C loads
// BK · (BM + BN) floats per K step for 2 · BM · BN · BK FLOP: BM · BN / (2 · (BM + BN)) FLOP per
// byte from global memory — 8 for rung 3's 32 × 32 tiles, 32 for 128 × 128. Feeding 67 TFLOP/s
// from HBM3's 3.35 TB/s needs 20 FLOP/B, so only the big tiles could live without the L2.
// Inside the SM, an 8 × 8 register tile turns 16 shared-memory loads into 64 FMAs.
//
// Every kernel is correct for any M, N, K: tiles that hang over an edge read zeros and skip their
// stores, and every element offset is computed in 64 bits (row · ld + col).
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "sgemm_ladder_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include "sgemm_ladder.hpp"  // the tile sizes (kPadA, …); no CUDA header under the emulator

namespace gnm::ch06 {
#if defined(GNM_CUDA_HOST_EMULATOR)
// The host copies get their own symbols: a test that links the real launchers too must never
// merge an emulated kernel with nvcc's host stub of the same name (its template instances are weak
// symbols, so the linker would keep one of the two, silently).
inline namespace host_emulated {
#endif

// ---- device helpers ---------------------------------------------------------------------------

//! [store_c]
/// C[i] = alpha · acc + beta · C[i]. With beta == 0, C[i] is not read: NaN or garbage in C does
/// not propagate (BLAS semantics).
__device__ __forceinline__ void store_c(float* C, long long i, float acc, float alpha, float beta) {
  C[i] = beta == 0.0f ? alpha * acc : alpha * acc + beta * C[i];
}
//! [store_c]

/// Copies the kRows × kCols tile at (r0, c0) of a row-major rows × cols matrix into shared memory,
/// zeros outside the matrix; all kThreads threads of the block take part, consecutive threads on
/// consecutive columns (coalesced).
template <int kRows, int kCols, int kThreads>
__device__ __forceinline__ void load_tile(float (&tile)[kRows][kCols], const float* __restrict__ src,
                                          int rows, int cols, int r0, int c0) {
  static_assert((kRows * kCols) % kThreads == 0, "every thread copies the same number of elements");
#pragma unroll
  for (int j = 0; j < kRows * kCols / kThreads; ++j) {
    const int e = j * kThreads + static_cast<int>(threadIdx.x);
    const int r = e / kCols, c = e % kCols;
    tile[r][c] = (r0 + r < rows && c0 + c < cols)
                     ? src[static_cast<long long>(r0 + r) * cols + c0 + c]
                     : 0.0f;
  }
}

/// The 4 floats at (row, col … col + 3) of a row-major rows × cols matrix, zeros outside it.
/// kVec: one 128-bit load, valid because cols % 4 == 0 and col % 4 == 0 (a float4 is all inside
/// or all outside) and the matrix is 16-byte aligned; otherwise four checked scalar loads.
template <bool kVec>
__device__ __forceinline__ float4 load4(const float* __restrict__ src, int row, int col, int rows,
                                        int cols) {
  float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  if (row < rows) {
    const float* p = src + static_cast<long long>(row) * cols;
    if constexpr (kVec) {
      if (col < cols) v = *reinterpret_cast<const float4*>(p + col);
    } else {
      if (col < cols) v.x = p[col];
      if (col + 1 < cols) v.y = p[col + 1];
      if (col + 2 < cols) v.z = p[col + 2];
      if (col + 3 < cols) v.w = p[col + 3];
    }
  }
  return v;
}

/// C[row, col … col + 3] = alpha · v + beta · C[…], for the columns inside C (128-bit with kVec).
template <bool kVec>
__device__ __forceinline__ void store4(float* C, int row, int col, int M, int N, float4 v,
                                       float alpha, float beta) {
  if (row >= M) return;
  float* p = C + static_cast<long long>(row) * N;
  if constexpr (kVec) {
    if (col < N) {
      float4* c4 = reinterpret_cast<float4*>(p + col);
      float4 out = make_float4(alpha * v.x, alpha * v.y, alpha * v.z, alpha * v.w);
      if (beta != 0.0f) {
        const float4 old = *c4;
        out = make_float4(out.x + beta * old.x, out.y + beta * old.y, out.z + beta * old.z,
                          out.w + beta * old.w);
      }
      *c4 = out;
    }
  } else {
    const float e[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      if (col + q < N) store_c(p, col + q, e[q], alpha, beta);
    }
  }
}

/// Where a thread's 8 × 8 results of rungs 6–9 lie in the block tile: rows r0 … r0 + 3 and
/// r1 … r1 + 3, columns c0 … c0 + 3 and c1 … c1 + 3 (each slice 16-byte aligned).
struct Frag {
  int r0, r1, c0, c1;
};

// Note [A tile mapping]. Rungs 6–9 move a BM × BK tile of A and a BK × BN tile of B through
// registers, 4 floats at a time. Group f of A is row (f / 2) % BM, columns 4 · (2 · (f / 2BM) +
// f % 2): two neighbouring threads read the two float4 of one row's 8-column slice (32 bytes,
// one sector), and a warp covers 16 rows. Group f of B is row f / (BN / 4), columns
// 4 · (f % (BN / 4)): a warp reads 512 contiguous bytes. A is stored transposed, As[k][m] with
// row stride kLdA, so that the compute loop reads a thread's rows of A as float4.
//! [tile_stage]
template <int BM, int BN, int BK, int kThreads>
struct TileStage {
  static_assert(BK % 8 == 0, "A is read in 8-column slices");
  static_assert((BM * BK / 4) % kThreads == 0 && (BK * BN / 4) % kThreads == 0,
                "every thread moves the same number of float4");
  static constexpr int kA4 = BM * BK / 4 / kThreads;  // float4 of A per thread
  static constexpr int kB4 = BK * BN / 4 / kThreads;  // float4 of B per thread
  float4 a[kA4];
  float4 b[kB4];

  __device__ static int a_row(int f) { return (f / 2) % BM; }
  __device__ static int a_col(int f) { return 4 * (2 * (f / (2 * BM)) + f % 2); }
  __device__ static int b_row(int f) { return f / (BN / 4); }
  __device__ static int b_col(int f) { return 4 * (f % (BN / 4)); }

  /// Global → registers: the tiles at A[m0, k0] and B[k0, n0] (zeros outside the matrices).
  template <bool kVec>
  __device__ void load(const float* __restrict__ A, const float* __restrict__ B, int M, int N,
                       int K, int m0, int n0, int k0) {
#pragma unroll
    for (int i = 0; i < kA4; ++i) {
      const int f = i * kThreads + static_cast<int>(threadIdx.x);
      a[i] = load4<kVec>(A, m0 + a_row(f), k0 + a_col(f), M, K);
    }
#pragma unroll
    for (int i = 0; i < kB4; ++i) {
      const int f = i * kThreads + static_cast<int>(threadIdx.x);
      b[i] = load4<kVec>(B, k0 + b_row(f), n0 + b_col(f), K, N);
    }
  }

  /// Registers → shared memory: As (BK, kLdA) transposed, Bs (BK, BN) as is.
  template <int kLdA>
  __device__ void store(float* As, float* Bs) const {
#pragma unroll
    for (int i = 0; i < kA4; ++i) {
      const int f = i * kThreads + static_cast<int>(threadIdx.x);
      const int r = a_row(f), c = a_col(f);
      As[(c + 0) * kLdA + r] = a[i].x;
      As[(c + 1) * kLdA + r] = a[i].y;
      As[(c + 2) * kLdA + r] = a[i].z;
      As[(c + 3) * kLdA + r] = a[i].w;
    }
#pragma unroll
    for (int i = 0; i < kB4; ++i) {
      const int f = i * kThreads + static_cast<int>(threadIdx.x);
      *reinterpret_cast<float4*>(Bs + b_row(f) * BN + b_col(f)) = b[i];
    }
  }
};
//! [tile_stage]

//! [mma_8x8]
/// acc += (this thread's 8 rows of As)ᵀ · (its 8 columns of Bs) over one K tile: per k, four
/// 128-bit shared-memory loads feed 64 FMAs.
template <int BK, int kLdA, int kLdB>
__device__ __forceinline__ void mma_8x8(const float* As, const float* Bs, Frag f,
                                        float (&acc)[8][8]) {
#pragma unroll
  for (int k = 0; k < BK; ++k) {
    const float4 a0 = *reinterpret_cast<const float4*>(As + k * kLdA + f.r0);
    const float4 a1 = *reinterpret_cast<const float4*>(As + k * kLdA + f.r1);
    const float4 b0 = *reinterpret_cast<const float4*>(Bs + k * kLdB + f.c0);
    const float4 b1 = *reinterpret_cast<const float4*>(Bs + k * kLdB + f.c1);
    const float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
    const float b[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
    for (int i = 0; i < 8; ++i) {
#pragma unroll
      for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
  }
}
//! [mma_8x8]

/// Writes a thread's 8 × 8 results (block tile at m0, n0) to C.
template <bool kVec>
__device__ __forceinline__ void store_8x8(float* C, int M, int N, int m0, int n0, Frag f,
                                          const float (&acc)[8][8], float alpha, float beta) {
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int row = m0 + (i < 4 ? f.r0 : f.r1) + i % 4;
    store4<kVec>(C, row, n0 + f.c0, M, N,
                 make_float4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]), alpha, beta);
    store4<kVec>(C, row, n0 + f.c1, M, N,
                 make_float4(acc[i][4], acc[i][5], acc[i][6], acc[i][7]), alpha, beta);
  }
}

/// One shared-memory stage (rungs 6–7): load, barrier, compute, barrier, per K tile.
template <int BM, int BN, int BK, int kLdA, int kThreads, bool kVec>
__device__ __forceinline__ void mainloop_one_stage(const float* __restrict__ A,
                                                   const float* __restrict__ B, int M, int N, int K,
                                                   int m0, int n0, float* As, float* Bs, Frag f,
                                                   float (&acc)[8][8]) {
  TileStage<BM, BN, BK, kThreads> stage;
  for (int k0 = 0; k0 < K; k0 += BK) {
    stage.template load<kVec>(A, B, M, N, K, m0, n0, k0);
    stage.template store<kLdA>(As, Bs);
    __syncthreads();  // the tiles are complete
    mma_8x8<BK, kLdA, BN>(As, Bs, f, acc);
    __syncthreads();  // all reads done before the next tiles overwrite them
  }
}

//! [two_stages]
/// Two shared-memory stages (rungs 8–9). While the FMAs run on stage t & 1, the global loads of
/// tile t + 1 are in flight into registers; they land in the other stage afterwards. One barrier
/// per K tile: it orders both "stage t + 1 written before it is read" and "stage t read before
/// tile t + 2 overwrites it".
template <int BM, int BN, int BK, int kLdA, int kThreads, bool kVec>
__device__ __forceinline__ void mainloop_two_stages(const float* __restrict__ A,
                                                    const float* __restrict__ B, int M, int N,
                                                    int K, int m0, int n0, float* As, float* Bs,
                                                    Frag f, float (&acc)[8][8]) {
  constexpr int kStageA = BK * kLdA, kStageB = BK * BN;  // floats per stage
  TileStage<BM, BN, BK, kThreads> stage;
  const int tiles = (K + BK - 1) / BK;
  if (tiles > 0) {
    stage.template load<kVec>(A, B, M, N, K, m0, n0, 0);
    stage.template store<kLdA>(As, Bs);
  }
  __syncthreads();
  for (int t = 0; t < tiles; ++t) {
    const int cur = t & 1;
    const bool more = t + 1 < tiles;  // the same for every thread of the block
    if (more) stage.template load<kVec>(A, B, M, N, K, m0, n0, (t + 1) * BK);
    mma_8x8<BK, kLdA, BN>(As + cur * kStageA, Bs + cur * kStageB, f, acc);
    if (more) stage.template store<kLdA>(As + (cur ^ 1) * kStageA, Bs + (cur ^ 1) * kStageB);
    __syncthreads();
  }
}
//! [two_stages]

// ---- rung 1: naive ----------------------------------------------------------------------------

//! [naive]
__global__ void sgemm_naive_kernel(int M, int N, int K, float alpha, const float* __restrict__ A,
                                   const float* __restrict__ B, float beta,
                                   float* __restrict__ C) {
  // threadIdx.x runs down a column of C: the 32 threads of a warp read 32 rows of A (K floats
  // apart) and write 32 rows of C (N floats apart) — 32 memory transactions per instruction.
  const int m = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int n = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (m >= M || n >= N) return;
  const float* a = A + static_cast<long long>(m) * K;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc += a[k] * B[static_cast<long long>(k) * N + n];
  store_c(C, static_cast<long long>(m) * N + n, acc, alpha, beta);
}
//! [naive]

// ---- rung 2: coalesced ------------------------------------------------------------------------

//! [coalesced]
__global__ void sgemm_coalesced_kernel(int M, int N, int K, float alpha,
                                       const float* __restrict__ A, const float* __restrict__ B,
                                       float beta, float* __restrict__ C) {
  // threadIdx.x runs along a row of C: a warp reads one float of A (a broadcast), 32 consecutive
  // floats of B (one 128-byte line) and writes 32 consecutive floats of C.
  const int m = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  const int n = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (m >= M || n >= N) return;
  const float* a = A + static_cast<long long>(m) * K;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc += a[k] * B[static_cast<long long>(k) * N + n];
  store_c(C, static_cast<long long>(m) * N + n, acc, alpha, beta);
}
//! [coalesced]

// ---- rung 3: shared-memory tiles (exercise 6.1) ------------------------------------------------

//! [tiled_kernel]
template <int kTile>
__global__ void __launch_bounds__(kTile* kTile)
    sgemm_tiled_kernel(int M, int N, int K, float alpha, const float* __restrict__ A,
                       const float* __restrict__ B, float beta, float* __restrict__ C) {
  static_assert(kTile * kTile <= 1024 && (kTile * kTile) % 32 == 0,
                "one thread per element of the tile: whole warps, at most 1024 threads");
  // BEGIN SOLUTION DEVICE("ex 6.1", "stage kTile × kTile tiles As[ty][tx] = A[m, k0 + tx] and Bs[ty][tx] = B[k0 + ty, n] in __shared__ arrays (0.0f outside the matrices), __syncthreads(), accumulate As[ty][k] · Bs[k][tx] over k, __syncthreads() again; m = blockIdx.y · kTile + ty, n = blockIdx.x · kTile + tx; finally store_c if m < M and n < N. Every thread must reach every barrier.")
  __shared__ float As[kTile][kTile];  // (m, k): this block's rows of A
  __shared__ float Bs[kTile][kTile];  // (k, n): this block's columns of B
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const int m = static_cast<int>(blockIdx.y) * kTile + ty;
  const int n = static_cast<int>(blockIdx.x) * kTile + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < K; k0 += kTile) {
    // One element of each tile per thread; a warp (one ty, tx = 0 … 31) reads 32 consecutive
    // floats of a row of A and of B. Zeros outside the matrices keep the loop below branch-free.
    As[ty][tx] = (m < M && k0 + tx < K) ? A[static_cast<long long>(m) * K + k0 + tx] : 0.0f;
    Bs[ty][tx] = (k0 + ty < K && n < N) ? B[static_cast<long long>(k0 + ty) * N + n] : 0.0f;
    __syncthreads();  // the tiles are complete
#pragma unroll
    for (int k = 0; k < kTile; ++k) acc += As[ty][k] * Bs[k][tx];
    __syncthreads();  // all reads done before the next tiles overwrite them
  }
  if (m < M && n < N) store_c(C, static_cast<long long>(m) * N + n, acc, alpha, beta);
  // END SOLUTION
}
//! [tiled_kernel]

// ---- rung 4: 1-D register tiles ---------------------------------------------------------------

//! [reg1d]
template <int BM, int BN, int BK, int TM>
__global__ void __launch_bounds__((BM / TM) * BN)
    sgemm_reg1d_kernel(int M, int N, int K, float alpha, const float* __restrict__ A,
                       const float* __restrict__ B, float beta, float* __restrict__ C) {
  static_assert(BM % TM == 0, "the rows of a block tile split evenly over its threads");
  constexpr int kThreads = (BM / TM) * BN;
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "whole warps, at most 1024 threads");
  __shared__ float As[BM][BK];  // (m, k)
  __shared__ float Bs[BK][BN];  // (k, n)
  const int tid = static_cast<int>(threadIdx.x);
  const int m0 = static_cast<int>(blockIdx.y) * BM, n0 = static_cast<int>(blockIdx.x) * BN;
  const int col = tid % BN;          // a warp: 32 consecutive columns ...
  const int row0 = (tid / BN) * TM;  // ... of the same TM rows, so its reads of As broadcast
  float acc[TM] = {};
  for (int k0 = 0; k0 < K; k0 += BK) {
    load_tile<BM, BK, kThreads>(As, A, M, K, m0, k0);
    load_tile<BK, BN, kThreads>(Bs, B, K, N, k0, n0);
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      const float b = Bs[k][col];  // one shared load, reused TM times from a register
#pragma unroll
      for (int i = 0; i < TM; ++i) acc[i] += As[row0 + i][k] * b;
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int m = m0 + row0 + i, n = n0 + col;
    if (m < M && n < N) store_c(C, static_cast<long long>(m) * N + n, acc[i], alpha, beta);
  }
}
//! [reg1d]

// ---- rung 5: 2-D register tiles (exercise 6.2) -------------------------------------------------

//! [reg2d_kernel]
template <int BM, int BN, int BK, int TM, int TN>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
    sgemm_reg2d_kernel(int M, int N, int K, float alpha, const float* __restrict__ A,
                       const float* __restrict__ B, float beta, float* __restrict__ C) {
  static_assert(BM % TM == 0 && BN % TN == 0, "a block tile splits evenly into thread tiles");
  constexpr int kThreads = (BM / TM) * (BN / TN);
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "whole warps, at most 1024 threads");
  static_assert((BM * BK) % kThreads == 0 && (BK * BN) % kThreads == 0,
                "every thread loads the same number of tile elements");
  // BEGIN SOLUTION DEVICE("ex 6.2", "__shared__ As[BM][BK], Bs[BK][BN]; thread tid computes rows row0 = (tid / (BN / TN)) · TM … + TM − 1 and columns col0 = (tid % (BN / TN)) · TN … + TN − 1 of the tile at (blockIdx.y · BM, blockIdx.x · BN); per K step load_tile both tiles, __syncthreads(), then for each k copy TM values of As and TN of Bs into registers and do TM · TN FMAs into acc[TM][TN]; __syncthreads(); finally store_c each result inside C")
  __shared__ float As[BM][BK];  // (m, k)
  __shared__ float Bs[BK][BN];  // (k, n)
  const int tid = static_cast<int>(threadIdx.x);
  const int m0 = static_cast<int>(blockIdx.y) * BM, n0 = static_cast<int>(blockIdx.x) * BN;
  const int row0 = (tid / (BN / TN)) * TM;  // this thread's TM × TN block of the tile
  const int col0 = (tid % (BN / TN)) * TN;
  float acc[TM][TN] = {};
  float a[TM], b[TN];
  for (int k0 = 0; k0 < K; k0 += BK) {
    load_tile<BM, BK, kThreads>(As, A, M, K, m0, k0);
    load_tile<BK, BN, kThreads>(Bs, B, K, N, k0, n0);
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      // TM + TN shared loads feed TM · TN FMAs: the outer product of a column of the A tile and
      // a row of the B tile, held in registers.
#pragma unroll
      for (int i = 0; i < TM; ++i) a[i] = As[row0 + i][k];
#pragma unroll
      for (int j = 0; j < TN; ++j) b[j] = Bs[k][col0 + j];
#pragma unroll
      for (int i = 0; i < TM; ++i) {
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; ++i) {
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int m = m0 + row0 + i, n = n0 + col0 + j;
      if (m < M && n < N) store_c(C, static_cast<long long>(m) * N + n, acc[i][j], alpha, beta);
    }
  }
  // END SOLUTION
}
//! [reg2d_kernel]

// ---- rung 6: float4 loads ---------------------------------------------------------------------

//! [vec4]
template <int BM, int BN, int BK, bool kVec>
__global__ void __launch_bounds__((BM / 8) * (BN / 8))
    sgemm_vec4_kernel(int M, int N, int K, float alpha, const float* __restrict__ A,
                      const float* __restrict__ B, float beta, float* __restrict__ C) {
  static_assert(BM % 8 == 0 && BN % 8 == 0, "8 × 8 results per thread");
  constexpr int kThreads = (BM / 8) * (BN / 8);
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "whole warps, at most 1024 threads");
  __shared__ __align__(16) float As[BK * BM];  // (BK, BM): the A tile transposed
  __shared__ __align__(16) float Bs[BK * BN];  // (BK, BN)
  const int tr = static_cast<int>(threadIdx.x) / (BN / 8), tc = static_cast<int>(threadIdx.x) % (BN / 8);
  const Frag f{tr * 8, tr * 8 + 4, tc * 8, tc * 8 + 4};  // 8 contiguous rows and columns
  float acc[8][8] = {};
  const int m0 = static_cast<int>(blockIdx.y) * BM, n0 = static_cast<int>(blockIdx.x) * BN;
  mainloop_one_stage<BM, BN, BK, BM, kThreads, kVec>(A, B, M, N, K, m0, n0, As, Bs, f, acc);
  store_8x8<kVec>(C, M, N, m0, n0, f, acc, alpha, beta);
}
//! [vec4]

// ---- rung 7: no bank conflicts ----------------------------------------------------------------

// Note [Bank conflicts]. Shared memory has 32 banks of 4 bytes; a 128-bit access is served a
// quarter warp (8 threads, 128 bytes) at a time. Rung 6 has two conflicts. (1) Reading B: thread
// tc reads columns 8·tc … 8·tc + 7, so 8 neighbouring threads touch 256 bytes — two of them per
// bank group: 2-way. Rung 7 gives each thread columns 4·tc … and BN/2 + 4·tc …: 8 threads read
// 128 contiguous bytes. (2) Storing A transposed: threads 2i and 2i+1 write the same column m of
// rows k and k + 4, which lie 4 · BM floats apart — a multiple of 32: same bank, 2-way. Padding
// each row to BM + 4 floats moves row k + 4 by 16 banks (4 · 4), so the 32 stores of a warp hit
// 32 different banks, and rows stay 16-byte aligned for the float4 reads.
//! [conflict_free]
template <int BM, int BN, int BK, bool kVec>
__global__ void __launch_bounds__((BM / 8) * (BN / 8))
    sgemm_conflict_free_kernel(int M, int N, int K, float alpha, const float* __restrict__ A,
                               const float* __restrict__ B, float beta, float* __restrict__ C) {
  static_assert(BM % 8 == 0 && BN % 8 == 0, "8 × 8 results per thread");
  constexpr int kThreads = (BM / 8) * (BN / 8);
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "whole warps, at most 1024 threads");
  constexpr int kLdA = BM + kPadA;
  __shared__ __align__(16) float As[BK * kLdA];  // (BK, BM + pad): A transposed and padded
  __shared__ __align__(16) float Bs[BK * BN];    // (BK, BN)
  const int tr = static_cast<int>(threadIdx.x) / (BN / 8), tc = static_cast<int>(threadIdx.x) % (BN / 8);
  const Frag f{tr * 4, BM / 2 + tr * 4, tc * 4, BN / 2 + tc * 4};  // two 4-wide slices per axis
  float acc[8][8] = {};
  const int m0 = static_cast<int>(blockIdx.y) * BM, n0 = static_cast<int>(blockIdx.x) * BN;
  mainloop_one_stage<BM, BN, BK, kLdA, kThreads, kVec>(A, B, M, N, K, m0, n0, As, Bs, f, acc);
  store_8x8<kVec>(C, M, N, m0, n0, f, acc, alpha, beta);
}
//! [conflict_free]

// ---- rung 8: double buffering -----------------------------------------------------------------

//! [double_buffer]
template <int BM, int BN, int BK, bool kVec>
__global__ void __launch_bounds__((BM / 8) * (BN / 8))
    sgemm_double_buffer_kernel(int M, int N, int K, float alpha, const float* __restrict__ A,
                               const float* __restrict__ B, float beta, float* __restrict__ C) {
  static_assert(BM % 8 == 0 && BN % 8 == 0, "8 × 8 results per thread");
  constexpr int kThreads = (BM / 8) * (BN / 8);
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "whole warps, at most 1024 threads");
  constexpr int kLdA = BM + kPadA;
  __shared__ __align__(16) float As[2 * BK * kLdA];  // two stages of (BK, BM + pad)
  __shared__ __align__(16) float Bs[2 * BK * BN];    // two stages of (BK, BN)
  const int tr = static_cast<int>(threadIdx.x) / (BN / 8), tc = static_cast<int>(threadIdx.x) % (BN / 8);
  const Frag f{tr * 4, BM / 2 + tr * 4, tc * 4, BN / 2 + tc * 4};
  float acc[8][8] = {};
  const int m0 = static_cast<int>(blockIdx.y) * BM, n0 = static_cast<int>(blockIdx.x) * BN;
  mainloop_two_stages<BM, BN, BK, kLdA, kThreads, kVec>(A, B, M, N, K, m0, n0, As, Bs, f, acc);
  store_8x8<kVec>(C, M, N, m0, n0, f, acc, alpha, beta);
}
//! [double_buffer]

// ---- rung 9: warp tiles -----------------------------------------------------------------------

//! [warptile]
template <int BM, int BN, int BK, int WM, int WN, bool kVec>
__global__ void __launch_bounds__((BM / WM) * (BN / WN) * 32, 2)
    sgemm_warptile_kernel(int M, int N, int K, float alpha, const float* __restrict__ A,
                          const float* __restrict__ B, float beta, float* __restrict__ C) {
  static_assert(BM % WM == 0 && BN % WN == 0, "the block tile splits evenly into warp tiles");
  constexpr int kLanesM = WM / 8, kLanesN = WN / 8;  // lanes along M and N: 8 results each
  static_assert(kLanesM * kLanesN == 32 && kLanesM % 8 == 0,
                "a warp is kLanesM × kLanesN lanes; 8 lanes along M make a conflict-free quarter warp");
  constexpr int kWarpsN = BN / WN;
  constexpr int kThreads = (BM / WM) * kWarpsN * 32;
  static_assert(kThreads <= 1024, "at most 1024 threads");
  constexpr int kLdA = BM + kPadA;
  __shared__ __align__(16) float As[2 * BK * kLdA];
  __shared__ __align__(16) float Bs[2 * BK * BN];
  // Block tile → warp tile (wm0, wn0) → thread fragments: lane (lm, ln) owns rows wm0 + 4·lm and
  // wm0 + WM/2 + 4·lm, columns wn0 + 4·ln and wn0 + WN/2 + 4·ln (4 each). A quarter warp (8 lanes
  // of one ln) reads 8 consecutive float4 of A and broadcasts one float4 of B.
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int wm0 = (warp / kWarpsN) * WM, wn0 = (warp % kWarpsN) * WN;
  const int lm = lane % kLanesM, ln = lane / kLanesM;
  const Frag f{wm0 + 4 * lm, wm0 + WM / 2 + 4 * lm, wn0 + 4 * ln, wn0 + WN / 2 + 4 * ln};
  float acc[8][8] = {};
  const int m0 = static_cast<int>(blockIdx.y) * BM, n0 = static_cast<int>(blockIdx.x) * BN;
  mainloop_two_stages<BM, BN, BK, kLdA, kThreads, kVec>(A, B, M, N, K, m0, n0, As, Bs, f, acc);
  store_8x8<kVec>(C, M, N, m0, n0, f, acc, alpha, beta);
}
//! [warptile]

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace gnm::ch06
