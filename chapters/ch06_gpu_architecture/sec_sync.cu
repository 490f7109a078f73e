// 6.4 Synchronization, barriers, bank conflicts.
//
// Transpose: the engine's ladder (gnm/cuda/transpose.hpp) and the learner's exercise 6.4 against
// the copy kernel and cudaMemcpy, in GB/s of read + write traffic. The padded tile removes the
// 32-way bank conflict of the plain tile; a transpose at copy speed is the goal.
//
// Reduction: two ways to combine a block's 256 partial sums. The tree in shared memory halves
// the active threads 8 times with a __syncthreads() after each level; the warp-shuffle version
// sums inside each warp with __shfl_down_sync (registers, no barrier), and needs one barrier to
// hand the 8 warp sums to warp 0. Both run the same grid-stride loop first, so at HBM sizes they
// are bandwidth-bound and differ little; at an L2-resident size the barriers show.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "gnm/cuda/transpose.hpp"
#include "gpu_common.cuh"
#include "sections.hpp"
#include "sync_kernels.cuh"
#include "transpose.hpp"

namespace chapter06 {
namespace {

using namespace gnm::cells;

using sync_kernels::kReduceBlock;
using sync_kernels::reduce_shuffle_kernel;
using sync_kernels::reduce_tree_kernel;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

enum class Reduce { tree, shuffle };

// Two passes: `blocks` partial sums, then one block sums them.
void reduce(Reduce kind, const float* in, float* partials, float* result, std::int64_t n,
            int blocks, cudaStream_t stream) {
  if (kind == Reduce::tree) {
    reduce_tree_kernel<<<blocks, kReduceBlock, 0, stream>>>(in, partials, n);
    GNM_CUDA_CHECK_LAUNCH();
    reduce_tree_kernel<<<1, kReduceBlock, 0, stream>>>(partials, result, blocks);
  } else {
    reduce_shuffle_kernel<<<blocks, kReduceBlock, 0, stream>>>(in, partials, n);
    GNM_CUDA_CHECK_LAUNCH();
    reduce_shuffle_kernel<<<1, kReduceBlock, 0, stream>>>(partials, result, blocks);
  }
  GNM_CUDA_CHECK_LAUNCH();
}

// Poisons `d` (all bits set: a NaN), so that a kernel that writes nothing cannot pass.
void poison(float* d, std::size_t n, cudaStream_t stream) {
  GNM_CUDA_CHECK(cudaMemsetAsync(d, 0xff, n * sizeof(float), stream));
}

void add_transposes(const Config& cfg, const DeviceBasics& dev, cudaStream_t stream, Section& s) {
  const std::int64_t rows = cfg.quick ? 1000 : 8192;
  const std::int64_t cols = cfg.quick ? 1030 : 8192;
  const auto n = static_cast<std::size_t>(rows * cols);
  const int repeat = repeats(cfg, 20, 3);
  std::vector<float> in(n), out(n), want(n);
  gnm::fill_uniform(in, /*seed=*/64, -1.0f, 1.0f);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      want[static_cast<std::size_t>(c * rows + r)] = in[static_cast<std::size_t>(r * cols + c)];
    }
  }
  gnm::cuda::DeviceBuffer<float> d_in(n), d_out(n);
  d_in.copy_from_host(in);
  const double bytes = 2.0 * static_cast<double>(n) * sizeof(float);

  Table t(std::string(kSyncTitle) + ": transpose " + std::to_string(rows) + " x " +
              std::to_string(cols),
          {"kernel", "ms", "GB/s", "vs copy kernel", "exact"});
  double copy_gbps = 0;
  using gnm::cuda::TransposeKernel;
  struct Candidate {
    std::string name;
    bool is_copy;
    std::function<void()> launch;
  };
  auto engine = [&](TransposeKernel k) -> std::function<void()> {
    return [&, k] { gnm::cuda::transpose(d_in.data(), d_out.data(), rows, cols, k, stream); };
  };
  const std::vector<Candidate> candidates = {
      {"copy kernel", true,
       [&] { gnm::cuda::copy(d_in.data(), d_out.data(), rows * cols, stream); }},
      {"cudaMemcpy D2D", true,
       [&] {
         GNM_CUDA_CHECK(cudaMemcpyAsync(d_out.data(), d_in.data(), n * sizeof(float),
                                        cudaMemcpyDeviceToDevice, stream));
       }},
      {"naive", false, engine(TransposeKernel::naive)},
      {"tiled 32x32", false, engine(TransposeKernel::tiled)},
      {"tiled_padded 32x33", false, engine(TransposeKernel::tiled_padded)},
      {"tiled_padded_ilp", false, engine(TransposeKernel::tiled_padded_ilp)},
      {"exercise 6.4", false,
       [&] { gnm::ch06::transpose_padded(d_in.data(), d_out.data(), rows, cols, stream); }},
  };
  for (const Candidate& c : candidates) {
    poison(d_out.data(), n, stream);
    double ms = 0;
    try {
      ms = median_event_ms(stream, repeat, c.launch);
    } catch (const gnm::NotImplemented& e) {
      std::printf("  %s: %s\n", c.name.c_str(), e.what());
      t.add({str(c.name + " (not done yet)"), num(kNaN), num(kNaN), num(kNaN), flag(false)});
      s.verified = false;
      continue;
    }
    d_out.copy_to_host(out, stream);
    const std::vector<float>& expected = c.is_copy ? in : want;
    const bool exact = std::memcmp(out.data(), expected.data(), n * sizeof(float)) == 0;
    const double gbps = bytes / (ms * 1e6);
    if (c.name == "copy kernel") copy_gbps = gbps;
    t.add({str(c.name), num(ms, 4), num(gbps, 4), num(gbps / copy_gbps, 3), flag(exact)});
    s.verified = s.verified && exact;
    if (c.name == "tiled_padded_ilp") {
      s.figures.emplace_back("transpose_over_copy", gbps / copy_gbps);
    }
  }
  s.add(t);
  std::printf("  %s, median of %d runs; GB/s counts the bytes read and written\n\n",
              dev.name.c_str(), repeat);
}

void add_reductions(const Config& cfg, const DeviceBasics& dev, cudaStream_t stream, Section& s) {
  const std::int64_t sizes[] = {cfg.quick ? (1 << 16) + 3 : (1 << 20) + 3,
                                cfg.quick ? (1 << 20) + 3 : (1 << 26) + 3};
  const int repeat = repeats(cfg, 20, 3);
  Table t(std::string(kSyncTitle) + ": reduction",
          {"kernel", "n", "barriers per block", "ms", "GB/s", "GFLOP/s", "FLOP/B", "|error|",
           "bound", "ok"});
  for (const std::int64_t n : sizes) {
    std::vector<float> x(static_cast<std::size_t>(n));
    gnm::fill_uniform(x, /*seed=*/640 + static_cast<std::uint64_t>(n), -1.0f, 1.0f);
    double ref = 0, abs_sum = 0;
    for (const float v : x) {
      ref += static_cast<double>(v);
      abs_sum += std::fabs(static_cast<double>(v));
    }
    const int blocks = sync_kernels::reduce_blocks(n, dev.sm_count);
    const double bound = sync_kernels::reduce_error_bound(n, blocks, abs_sum, gnm::kEpsF32);
    gnm::cuda::DeviceBuffer<float> d_x(x.size()), d_partials(static_cast<std::size_t>(blocks)),
        d_result(1);
    d_x.copy_from_host(x);
    for (const Reduce kind : {Reduce::tree, Reduce::shuffle}) {
      poison(d_result.data(), 1, stream);
      auto launch = [&] {
        reduce(kind, d_x.data(), d_partials.data(), d_result.data(), n, blocks, stream);
      };
      const double ms = median_event_ms(stream, repeat, launch);
      float got = 0;
      GNM_CUDA_CHECK(cudaMemcpyAsync(&got, d_result.data(), sizeof got, cudaMemcpyDeviceToHost,
                                     stream));
      GNM_CUDA_CHECK(cudaStreamSynchronize(stream));
      const double err = std::fabs(static_cast<double>(got) - ref);
      const bool ok = std::isfinite(got) && err <= bound;
      s.verified = s.verified && ok;
      const double nd = static_cast<double>(n);
      t.add({str(kind == Reduce::tree ? "shared-memory tree" : "warp shuffle"), integer(n),
             integer(kind == Reduce::tree ? 9 : 1), num(ms, 4), num(4.0 * nd / (ms * 1e6), 4),
             num(nd / (ms * 1e6), 4), num(0.25, 2), sci(err), sci(bound), flag(ok)});
    }
  }
  s.add(t);
  std::printf("  two passes of %d-thread blocks; GB/s counts the bytes read once\n\n",
              kReduceBlock);
}

}  // namespace

Section run_sync(const Config& cfg) {
  if (auto skipped = skip_without_gpu(kSyncTitle)) return *skipped;
  Section s;
  const DeviceBasics dev = device_basics();
  gnm::cuda::Stream stream;
  add_transposes(cfg, dev, stream.get(), s);
  add_reductions(cfg, dev, stream.get(), s);
  return s;
}

}  // namespace chapter06
