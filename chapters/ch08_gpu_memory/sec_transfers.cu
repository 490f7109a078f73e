// 8.1 Host ⇔ device transfers: what a copy costs and how to pay less.
//
//   - pageable vs pinned, host→device and device→host, 4 KiB … 256 MiB, timed with CUDA events;
//   - one copy costs a fixed latency plus bytes / bandwidth, so small copies are latency-bound:
//     1000 copies of 4 KiB against one copy of the same 4000 KiB, and against packing scattered
//     pieces on the host first.
//
// Napkin math. The link: an H100 SXM5 on an HGX board and an H100 PCIe card both reach the host
// over PCIe Gen5 x16: 32 GT/s × 16 lanes × 128/130 ≈ 63 GB/s per direction, ~50–55 GB/s after
// packet overheads. (A GH200 uses NVLink-C2C instead, ~450 GB/s per direction.) A pageable copy
// goes through a pinned staging buffer of the driver: an extra host memcpy, and no overlap.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gnm/core/host_info.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "gpu_timing.hpp"
#include "sections.hpp"

namespace chapter08 {

namespace {

using namespace gnm::cells;

constexpr double kPcieGen5x16GBps = 63.0;  // per direction, before packet overheads

std::string size_text(std::size_t b) { return gnm::format_bytes(static_cast<double>(b)); }

// Copies `bytes` from src to dst and back into `check`, then compares bit for bit.
bool round_trip_ok(const void* src, void* d_buf, void* check, std::size_t bytes, cudaStream_t s) {
  std::memset(check, 0, bytes);
  GNM_CUDA_CHECK(cudaMemcpyAsync(d_buf, src, bytes, cudaMemcpyHostToDevice, s));
  GNM_CUDA_CHECK(cudaMemcpyAsync(check, d_buf, bytes, cudaMemcpyDeviceToHost, s));
  GNM_CUDA_CHECK(cudaStreamSynchronize(s));
  return std::memcmp(src, check, bytes) == 0;
}

}  // namespace

Section run_transfers(const Config& cfg) {
  if (auto skip = skip_without_gpu("8.1")) return *skip;
  Section section;
  std::printf("== 8.1 host <-> device transfers: pageable vs pinned, batching ==\n");
  char bus[32] = "?";
  int device = 0;
  GNM_CUDA_CHECK(cudaGetDevice(&device));
  GNM_CUDA_CHECK(cudaDeviceGetPCIBusId(bus, sizeof bus, device));
  std::printf("measuring the link between the host and device %d at PCI %s\n", device, bus);

  const std::size_t max_bytes = cfg.quick ? (std::size_t{4} << 20) : (std::size_t{256} << 20);
  const std::size_t n_max = max_bytes / sizeof(float);
  // Random bits in every buffer (never zeros: a link or a driver could compress them).
  gnm::cuda::PinnedBuffer<float> pinned_src(n_max), pinned_dst(n_max);
  std::unique_ptr<float[]> pageable_src(new float[n_max]), pageable_dst(new float[n_max]);
  gnm::fill_uniform(pinned_src.span(), cfg.seed, -1.0f, 1.0f);
  std::memcpy(pageable_src.get(), pinned_src.data(), max_bytes);
  std::memset(pageable_dst.get(), 0, max_bytes);
  gnm::cuda::DeviceBuffer<float> d_buf(n_max);
  gnm::cuda::Stream stream;
  const cudaStream_t s = stream.get();

  Table sweep("8.1 pageable vs pinned bandwidth (GB/s)",
              {"size", "H2D pageable", "H2D pinned", "D2H pageable", "D2H pinned",
               "pinned H2D µs", "bit-exact"});
  double peak_h2d = 0, peak_d2h = 0, small_us = 0;
  for (std::size_t bytes = 4096; bytes <= max_bytes; bytes *= 4) {
    const int repeat = cfg.repeats(bytes <= (std::size_t{16} << 20) ? 20 : 5, 5);
    auto time_copy = [&](void* dst, const void* src, cudaMemcpyKind kind) {
      return median_event_ms(s, 1, repeat, [&] {
        GNM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, s));
      });
    };
    const double h2d_pageable = time_copy(d_buf.data(), pageable_src.get(), cudaMemcpyHostToDevice);
    const double h2d_pinned = time_copy(d_buf.data(), pinned_src.data(), cudaMemcpyHostToDevice);
    const double d2h_pageable = time_copy(pageable_dst.get(), d_buf.data(), cudaMemcpyDeviceToHost);
    const double d2h_pinned = time_copy(pinned_dst.data(), d_buf.data(), cudaMemcpyDeviceToHost);
    const bool exact =
        round_trip_ok(pinned_src.data(), d_buf.data(), pinned_dst.data(), bytes, s) &&
        round_trip_ok(pageable_src.get(), d_buf.data(), pageable_dst.get(), bytes, s);
    section.verified = section.verified && exact;
    const auto b = static_cast<double>(bytes);
    sweep.add({str(size_text(bytes)), num(gbps(b, h2d_pageable)), num(gbps(b, h2d_pinned)),
               num(gbps(b, d2h_pageable)), num(gbps(b, d2h_pinned)), num(h2d_pinned * 1e3),
               flag(exact)});
    peak_h2d = std::max(peak_h2d, gbps(b, h2d_pinned));
    peak_d2h = std::max(peak_d2h, gbps(b, d2h_pinned));
    if (bytes == 4096) small_us = h2d_pinned * 1e3;
  }
  section.add(sweep);

  // Copy time ≈ latency + bytes / bandwidth: the size that reaches half the bandwidth is
  // latency × bandwidth (n½). Below it a copy is latency-bound.
  Table link("8.1 the link", {"figure", "value"});
  link.add({str("PCI bus id"), str(bus)});
  link.add({str("peak pinned H2D GB/s"), num(peak_h2d)});
  link.add({str("peak pinned D2H GB/s"), num(peak_d2h)});
  link.add({str("of PCIe Gen5 x16 (63 GB/s per direction)"),
            str(peak_h2d > kPcieGen5x16GBps ? "faster: not a PCIe Gen5 x16 link (NVLink-C2C?)"
                                            : std::to_string(static_cast<int>(
                                                  100.0 * peak_h2d / kPcieGen5x16GBps)) + " %")});
  link.add({str("4 KiB pinned copy (≈ latency) µs"), num(small_us)});
  link.add({str("n½ = latency × bandwidth"), str(size_text(static_cast<std::size_t>(
                                                  small_us * 1e-6 * peak_h2d * 1e9)))});
  section.add(link);
  section.figures.emplace_back("h2d_pinned_peak_GBps", peak_h2d);
  section.figures.emplace_back("d2h_pinned_peak_GBps", peak_d2h);

  //! [batching]
  // Batching: k pieces of 4 KiB. Many copies pay the latency k times; one copy of the packed
  // pieces pays it once. When the pieces are scattered in pageable memory, packing them into a
  // pinned staging buffer on the host (memcpy at ~10 GB/s) and copying once still wins.
  const std::size_t k = cfg.quick ? 100 : 1000;
  const std::size_t piece = 4096;
  const std::size_t packed = k * piece;
  const std::size_t gap = std::min<std::size_t>(4 * piece, max_bytes / k);  // scattered: 16 KiB
  auto* d_bytes = reinterpret_cast<char*>(d_buf.data());
  const auto* pinned_bytes = reinterpret_cast<const char*>(pinned_src.data());
  const auto* scattered = reinterpret_cast<const char*>(pageable_src.get());
  auto* staging = reinterpret_cast<char*>(pinned_dst.data());
  const auto many_copies = [&] {
    for (std::size_t i = 0; i < k; ++i) {
      GNM_CUDA_CHECK(cudaMemcpyAsync(d_bytes + i * piece, pinned_bytes + i * piece, piece,
                                     cudaMemcpyHostToDevice, s));
    }
  };
  const auto one_copy = [&] {
    GNM_CUDA_CHECK(cudaMemcpyAsync(d_bytes, pinned_bytes, packed, cudaMemcpyHostToDevice, s));
  };
  const auto pack_and_copy = [&] {
    for (std::size_t i = 0; i < k; ++i) {
      std::memcpy(staging + i * piece, scattered + i * gap, piece);
    }
    GNM_CUDA_CHECK(cudaMemcpyAsync(d_bytes, staging, packed, cudaMemcpyHostToDevice, s));
  };
  const int repeat = cfg.repeats(10, 3);
  const double many_ms = median_event_ms(s, 1, repeat, many_copies);
  const double one_ms = median_event_ms(s, 1, repeat, one_copy);
  std::vector<double> pack_ms;  // host work: wall time up to the end of the copy
  for (int r = 0; r < repeat + 1; ++r) {
    gnm::HostTimer t;
    pack_and_copy();
    GNM_CUDA_CHECK(cudaStreamSynchronize(s));
    if (r > 0) pack_ms.push_back(t.elapsed_ms());  // the first is a warm-up
  }
  //! [batching]

  // Each method once more on a cleared device buffer, then piece i must be on the device at
  // i × 4 KiB: pinned piece i for the first two, the scattered pageable piece i for packing.
  std::vector<char> back(packed);
  const auto device_gets = [&](const auto& method, const char* source, std::size_t stride) {
    GNM_CUDA_CHECK(cudaMemsetAsync(d_bytes, 0, packed, s));
    method();
    GNM_CUDA_CHECK(cudaMemcpyAsync(back.data(), d_bytes, packed, cudaMemcpyDeviceToHost, s));
    GNM_CUDA_CHECK(cudaStreamSynchronize(s));
    for (std::size_t i = 0; i < k; ++i) {
      if (std::memcmp(back.data() + i * piece, source + i * stride, piece) != 0) return false;
    }
    return true;
  };
  const bool many_ok = device_gets(many_copies, pinned_bytes, piece);
  const bool one_ok = device_gets(one_copy, pinned_bytes, piece);
  const bool pack_ok = device_gets(pack_and_copy, scattered, gap);
  section.verified = section.verified && many_ok && one_ok && pack_ok;
  const double pack_median = gnm::summarize(pack_ms).median_ms;
  const auto total = static_cast<double>(packed);
  const std::string what = std::to_string(k) + " × 4 KiB";
  Table batch("8.1 batching " + what, {"method", "ms", "GB/s", "µs per piece", "bit-exact"});
  batch.add({str(std::to_string(k) + " cudaMemcpyAsync of 4 KiB (pinned)"), num(many_ms),
             num(gbps(total, many_ms)), num(1e3 * many_ms / static_cast<double>(k)),
             flag(many_ok)});
  batch.add({str("one cudaMemcpyAsync of " + size_text(packed) + " (pinned)"), num(one_ms),
             num(gbps(total, one_ms)), num(1e3 * one_ms / static_cast<double>(k)), flag(one_ok)});
  batch.add({str("pack scattered pageable pieces into pinned + one copy (wall)"), num(pack_median),
             num(gbps(total, pack_median)), num(1e3 * pack_median / static_cast<double>(k)),
             flag(pack_ok)});
  section.add(batch);
  section.figures.emplace_back("batching_many_over_one", many_ms / one_ms);
  std::printf("\n");
  return section;
}

}  // namespace chapter08
