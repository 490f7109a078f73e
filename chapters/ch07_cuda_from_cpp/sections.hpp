// Chapter 7's sections and the settings they share. GPU sections live in .cu files; a CPU-only
// build (no CUDA) and a machine without a device get a "skipped" section that says why.
//
// What runs where:
//   7.1 build facts everywhere; the device table on a GPU          sec_runtime.cpp
//   7.2 NVRTC to PTX and cubin everywhere (CUDA build); launch on a GPU   sec_nvrtc.cpp
//   7.3 OpenCL saxpy/SGEMM on every OpenCL device (PoCL here)       sec_opencl.cpp
//   7.4 OpenCL C → SPIR → SPIR-V offline, validated, loaded         sec_spirv.cpp
//   7.5 SASS of our own inline-PTX kernels everywhere (CUDA build); the kernels on a GPU
//       sec_ptx.cpp, ptx_kernels.cu; then the wgmma GEMM (sec_wgmma.cu) on an sm_90 GPU
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "gnm/core/report_table.hpp"

namespace chapter07 {

using Table = gnm::ReportTable;
using Section = gnm::SectionResult;

/// Settings shared by the sections (from the command line).
struct Config {
  bool quick = false;               ///< Small sizes and few repeats (CI smoke run, seconds).
  int repeat = 0;                   ///< Timed repeats per measurement; 0: the section's default.
  std::filesystem::path cache_dir;  ///< 7.2: NVRTC cache directory (empty: a fresh temporary one).

  /// The number of timed repeats: `repeat` when given, else `quick_default` with --quick and
  /// `full_default` without.
  int repeats(int full_default, int quick_default = 2) const {
    return repeat > 0 ? repeat : (quick ? quick_default : full_default);
  }
};

/// When no CUDA device is usable (or the build has no CUDA), a Section whose one-row table says
/// "skipped: <why>" and prints the same line; std::nullopt when a device is there.
std::optional<Section> skip_without_gpu(const std::string& section_title);

/// Appends `part`'s tables, figures and verdict to `into`.
void merge(Section& into, const Section& part);

/// 7.1: what this build was compiled with, and the device properties that matter.
Section run_runtime_api(const Config& cfg);

/// 7.2: a kernel string compiled by NVRTC (exercise 7.1) to PTX and cubin through the disk
/// cache, first compile against cache hit; on a GPU, loaded with the driver API and launched.
Section run_nvrtc(const Config& cfg);

/// 7.3: saxpy and the naive and tiled SGEMM through gnm::opencl on every OpenCL device, against a
/// double reference and the engine's CPU SGEMM.
Section run_opencl(const Config& cfg);

/// 7.4: the OpenCL C kernels compiled offline to SPIR and SPIR-V, validated, and loaded.
Section run_spirv(const Config& cfg);

/// 7.5 (first half): kernels with inline PTX, the SASS that cuobjdump finds for them in this
/// program's own binary, and on a GPU the kernels against references; then run_wgmma.
Section run_ptx(const Config& cfg);

/// 7.5 (second half): the bf16 tensor-core GEMM with wgmma and TMA against cuBLAS bf16
/// (sec_wgmma.cu; needs an sm_90 device).
Section run_wgmma(const Config& cfg);

}  // namespace chapter07
