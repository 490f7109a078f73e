// Sections 1.1 and 1.3 on the GPU (see gpu_roofline.hpp). Every CUDA call and launch is checked.
#include "gpu_roofline.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "gnm/core/check.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "gpu_roofline_kernels.cuh"

namespace gnm::ch01 {
namespace {

// The kernels (gpu_roofline_kernels.cuh), 256-thread blocks.
using roofline_kernels::empty_kernel;
using roofline_kernels::fma_kernel;
using roofline_kernels::iota_kernel;
using roofline_kernels::kGpuChains;
constexpr int kBlock = 256;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

GpuRoofline measure_gpu_roofline(int device, int reps, bool quick) {
  GNM_CHECK(reps >= 1, "reps must be at least 1", reps);
  GNM_CUDA_CHECK(cudaSetDevice(device));
  cudaDeviceProp prop{};
  GNM_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  GpuRoofline r;
  r.device = prop.name;
  gnm::cuda::Stream stream;
  gnm::cuda::EventTimer timer(stream.get());

  // FMA throughput: 16 blocks of 256 threads per SM (two full waves of 2048 resident threads).
  // Closed form as in Note [A checkable FMA loop]: a = 1, b = 2^-10, every step exact.
  const int iterations = quick ? 4096 : 16384;
  const int blocks = prop.multiProcessorCount * 16;
  const std::size_t threads = static_cast<std::size_t>(blocks) * kBlock;
  gnm::cuda::DeviceBuffer<float> d_out(threads);
  std::vector<double> ms;
  for (int rep = 0; rep <= reps; ++rep) {  // rep 0 warms up (clocks, module load)
    timer.start();
    fma_kernel<<<blocks, kBlock, 0, stream.get()>>>(1.0f, 0x1p-10f, iterations, d_out.data());
    GNM_CUDA_CHECK_LAUNCH();
    const float t = timer.stop();
    if (rep > 0) ms.push_back(t);
  }
  const double flops = static_cast<double>(threads) * iterations * kGpuChains * 2.0;
  r.peak_gflops = flops / (*std::min_element(ms.begin(), ms.end()) * 1e-3) / 1e9;
  std::vector<float> h_out(threads);
  d_out.copy_to_host(h_out, stream.get());
  double expected = 0;
  for (int c = 0; c < kGpuChains; ++c) expected += 0.25 * c + iterations * 0x1p-10;
  r.fma_exact = std::all_of(h_out.begin(), h_out.end(),
                            [&](float v) { return static_cast<double>(v) == expected; });

  // Device copy: buffers far larger than the L2 (50 MB on an H100), read + write bytes counted.
  const std::size_t n = (quick ? std::size_t{64} : std::size_t{512}) << 18;  // 64 or 512 MiB
  gnm::cuda::DeviceBuffer<std::uint32_t> src(n), dst(n);
  iota_kernel<<<prop.multiProcessorCount * 8, kBlock, 0, stream.get()>>>(src.data(), n);
  GNM_CUDA_CHECK_LAUNCH();
  ms.clear();
  for (int rep = 0; rep <= reps; ++rep) {
    timer.start();
    GNM_CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.data(), src.bytes(), cudaMemcpyDeviceToDevice,
                                   stream.get()));
    const float t = timer.stop();
    if (rep > 0) ms.push_back(t);
  }
  r.copy_bytes = src.bytes();
  r.copy_gbps = 2.0 * static_cast<double>(src.bytes()) /
                (*std::min_element(ms.begin(), ms.end()) * 1e-3) / 1e9;
  std::vector<std::uint32_t> h_dst(n);
  dst.copy_to_host(h_dst, stream.get());
  r.copy_ok = true;
  for (std::size_t i = 0; i < n; ++i) {
    if (h_dst[i] != static_cast<std::uint32_t>(i * 2654435761u)) {
      r.copy_ok = false;
      break;
    }
  }
  return r;
}

//! [gpu_overheads]
GpuOverheads measure_gpu_overheads(int device, int reps, bool quick) {
  GNM_CHECK(reps >= 1, "reps must be at least 1", reps);
  GNM_CUDA_CHECK(cudaSetDevice(device));
  using Clock = std::chrono::steady_clock;
  auto us_since = [](Clock::time_point t0) {
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  };
  GpuOverheads o;
  gnm::cuda::Stream stream;
  empty_kernel<<<1, 1, 0, stream.get()>>>();  // warm-up: loads the module
  GNM_CUDA_CHECK_LAUNCH();
  stream.synchronize();

  // Back to back: the host's cost per launch (the GPU runs them as fast as they arrive).
  constexpr int kLaunches = 2000;
  auto t0 = Clock::now();
  for (int i = 0; i < kLaunches; ++i) empty_kernel<<<1, 1, 0, stream.get()>>>();
  GNM_CUDA_CHECK_LAUNCH();
  stream.synchronize();
  o.launch_us = us_since(t0) / kLaunches;

  // Round trip: launch, wait for completion. What a synchronous framework pays per op.
  std::vector<double> us;
  for (int i = 0; i < 50 * reps; ++i) {
    t0 = Clock::now();
    empty_kernel<<<1, 1, 0, stream.get()>>>();
    GNM_CUDA_CHECK_LAUNCH();
    stream.synchronize();
    us.push_back(us_since(t0));
  }
  o.launch_sync_us = median(us);

  // Transfers from and to pinned host memory, timed on the GPU with events.
  const std::size_t max_bytes = quick ? (std::size_t{16} << 20) : (std::size_t{256} << 20);
  gnm::cuda::PinnedBuffer<std::byte> host(max_bytes);
  gnm::cuda::DeviceBuffer<std::byte> dev(max_bytes);
  std::fill(host.data(), host.data() + max_bytes, std::byte{1});
  gnm::cuda::EventTimer timer(stream.get());
  for (std::size_t bytes = 4096; bytes <= max_bytes; bytes *= 16) {
    std::vector<double> h2d, d2h;
    for (int rep = 0; rep <= reps; ++rep) {
      timer.start();
      GNM_CUDA_CHECK(cudaMemcpyAsync(dev.data(), host.data(), bytes, cudaMemcpyHostToDevice,
                                     stream.get()));
      const double up = 1e3 * timer.stop();
      timer.start();
      GNM_CUDA_CHECK(cudaMemcpyAsync(host.data(), dev.data(), bytes, cudaMemcpyDeviceToHost,
                                     stream.get()));
      const double down = 1e3 * timer.stop();
      if (rep > 0) {
        h2d.push_back(up);
        d2h.push_back(down);
      }
    }
    o.transfers.push_back({bytes, median(h2d), median(d2h)});
  }
  return o;
}
//! [gpu_overheads]

}  // namespace gnm::ch01
