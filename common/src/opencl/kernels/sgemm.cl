// SGEMM in OpenCL C 1.2, two steps of chapter 6's ladder: naive, and tiled in local memory.
// C (M×N) = alpha · A (M×K) · B (K×N) + beta · C, all row-major and dense (lda = K, ldb = N,
// ldc = N). Any M, N, K ≥ 0; the host rounds the global size up to whole work-groups, so every
// load and store is guarded. beta == 0 overwrites C without reading it (a NaN there does not
// propagate), as in BLAS. Products accumulate with fma(): one rounding per term on every device,
// so the error model is the same on PoCL and on a GPU.
//
// Work-item (get_global_id(0), get_global_id(1)) = (column j, row i) of C: neighbouring
// work-items read neighbouring elements of B and write neighbouring elements of C (coalesced on a
// GPU, one SIMD vector on PoCL's CPU device, which maps dimension 0 to vector lanes).

#ifndef GNM_TILE
#define GNM_TILE 16  // the host passes -DGNM_TILE=... ; 16×16 = 256 work-items per group
#endif

//! [sgemm_naive]
// Step 1: one work-item per element of C, reading its row of A and column of B straight from
// global memory. Each element of A is read N times and each element of B M times: 2·M·N·K loads
// for 2·M·N·K FLOP, so it runs at the speed of the caches, not of the arithmetic units.
__kernel void sgemm_naive(const int M, const int N, const int K, const float alpha,
                          __global const float* A, __global const float* B, const float beta,
                          __global float* C) {
  const int j = (int)get_global_id(0);
  const int i = (int)get_global_id(1);
  if (i >= M || j >= N) return;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc = fma(A[i * K + k], B[k * N + j], acc);
  const float c = alpha * acc;
  C[i * N + j] = beta == 0.0f ? c : fma(beta, C[i * N + j], c);
}
//! [sgemm_naive]

//! [sgemm_tiled]
// Step 2: a GNM_TILE × GNM_TILE work-group stages one tile of A and one of B in __local memory
// (CUDA's __shared__), waits at a barrier, and every work-item then reads GNM_TILE products from
// there. Global loads drop by a factor GNM_TILE. Out-of-range parts of a tile are loaded as zeros,
// so M, N and K need not be multiples of GNM_TILE (for K ≥ K's range both factors are zero, so
// the extra terms add exact zeros).
__kernel __attribute__((reqd_work_group_size(GNM_TILE, GNM_TILE, 1)))
void sgemm_tiled(const int M, const int N, const int K, const float alpha,
                 __global const float* A, __global const float* B, const float beta,
                 __global float* C) {
  __local float a_tile[GNM_TILE][GNM_TILE];  // a_tile[r][k] = A[row0 + r][k0 + k]
  __local float b_tile[GNM_TILE][GNM_TILE];  // b_tile[k][c] = B[k0 + k][col0 + c]
  const int tx = (int)get_local_id(0);       // column inside the tile
  const int ty = (int)get_local_id(1);       // row inside the tile
  const int j = (int)get_group_id(0) * GNM_TILE + tx;
  const int i = (int)get_group_id(1) * GNM_TILE + ty;
  float acc = 0.0f;
  for (int k0 = 0; k0 < K; k0 += GNM_TILE) {
    // Each work-item loads one element of each tile: dimension 0 (tx) walks along rows of A and
    // B, so the loads are contiguous.
    a_tile[ty][tx] = (i < M && k0 + tx < K) ? A[i * K + k0 + tx] : 0.0f;
    b_tile[ty][tx] = (k0 + ty < K && j < N) ? B[(k0 + ty) * N + j] : 0.0f;
    barrier(CLK_LOCAL_MEM_FENCE);  // the tiles are complete
    for (int k = 0; k < GNM_TILE; ++k) acc = fma(a_tile[ty][k], b_tile[k][tx], acc);
    barrier(CLK_LOCAL_MEM_FENCE);  // nobody overwrites a tile another work-item still reads
  }
  if (i < M && j < N) {
    const float c = alpha * acc;
    C[i * N + j] = beta == 0.0f ? c : fma(beta, C[i * N + j], c);
  }
}
//! [sgemm_tiled]
