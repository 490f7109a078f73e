// 6.1 Threads, blocks, warps: what warp divergence costs.
//
// A warp issues one instruction for its 32 lanes at a time. When lanes of one warp take different
// branches, the warp runs each taken branch in turn with the other lanes masked off, so k paths
// inside a warp cost about k times one path. Branching on the warp index instead (all lanes of a
// warp agree) costs nothing, however many paths the block has.
//
// The kernel gives each element one of 32 paths. Each path is its own function (__noinline__),
// so the compiler cannot merge the paths into one instruction stream with selected constants: a
// path is a call, and lanes on different paths make different calls. Every path runs the same
// number of dependent FMAs, so the only difference between the rows is how many paths a warp
// meets. The results are compared bit for bit with the same FMAs on the CPU (fmaf is correctly
// rounded on both).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "gpu_common.cuh"
#include "sections.hpp"
#include "threads_kernels.cuh"

namespace chapter06 {
namespace {

using namespace gnm::cells;

using threads_kernels::divergence_kernel;
using threads_kernels::kBlock;
using threads_kernels::kPaths;
using threads_kernels::path_a;
using threads_kernels::path_b;

int path_of(int i, int paths, bool by_warp) {
  return by_warp ? (i / 32) % kPaths : (i % 32) % paths;
}

float path_reference(int p, float x, int iters) {
  for (int i = 0; i < iters; ++i) x = std::fma(x, path_a(p), path_b(p));
  return x;
}

}  // namespace

Section run_threads(const Config& cfg) {
  if (auto skipped = skip_without_gpu(kThreadsTitle)) return *skipped;
  Section s;
  const int n = cfg.quick ? (1 << 16) : (1 << 22);
  const int iters = cfg.quick ? 64 : 512;
  const int repeat = repeats(cfg, 10, 3);
  // The inputs repeat 61 random values (61 is prime to 32, so every lane and every path meets
  // all of them): the CPU reference is then a 32 x 61 table instead of n * iters FMAs per row.
  constexpr int kValues = 61;
  std::vector<float> values(kValues);
  gnm::fill_uniform(values, /*seed=*/61, -1.0f, 1.0f);
  std::vector<float> in(static_cast<std::size_t>(n)), out(in.size());
  for (int i = 0; i < n; ++i) {
    in[static_cast<std::size_t>(i)] = values[static_cast<std::size_t>(i % kValues)];
  }
  std::vector<float> reference(static_cast<std::size_t>(kPaths) * kValues);
  for (int p = 0; p < kPaths; ++p) {
    for (int v = 0; v < kValues; ++v) {
      reference[static_cast<std::size_t>(p * kValues + v)] =
          path_reference(p, values[static_cast<std::size_t>(v)], iters);
    }
  }
  gnm::cuda::DeviceBuffer<float> d_in(in.size()), d_out(in.size());
  d_in.copy_from_host(in);
  gnm::cuda::Stream stream;

  // FLOPs and bytes of one launch: 2 per FMA; a 4-byte read and a 4-byte write per element.
  const double flops = 2.0 * iters * n;
  const double bytes = 8.0 * n;
  Table t(std::string(kThreadsTitle) + ": divergence",
          {"kernel", "paths per warp", "ms", "ns/element", "GFLOP/s", "FLOP/B", "vs 1 path",
           "exact"});
  double one_path_ms = 0;
  struct Row {
    int paths;
    bool by_warp;
  };
  const Row rows[] = {{1, false}, {2, false}, {4, false}, {8, false}, {16, false}, {32, false},
                      {32, true}};
  for (const Row& row : rows) {
    auto launch = [&] {
      divergence_kernel<<<(n + kBlock - 1) / kBlock, kBlock, 0, stream.get()>>>(
          d_in.data(), d_out.data(), n, row.paths, row.by_warp, iters);
      GNM_CUDA_CHECK_LAUNCH();
    };
    const double ms = median_event_ms(stream.get(), repeat, launch);
    d_out.copy_to_host(out, stream.get());
    int wrong = 0;
    for (int i = 0; i < n; ++i) {
      const int p = path_of(i, row.paths, row.by_warp);
      const float want = reference[static_cast<std::size_t>(p * kValues + i % kValues)];
      const float got = out[static_cast<std::size_t>(i)];
      if (std::memcmp(&want, &got, sizeof want) != 0 && ++wrong <= 3) {
        std::printf("  6.1 mismatch at %d: %.9g vs %.9g\n", i, static_cast<double>(got),
                    static_cast<double>(want));
      }
    }
    if (row.paths == 1) one_path_ms = ms;
    const std::string name = row.by_warp ? "warp % 32" : "lane % " + std::to_string(row.paths);
    t.add({str(name), integer(row.by_warp ? 1 : row.paths), num(ms, 4), num(ms * 1e6 / n, 3),
           num(flops / (ms * 1e6), 4), num(flops / bytes, 3), num(ms / one_path_ms, 3),
           flag(wrong == 0)});
    s.verified = s.verified && wrong == 0;
    if (row.paths == 32 && !row.by_warp) {
      s.figures.emplace_back("divergence_32_paths_x", ms / one_path_ms);
    }
  }
  s.add(t);
  std::printf("  %d elements, %d dependent FMAs each, median of %d runs (CUDA events)\n\n", n,
              iters, repeat);
  return s;
}

}  // namespace chapter06
