// Chapter 8's sections and the settings they share. The GPU sections live in .cu files; a CPU-only
// build gets no_cuda.cpp instead, and a machine without a device gets a "skipped" section that
// says why. 8.5's device choice and 8.6's host allocator run everywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "gnm/core/report_table.hpp"

namespace chapter08 {

using Table = gnm::ReportTable;
using Section = gnm::SectionResult;

/// Settings shared by the sections (from the command line).
struct Config {
  bool quick = false;      ///< Small sizes and few repeats (the CI smoke run: seconds).
  int repeat = 0;          ///< Timed repeats per measurement; 0: each section's default.
  std::uint64_t seed = 8;  ///< Seed of every random input.

  /// `repeat` when set, otherwise `quick_default` or `full_default`.
  int repeats(int full_default, int quick_default) const {
    return repeat > 0 ? repeat : (quick ? quick_default : full_default);
  }
};

/// When no CUDA device is usable (or the build has no CUDA): prints "<number> skipped: no CUDA
/// device (<status>)" and returns a Section whose one-row table says the same; std::nullopt when
/// a device is there. `number` is "8.1" … "8.6".
std::optional<Section> skip_without_gpu(const std::string& number);

/// The CPU-only build's stand-in for a GPU section: prints "<number> skipped: built without
/// CUDA" and returns the same as a one-row table (verified: nothing ran, nothing failed).
Section built_without_cuda(const std::string& number);

/// Appends `from`'s tables, figures and verdict to `into`.
void merge(Section& into, const Section& from);

/// 8.1 host ⇔ device transfers: pageable vs pinned over sizes, many small copies vs one
/// (sec_transfers.cu).
Section run_transfers(const Config& cfg);
/// 8.2 unified memory with and without prefetch; zero-copy mapped memory (sec_unified.cu).
Section run_unified(const Config& cfg);
/// 8.3 coalescing: bandwidth against stride and offset; the transpose ladder (sec_coalescing.cu).
Section run_coalescing(const Config& cfg);
/// 8.4 streams and events: the chunked copy/compute pipeline over 1–8 streams (sec_streams.cu).
Section run_streams(const Config& cfg);
/// 8.5 devices: enumerate, choose by free memory, peer access (sec_devices.cpp; runs everywhere).
Section run_devices(const Config& cfg);
/// 8.6 the caching allocator: the host part always (sec_allocator.cpp), then the device part.
Section run_allocator(const Config& cfg);
/// 8.6's device part: CachingAllocator vs cudaMalloc/cudaFree vs cudaMallocAsync, statistics,
/// the memory cap on the device (sec_allocator_gpu.cu).
Section run_allocator_device(const Config& cfg);

}  // namespace chapter08
