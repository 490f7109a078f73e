// 6.3 L1/L2 caches, texture and constant memory.
//
// Pointer chase: one thread follows a random cycle through a working set, one 128-byte line per
// node, so every load depends on the previous one and the time per load is the latency of the
// level that holds the working set: L1 (up to ~256 KiB per SM, shared with shared memory), L2
// (50 MB on an H100), then HBM (plus TLB misses for the largest sets). Three load flavours:
//   ld      plain global load, cached in L1 and L2;
//   ldcg    __ldcg, "cache global": L2 only, so the L1 plateau disappears;
//   ldg     __ldg, the read-only (non-coherent, "texture") path; since Volta the texture cache
//           and L1 are the same memory, so it follows the ld curve.
// Constant memory: a warp reading one __constant__ address gets it broadcast in one access;
// 32 different addresses are served one after another. Global memory through L1 has no such
// cliff: 32 neighbouring floats are one 128-byte line.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "gnm/core/file.hpp"
#include "gnm/core/svg_plot.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "gpu_common.cuh"
#include "memory_kernels.cuh"
#include "sections.hpp"

namespace chapter06 {
namespace {

using namespace gnm::cells;

using memory_kernels::build_chain_kernel;
using memory_kernels::c_table;
using memory_kernels::chase_kernel;
using memory_kernels::kLineBytes;
using memory_kernels::kNodeStride;
using memory_kernels::kTable;
using memory_kernels::LoadKind;
using memory_kernels::table_sum_kernel;

void chase(LoadKind kind, const std::uint32_t* chain, std::uint32_t* pos, long long steps,
           cudaStream_t stream) {
  switch (kind) {
    case LoadKind::ld:
      chase_kernel<LoadKind::ld><<<1, 1, 0, stream>>>(chain, pos, steps);
      break;
    case LoadKind::ldcg:
      chase_kernel<LoadKind::ldcg><<<1, 1, 0, stream>>>(chain, pos, steps);
      break;
    case LoadKind::ldg:
      chase_kernel<LoadKind::ldg><<<1, 1, 0, stream>>>(chain, pos, steps);
      break;
  }
  GNM_CUDA_CHECK_LAUNCH();
}

struct ChaseRow {
  std::size_t bytes = 0;
  double ns[3] = {0, 0, 0};
  bool exact = false;
};

std::string format_size(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 30)) return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (std::size_t{1} << 20)) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes >> 10) + " KiB";
}

std::vector<ChaseRow> pointer_chase(const Config& cfg, cudaStream_t stream) {
  const std::size_t max_bytes = cfg.quick ? (std::size_t{4} << 20) : (std::size_t{1} << 30);
  const long long steps = cfg.quick ? 4096 : 32768;
  const long long warmup_cap = 1 << 19;  // nodes: sets up to 64 MiB are touched completely
  const int repeat = repeats(cfg, 3, 2);
  gnm::cuda::DeviceBuffer<std::uint32_t> d_chain(max_bytes / sizeof(std::uint32_t));
  gnm::cuda::DeviceBuffer<std::uint32_t> d_order(max_bytes / kLineBytes);
  gnm::cuda::DeviceBuffer<std::uint32_t> d_pos(1);
  std::mt19937_64 rng(63);
  std::vector<ChaseRow> rows;
  for (std::size_t bytes = 4096; bytes <= max_bytes; bytes *= 2) {
    const auto n = static_cast<std::uint32_t>(bytes / kLineBytes);
    std::vector<std::uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::shuffle(order.begin(), order.end(), rng);
    GNM_CUDA_CHECK(cudaMemcpyAsync(d_order.data(), order.data(), n * sizeof(std::uint32_t),
                                   cudaMemcpyHostToDevice, stream));
    build_chain_kernel<<<(n + 255) / 256, 256, 0, stream>>>(d_order.data(), n, d_chain.data());
    GNM_CUDA_CHECK_LAUNCH();
    const std::uint32_t start = order[0] * kNodeStride;
    GNM_CUDA_CHECK(cudaMemcpyAsync(d_pos.data(), &start, sizeof start, cudaMemcpyHostToDevice,
                                   stream));
    // Warm-up: walk the whole cycle (up to 2^19 nodes) so a set that fits a cache is in it.
    const long long warm = std::min<long long>(n, warmup_cap);
    chase(LoadKind::ld, d_chain.data(), d_pos.data(), warm, stream);
    long long walked = warm;
    ChaseRow row;
    row.bytes = bytes;
    const LoadKind kinds[] = {LoadKind::ld, LoadKind::ldcg, LoadKind::ldg};
    for (int k = 0; k < 3; ++k) {
      auto launch = [&] {
        chase(kinds[k], d_chain.data(), d_pos.data(), steps, stream);
        walked += steps;
      };
      row.ns[k] = median_event_ms(stream, repeat, launch, /*warmup=*/0) * 1e6 /
                  static_cast<double>(steps);
    }
    // The walk must end where the host's copy of the cycle says.
    std::uint32_t end = 0;
    GNM_CUDA_CHECK(
        cudaMemcpyAsync(&end, d_pos.data(), sizeof end, cudaMemcpyDeviceToHost, stream));
    GNM_CUDA_CHECK(cudaStreamSynchronize(stream));
    row.exact = end == order[static_cast<std::size_t>(walked % n)] * kNodeStride;
    rows.push_back(row);
  }
  return rows;
}

void write_latency_figure(const Config& cfg, const std::vector<ChaseRow>& rows,
                          const DeviceBasics& dev) {
  gnm::SvgPlot plot("Pointer-chase latency, " + dev.name,
                    {"working set (bytes)", gnm::AxisScale::log10},
                    {"ns per dependent load", gnm::AxisScale::log10});
  const char* names[] = {"ld (L1 + L2)", "__ldcg (L2 only)", "__ldg (read-only path)"};
  for (int k = 0; k < 3; ++k) {
    gnm::PlotSeries series{names[k], {}, {}, gnm::SeriesStyle::line_and_markers};
    for (const ChaseRow& r : rows) {
      series.x.push_back(static_cast<double>(r.bytes));
      series.y.push_back(r.ns[k]);
    }
    plot.add_series(std::move(series));
  }
  if (dev.l2_bytes > 0) {
    const double l2 = static_cast<double>(dev.l2_bytes);
    plot.add_series({"L2 size", {l2, l2}, {plot.y_limits().first, plot.y_limits().second},
                     gnm::SeriesStyle::line, "#999999", true});
  }
  std::filesystem::create_directories(cfg.figures_dir);
  const auto path = cfg.figures_dir / "ch06_latency.svg";
  gnm::write_file_atomic(path, plot.render());
  std::printf("  figure written to %s\n", path.string().c_str());
}

}  // namespace

Section run_memory(const Config& cfg) {
  if (auto skipped = skip_without_gpu(kMemoryTitle)) return *skipped;
  Section s;
  const DeviceBasics dev = device_basics();
  gnm::cuda::Stream stream;

  const std::vector<ChaseRow> rows = pointer_chase(cfg, stream.get());
  Table chase_table(std::string(kMemoryTitle) + ": pointer chase",
                    {"working set", "bytes", "ld ns", "ldcg ns", "ldg ns", "exact"});
  for (const ChaseRow& r : rows) {
    chase_table.add({str(format_size(r.bytes)), integer(static_cast<std::int64_t>(r.bytes)),
                     num(r.ns[0], 3), num(r.ns[1], 3), num(r.ns[2], 3), flag(r.exact)});
    s.verified = s.verified && r.exact;
  }
  s.add(chase_table);
  s.figures.emplace_back("chase_ns_smallest", rows.front().ns[0]);
  s.figures.emplace_back("chase_ns_largest", rows.back().ns[0]);
  write_latency_figure(cfg, rows, dev);

  // Constant memory. Entries are small integers, so every sum is exact in fp32 (|sum| <= 6 iters).
  std::vector<float> table(kTable);
  for (int k = 0; k < kTable; ++k) {
    table[static_cast<std::size_t>(k)] = static_cast<float>(k % 13 - 6);
  }
  GNM_CUDA_CHECK(cudaMemcpyToSymbol(c_table, table.data(), sizeof(float) * kTable));
  gnm::cuda::DeviceBuffer<float> d_table(table.size());
  d_table.copy_from_host(table);
  // The kernels below run on a non-blocking stream, which does not wait for the legacy stream
  // that cudaMemcpyToSymbol used: wait for both copies explicitly.
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  const int blocks = dev.sm_count * 8;
  const int block = 256;
  const int iters = cfg.quick ? 256 : 4096;
  const int repeat = repeats(cfg, 10, 3);
  const std::size_t threads = static_cast<std::size_t>(blocks) * block;
  gnm::cuda::DeviceBuffer<float> d_out(threads);
  std::vector<float> out(threads);
  Table ct(std::string(kMemoryTitle) + ": constant memory",
           {"memory", "addresses per warp", "ms", "G loads/s", "vs constant broadcast", "exact"});
  double broadcast_ms = 0;
  for (const bool constant : {true, false}) {
    for (const int spread : {0, 1}) {
      auto launch = [&] {
        if (constant) {
          table_sum_kernel<true><<<blocks, block, 0, stream.get()>>>(
              d_table.data(), d_out.data(), iters, spread);
        } else {
          table_sum_kernel<false><<<blocks, block, 0, stream.get()>>>(
              d_table.data(), d_out.data(), iters, spread);
        }
        GNM_CUDA_CHECK_LAUNCH();
      };
      const double ms = median_event_ms(stream.get(), repeat, launch);
      if (constant && spread == 0) broadcast_ms = ms;
      d_out.copy_to_host(out, stream.get());
      // A thread's sum depends on its lane only.
      double lane_sum[32] = {};
      for (int lane = 0; lane < 32; ++lane) {
        for (int j = 0; j < iters; ++j) {
          lane_sum[lane] += table[static_cast<std::size_t>((j + lane * spread) & (kTable - 1))];
        }
      }
      bool exact = true;
      for (std::size_t i = 0; i < threads; ++i) {
        exact = exact && static_cast<double>(out[i]) == lane_sum[(i % block) % 32];
      }
      s.verified = s.verified && exact;
      ct.add({str(constant ? "__constant__" : "global"), integer(spread == 0 ? 1 : 32), num(ms, 4),
              num(static_cast<double>(threads) * iters / (ms * 1e6), 4), num(ms / broadcast_ms, 3),
              flag(exact)});
    }
  }
  s.add(ct);
  std::printf("  %d blocks x %d threads, %d loads each, median of %d runs\n\n", blocks, block,
              iters, repeat);
  return s;
}

}  // namespace chapter06
