// Exercise 6.4b: the padded shared-memory transpose (see exercises/ch06/transpose.hpp).
//
// The kernel is in padded_transpose_kernels.cuh (no CUDA header there, so that
// tests/ch06/test_transpose_emulated.cpp runs the same text on the CPU through the host emulator);
// this file holds its launcher.
#include "transpose.hpp"

#include "gnm/core/check.hpp"
#include "gnm/cuda/check.hpp"
#include "padded_transpose_kernels.cuh"

namespace gnm::ch06 {

//! [launch]
void transpose_padded(const float* d_in, float* d_out, std::int64_t rows, std::int64_t cols,
                      cudaStream_t stream) {
  // BEGIN SOLUTION("ex 6.4", "cfg = transpose_config(rows, cols); return if cfg.grid_x == 0; check the pointers; launch transpose_padded_kernel<<<dim3(grid_x, grid_y), dim3(block_x, block_y), 0, stream>>>(d_in, d_out, rows, cols, cfg.row_tiles); GNM_CUDA_CHECK_LAUNCH()")
  const TransposeConfig cfg = transpose_config(rows, cols);
  if (cfg.grid_x == 0) return;
  GNM_CHECK(d_in != nullptr && d_out != nullptr, "transpose_padded needs device pointers", rows,
            cols);
  const dim3 grid(static_cast<unsigned>(cfg.grid_x), static_cast<unsigned>(cfg.grid_y));
  const dim3 block(static_cast<unsigned>(cfg.block_x), static_cast<unsigned>(cfg.block_y));
  transpose_padded_kernel<<<grid, block, 0, stream>>>(d_in, d_out, rows, cols, cfg.row_tiles);
  GNM_CUDA_CHECK_LAUNCH();
  // END SOLUTION
}
//! [launch]

}  // namespace gnm::ch06
