// Chapter 6's sections and the settings they share. GPU sections live in .cu files; a CPU-only
// build (no CUDA) and a machine without a device get a "skipped" section that says why.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "gnm/core/report_table.hpp"

namespace chapter06 {

using Table = gnm::ReportTable;
using Section = gnm::SectionResult;

/// Settings shared by the sections (from the command line).
struct Config {
  bool quick = false;                  ///< Small sizes and few repeats (CI smoke run, seconds).
  int repeat = 0;                      ///< Timed repeats per measurement; 0: the section's default.
  std::filesystem::path figures_dir = "runs/ch06";  ///< Where SVG figures are written.
  std::filesystem::path results_glob_dir = "book/results";  ///< 6.6 reads ch06–ch08 results here.
};

/// When no CUDA device is usable (or the build has no CUDA), a Section whose one-row table says
/// "skipped: <why>" and prints the same line; std::nullopt when a device is there.
std::optional<Section> skip_without_gpu(const std::string& section_title);

/// 6.1 threads, blocks, warps: the cost of warp divergence (sec_threads.cu).
Section run_threads(const Config& cfg);
/// 6.2 the SGEMM ladder against cuBLAS with TF32 off (sec_ladder.cu).
Section run_ladder(const Config& cfg);
/// 6.3 L1/L2, constant memory: pointer-chase latency per level, constant broadcast (sec_memory.cu).
Section run_memory(const Config& cfg);
/// 6.4 bank conflicts and synchronization: transposes, barrier vs shuffle reductions (sec_sync.cu).
Section run_sync(const Config& cfg);
/// 6.5 occupancy: the calculator on the H100's published limits (CPU), the device check and a
/// sweep (sec_occupancy.cpp / .cu).
Section run_occupancy(const Config& cfg);
/// 6.6 roofline: measured ceilings and the kernels of chapters 6–8 placed on them (SVG).
Section run_roofline(const Config& cfg);

/// The section titles: the "tables" keys of the results file start with them, and the book's
/// table markers name those keys.
inline constexpr const char* kThreadsTitle = "6.1 threads, blocks, warps";
inline constexpr const char* kLadderTitle = "6.2 SGEMM ladder";
inline constexpr const char* kMemoryTitle = "6.3 caches and constant memory";
inline constexpr const char* kSyncTitle = "6.4 synchronization and bank conflicts";
inline constexpr const char* kOccupancyTitle = "6.5 occupancy";
inline constexpr const char* kRooflineTitle = "6.6 roofline";

// The device halves of 6.5 and 6.6 (sec_occupancy_gpu.cu, sec_roofline_gpu.cu); a CPU-only build
// gets stand-ins from no_cuda.cpp.

/// 6.5 on a device: the calculator against cudaOccupancyMaxActiveBlocksPerMultiprocessor for real
/// kernels, and a memory-bound kernel's bandwidth against occupancy. Adds its tables to `s`, or a
/// "skipped" table without a device.
void run_occupancy_device(const Config& cfg, Section& s);

/// Ceilings measured on the device by 6.6.
struct MeasuredCeilings {
  std::string device;      ///< cudaDeviceProp::name.
  double fma_gflops = 0;   ///< fp32 FMA throughput (2 FLOP per FMA), best of the repeats.
  double copy_gbps = 0;    ///< gnm::cuda::copy, read + write bytes, best of the repeats.
  double memcpy_gbps = 0;  ///< cudaMemcpy device to device, read + write bytes.
  bool verified = false;   ///< The FMA results and the copies were exact.
};

/// Measures the ceilings on device 0; std::nullopt (after printing why) without a device.
std::optional<MeasuredCeilings> measure_ceilings(const Config& cfg);

}  // namespace chapter06
