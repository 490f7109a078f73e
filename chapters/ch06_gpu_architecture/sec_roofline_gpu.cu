// 6.6 on a device: the two ceilings of the roofline, measured. FLOP/s from a kernel of
// independent FMA chains (nothing but FFMA in the loop), bandwidth from the engine's copy kernel
// and cudaMemcpy on buffers far larger than the L2. Best of the repeats: a ceiling is what the
// machine can do, not what it usually does.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/device.hpp"
#include "gnm/cuda/stream.hpp"
#include "gnm/cuda/transpose.hpp"
#include "gpu_common.cuh"
#include "roofline_kernels.cuh"
#include "sections.hpp"

namespace chapter06 {
namespace {

// The FMA chains (roofline_kernels.cuh), 256-thread blocks.
using roofline_kernels::fma_peak_kernel;
using roofline_kernels::kChains;
constexpr int kBlock = 256;

double best_event_ms(cudaStream_t stream, int repeat, const auto& launch) {
  launch();  // warm-up
  gnm::cuda::EventTimer timer(stream);
  double best = 1e300;
  for (int i = 0; i < repeat; ++i) {
    timer.start();
    launch();
    best = std::min(best, static_cast<double>(timer.stop()));
  }
  return best;
}

}  // namespace

std::optional<MeasuredCeilings> measure_ceilings(const Config& cfg) {
  if (gnm::cuda::query_devices().devices.empty()) return std::nullopt;
  cudaDeviceProp prop{};
  GNM_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  MeasuredCeilings m;
  m.device = prop.name;
  gnm::cuda::Stream stream;
  const int repeat = repeats(cfg, 10, 3);

  // FMA: 16 blocks of 256 threads per SM, two waves of 2048 resident threads.
  const int iterations = cfg.quick ? 2048 : 16384;
  const int blocks = prop.multiProcessorCount * 16;
  const std::size_t threads = static_cast<std::size_t>(blocks) * kBlock;
  gnm::cuda::DeviceBuffer<float> d_sums(threads);
  const double fma_ms = best_event_ms(stream.get(), repeat, [&] {
    fma_peak_kernel<<<blocks, kBlock, 0, stream.get()>>>(1.0f, 0x1p-10f, iterations,
                                                         d_sums.data());
    GNM_CUDA_CHECK_LAUNCH();
  });
  m.fma_gflops = static_cast<double>(threads) * iterations * kChains * 2.0 / (fma_ms * 1e6);
  std::vector<float> sums(threads);
  d_sums.copy_to_host(sums, stream.get());
  double expected = 0;
  for (int c = 0; c < kChains; ++c) expected += 0.25 * c + iterations * 0x1p-10;
  bool ok = std::all_of(sums.begin(), sums.end(),
                        [&](float v) { return static_cast<double>(v) == expected; });

  // Bandwidth: 256 MiB each way (5x the H100's L2), read + write bytes counted.
  const std::int64_t n = cfg.quick ? (std::int64_t{1} << 22) : (std::int64_t{1} << 26);
  std::vector<float> host(static_cast<std::size_t>(n)), back(host.size());
  gnm::fill_uniform(host, /*seed=*/66, -1.0f, 1.0f);
  gnm::cuda::DeviceBuffer<float> d_src(host.size()), d_dst(host.size());
  d_src.copy_from_host(host);
  const double bytes = 2.0 * static_cast<double>(d_src.bytes());
  const double copy_ms = best_event_ms(stream.get(), repeat, [&] {
    gnm::cuda::copy(d_src.data(), d_dst.data(), n, stream.get());
  });
  d_dst.copy_to_host(back, stream.get());
  ok = ok && std::memcmp(back.data(), host.data(), d_src.bytes()) == 0;
  GNM_CUDA_CHECK(cudaMemsetAsync(d_dst.data(), 0, d_dst.bytes(), stream.get()));
  const double memcpy_ms = best_event_ms(stream.get(), repeat, [&] {
    GNM_CUDA_CHECK(cudaMemcpyAsync(d_dst.data(), d_src.data(), d_src.bytes(),
                                   cudaMemcpyDeviceToDevice, stream.get()));
  });
  d_dst.copy_to_host(back, stream.get());
  ok = ok && std::memcmp(back.data(), host.data(), d_src.bytes()) == 0;
  m.copy_gbps = bytes / (copy_ms * 1e6);
  m.memcpy_gbps = bytes / (memcpy_ms * 1e6);
  m.verified = ok;
  return m;
}

}  // namespace chapter06
