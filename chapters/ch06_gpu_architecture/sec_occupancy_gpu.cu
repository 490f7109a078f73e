// 6.5 Occupancy on a device: the engine's calculator (with the device's own properties) against
// cudaOccupancyMaxActiveBlocksPerMultiprocessor for real kernels, whose registers and static
// shared memory cudaFuncGetAttributes reports; then a memory-bound kernel's bandwidth against
// occupancy, forcing the blocks per SM down with dynamic shared memory the kernel does not use.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/occupancy.hpp"
#include "gnm/cuda/stream.hpp"
#include "gpu_common.cuh"
#include "occupancy_kernels.cuh"
#include "sections.hpp"

namespace chapter06 {
namespace {

using namespace gnm::cells;
using gnm::cuda::KernelResources;
using gnm::cuda::SmLimits;
constexpr std::size_t kKiB = 1024;

// The kernels (occupancy_kernels.cuh): three whose resources span the limiters (queried, not
// launched) and the stream kernel of the sweep.
using occupancy_kernels::occ_heavy_kernel;
using occupancy_kernels::occ_light_kernel;
using occupancy_kernels::occ_smem_kernel;
using occupancy_kernels::occ_stream_kernel;

struct Kernel {
  const char* name;
  const void* fn;
};

// Ours against the runtime's; 0 blocks stands for "cannot launch" on both sides.
bool add_runtime_comparison(const SmLimits& device_sm, Section& s) {
  const Kernel kernels[] = {
      {"light", reinterpret_cast<const void*>(&occ_light_kernel)},
      {"heavy (64 accumulators)", reinterpret_cast<const void*>(&occ_heavy_kernel<64>)},
      {"16 KiB static smem", reinterpret_cast<const void*>(&occ_smem_kernel)},
      {"stream", reinterpret_cast<const void*>(&occ_stream_kernel)},
  };
  Table t(std::string(kOccupancyTitle) +
              ": calculator vs cudaOccupancyMaxActiveBlocksPerMultiprocessor",
          {"kernel", "regs", "static smem", "threads", "dynamic smem", "ours", "runtime",
           "limiter", "equal"});
  bool all_equal = true;
  for (const Kernel& k : kernels) {
    cudaFuncAttributes attr{};
    GNM_CUDA_CHECK(cudaFuncGetAttributes(&attr, k.fn));
    // Allow every dynamic size the device accepts (beyond the default 48 KiB).
    const int max_dynamic =
        static_cast<int>(device_sm.shared_per_block_optin - attr.sharedSizeBytes);
    GNM_CUDA_CHECK(
        cudaFuncSetAttribute(k.fn, cudaFuncAttributeMaxDynamicSharedMemorySize, max_dynamic));
    SmLimits sm = device_sm;  // a kernel's own block-size cap (__launch_bounds__) applies
    sm.max_threads_per_block = std::min(sm.max_threads_per_block, attr.maxThreadsPerBlock);
    for (const int block : {64, 128, 256, 512, 1024}) {
      for (const std::size_t dynamic : {std::size_t{0}, 32 * kKiB, 100 * kKiB}) {
        int runtime = 0;
        const cudaError_t err =
            cudaOccupancyMaxActiveBlocksPerMultiprocessor(&runtime, k.fn, block, dynamic);
        if (err != cudaSuccess) {
          (void)cudaGetLastError();  // an invalid configuration, not a fault: clear it
          runtime = 0;
        }
        int ours = 0;
        std::string limiter = "cannot launch";
        try {
          const auto occ = gnm::cuda::occupancy(
              sm, KernelResources{block, attr.numRegs, attr.sharedSizeBytes, dynamic});
          ours = occ.blocks_per_sm;
          limiter = gnm::cuda::limiter_name(occ.limiter);
        } catch (const gnm::Error&) {
        }
        all_equal = all_equal && ours == runtime;
        t.add({str(k.name), integer(attr.numRegs),
               integer(static_cast<std::int64_t>(attr.sharedSizeBytes)), integer(block),
               integer(static_cast<std::int64_t>(dynamic)), integer(ours), integer(runtime),
               str(limiter), flag(ours == runtime)});
      }
    }
  }
  s.add(t);
  return all_equal;
}

bool add_bandwidth_sweep(const Config& cfg, const cudaDeviceProp& prop, const SmLimits& sm,
                         Section& s) {
  constexpr int kBlock = 256;
  const std::int64_t n = cfg.quick ? (std::int64_t{1} << 22) : (std::int64_t{1} << 26);
  const std::int64_t n4 = n / 4;
  const int repeat = repeats(cfg, 10, 3);
  std::vector<float> in(static_cast<std::size_t>(n)), out(in.size());
  gnm::fill_uniform(in, /*seed=*/65, -1.0f, 1.0f);
  gnm::cuda::DeviceBuffer<float> d_in(in.size()), d_out(in.size());
  d_in.copy_from_host(in);
  gnm::cuda::Stream stream;
  const void* fn = reinterpret_cast<const void*>(&occ_stream_kernel);
  cudaFuncAttributes attr{};
  GNM_CUDA_CHECK(cudaFuncGetAttributes(&attr, fn));
  GNM_CUDA_CHECK(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                      static_cast<int>(sm.shared_per_block_optin -
                                                       attr.sharedSizeBytes)));
  Table t(std::string(kOccupancyTitle) + ": bandwidth vs occupancy (out = 2 in, " +
              std::to_string(n * 8 >> 20) + " MiB moved)",
          {"blocks/SM", "occupancy", "dynamic smem", "runtime blocks/SM", "ms", "GB/s",
           "vs best", "exact"});
  struct Point {
    int blocks;
    std::size_t dynamic;
    int runtime;
    double ms;
    bool exact;
  };
  std::vector<Point> points;
  bool ok = true;
  const int max_blocks = gnm::cuda::occupancy(sm, {kBlock, attr.numRegs, 0, 0}).blocks_per_sm;
  for (int b = 1; b <= max_blocks; ++b) {
    // The largest dynamic size that still lets b blocks in: the SM's shared memory over b,
    // rounded down to the allocation unit, less the reservation and the static part.
    const std::size_t per_block =
        sm.shared_per_sm / static_cast<std::size_t>(b) / sm.shared_allocation_unit *
        sm.shared_allocation_unit;
    std::size_t dynamic = per_block - sm.reserved_shared_per_block - attr.sharedSizeBytes;
    dynamic = std::min(dynamic, sm.shared_per_block_optin - attr.sharedSizeBytes);
    if (b == max_blocks) dynamic = 0;
    const int ours =
        gnm::cuda::occupancy(sm, {kBlock, attr.numRegs, attr.sharedSizeBytes, dynamic})
            .blocks_per_sm;
    int runtime = 0;
    GNM_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&runtime, fn, kBlock, dynamic));
    if (runtime < 1) {
      std::printf("  6.5 sweep: the runtime allows no block with %zu bytes of shared memory\n",
                  dynamic);
      ok = false;
      continue;
    }
    GNM_CUDA_CHECK(cudaMemsetAsync(d_out.data(), 0xff, d_out.bytes(), stream.get()));
    const int grid = runtime * prop.multiProcessorCount;
    auto launch = [&] {
      occ_stream_kernel<<<grid, kBlock, dynamic, stream.get()>>>(
          reinterpret_cast<const float4*>(d_in.data()), reinterpret_cast<float4*>(d_out.data()),
          n4);
      GNM_CUDA_CHECK_LAUNCH();
    };
    const double ms = median_event_ms(stream.get(), repeat, launch);
    d_out.copy_to_host(out, stream.get());
    bool exact = true;
    for (std::size_t i = 0; i < out.size(); ++i) exact = exact && out[i] == 2.0f * in[i];
    ok = ok && exact && ours == b && runtime == b;
    points.push_back({b, dynamic, runtime, ms, exact});
  }
  if (points.empty()) return false;
  double best_ms = points.front().ms;
  for (const Point& p : points) best_ms = std::min(best_ms, p.ms);
  const int warps = kBlock / 32;
  for (const Point& p : points) {
    t.add({integer(p.blocks),
           num(100.0 * p.blocks * warps / static_cast<double>(sm.max_warps_per_sm), 3),
           integer(static_cast<std::int64_t>(p.dynamic)), integer(p.runtime), num(p.ms, 4),
           num(8.0 * static_cast<double>(n) / (p.ms * 1e6), 4), num(best_ms / p.ms, 3),
           flag(p.exact)});
  }
  s.add(t);
  return ok;
}

}  // namespace

void run_occupancy_device(const Config& cfg, Section& s) {
  if (auto skipped = skip_without_gpu(std::string(kOccupancyTitle) + " on the device")) {
    s.json += (s.json.empty() ? "" : ", ") + skipped->json;
    return;
  }
  cudaDeviceProp prop{};
  GNM_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  const SmLimits sm = gnm::cuda::device_sm_limits(0);
  std::printf("  %s: %d SMs, %d warps, %d blocks, %zu KiB shared per SM\n", prop.name,
              prop.multiProcessorCount, sm.max_warps_per_sm, sm.max_blocks_per_sm,
              sm.shared_per_sm / kKiB);
  const bool equal = add_runtime_comparison(sm, s);
  const bool swept = add_bandwidth_sweep(cfg, prop, sm, s);
  s.verified = s.verified && equal && swept;
}

}  // namespace chapter06
