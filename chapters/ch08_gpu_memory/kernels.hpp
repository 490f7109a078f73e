// The chapter's own kernels (8.2, 8.3), with host launchers. Each is checked against the CPU in
// tests/ch08/test_chapter_kernels_gpu.cu before any section times it.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace chapter08 {

/// out[q·(n/s) + r] = in[r·s + q] for q < s, r < n/s: a permutation of n floats in which
/// neighbouring threads read floats `stride` apart and write neighbours. Every element is read
/// once, so the bytes moved are the same for every stride and only the access pattern changes
/// (8.3). Needs n % stride == 0 and 1 ≤ stride ≤ 1024 (gnm::Error naming them otherwise).
void strided_gather(const float* d_in, float* d_out, std::int64_t n, int stride,
                    cudaStream_t stream);

/// out[i] = in[i + offset] for i < n: a copy whose reads start `offset` floats past an aligned
/// address. `d_in` holds n + offset floats. 0 ≤ offset ≤ 1024.
void offset_copy(const float* d_in, float* d_out, std::int64_t n, int offset, cudaStream_t stream);

/// out[i] = fmaf(in[i], a, b) for i < n; `in` may equal `out` (in place). `d_in` may point to
/// managed or mapped host memory: the kernel does not care where the bytes live (8.2).
void affine(const float* d_in, float* d_out, std::int64_t n, float a, float b,
            cudaStream_t stream);

/// Index of the element that strided_gather writes to out[i] (the CPU side of the check).
inline std::int64_t strided_gather_source(std::int64_t i, std::int64_t n, int stride) {
  const std::int64_t m = n / stride;
  return (i % m) * stride + i / m;
}

}  // namespace chapter08
