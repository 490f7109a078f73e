/// \file
/// Device fills from the Philox streams of gnm/core/philox.hpp.
///
/// Each function writes element i of stream (seed, subsequence) to d_out[i], exactly as the host
/// fills of gnm/core/random.hpp do: fill_uniform_device and fill_bits_device match the CPU bit for
/// bit, fill_normal_device within a few ulps (logf/sinf/cosf differ between libraries).
///
///   gnm::cuda::DeviceBuffer<float> d_w(n);
///   gnm::cuda::fill_uniform_device(d_w.data(), n, /*seed=*/42, -bound, bound, stream);
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace gnm::cuda {

/// Writes d_out[i] = PhiloxRng(seed, subsequence).uniform(i, lo, hi) for i < n, asynchronously on
/// `stream`; bit-identical to gnm::fill_uniform. `d_out` is device memory of at least n floats.
/// Throws gnm::Error for n < 0 or a bad range (as gnm::fill_uniform), gnm::CudaError if the launch
/// fails. n = 0 makes no CUDA call.
void fill_uniform_device(float* d_out, std::int64_t n, std::uint64_t seed, float lo, float hi,
                         cudaStream_t stream = nullptr, std::uint64_t subsequence = 0);

/// Writes d_out[i] = PhiloxRng(seed, subsequence).normal(i, mean, stddev) for i < n,
/// asynchronously on `stream`; equal to gnm::fill_normal within a few ulps. Throws gnm::Error for
/// n < 0 or bad parameters (as gnm::fill_normal), gnm::CudaError if the launch fails.
void fill_normal_device(float* d_out, std::int64_t n, std::uint64_t seed, float mean, float stddev,
                        cudaStream_t stream = nullptr, std::uint64_t subsequence = 0);

/// Writes d_out[i] = PhiloxRng(seed, subsequence).bits(i) for i < n, asynchronously on `stream`:
/// the raw stream, for tests and for kernels that make their own masks. Throws gnm::Error for
/// n < 0, gnm::CudaError if the launch fails.
void fill_bits_device(std::uint32_t* d_out, std::int64_t n, std::uint64_t seed,
                      cudaStream_t stream = nullptr, std::uint64_t subsequence = 0);

}  // namespace gnm::cuda
