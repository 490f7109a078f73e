// Chapter 7 — Driving CUDA from C++.
//
//   7.1 the runtime API: what this build was compiled with; the device properties that matter
//   7.2 the driver API (loaded at run time) and NVRTC: a kernel string compiled to PTX and cubin
//       through the engine's disk cache (exercise 7.1), loaded and launched on a GPU
//   7.3 a portable backend: saxpy and SGEMM in OpenCL C on every OpenCL device (PoCL here)
//   7.4 SPIR-V: the OpenCL C kernels compiled offline, validated, inspected and loaded
//   7.5 PTX: inline ld.global.nc, shfl.sync and mma.sync; their SASS read with cuobjdump from
//       this binary; then a bf16 wgmma + TMA GEMM against cuBLAS (on an sm_90 GPU)
//
// Everything that can run without a GPU runs here; a GPU section without a device prints
// "7.x skipped: no CUDA device (<why>)". Each section checks itself.
//
//   ch07_cuda_from_cpp [--section all|7.1|…|7.5] [--quick] [--json FILE] [--repeat N]
//                      [--cache-dir DIR]
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include "gnm/core/check.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/program_report.hpp"
#include "gnm/cuda/device.hpp"
#include "sections.hpp"

namespace {

struct Options {
  std::string section = "all";
  bool quick = false;
  std::string json;
  int repeat = 0;
  std::string cache_dir;
};

int run(const Options& opt) {
  gnm::require_choice("--section", opt.section, {"all", "7.1", "7.2", "7.3", "7.4", "7.5"});
  GNM_CHECK(opt.repeat >= 0, "--repeat must be >= 0 (0: each section's default)", opt.repeat);
  if (!opt.cache_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opt.cache_dir, ec);
    if (ec) {
      throw gnm::IoError("--cache-dir: cannot create '" + opt.cache_dir + "': " + ec.message());
    }
  }
  chapter07::Config cfg;
  cfg.quick = opt.quick;
  cfg.repeat = opt.repeat;
  cfg.cache_dir = opt.cache_dir;

  const auto devices = gnm::cuda::query_devices();
  std::printf("Chapter 7: driving CUDA from C++ (CUDA devices: %s)\n\n", devices.status.c_str());
  gnm::ProgramReport report("ch07_cuda_from_cpp");
  report.backend(devices.devices.empty() ? "cpu (no CUDA device)" : "cuda")
      .parameter("section", opt.section)
      .parameter("quick", opt.quick)
      .parameter("repeat", opt.repeat);
  if (!devices.devices.empty()) report.gpu(devices.devices.front().name);
  auto want = [&](const char* s) { return opt.section == "all" || opt.section == s; };
  auto add = [&](const std::string& title, const chapter07::Section& s) {
    report.add_section_members(title, s.verified, s.json);
    for (const auto& [name, value] : s.figures) report.figure(name, value);
    std::printf("\n");
  };
  if (want("7.1")) add("7.1 runtime API", chapter07::run_runtime_api(cfg));
  if (want("7.2")) add("7.2 driver API and NVRTC", chapter07::run_nvrtc(cfg));
  if (want("7.3")) add("7.3 OpenCL backend", chapter07::run_opencl(cfg));
  if (want("7.4")) add("7.4 SPIR-V", chapter07::run_spirv(cfg));
  if (want("7.5")) add("7.5 PTX and SASS", chapter07::run_ptx(cfg));
  return report.finish(opt.json);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 7: driving CUDA from C++"};
  Options opt;
  app.add_option("--section", opt.section, "all, 7.1, 7.2, 7.3, 7.4 or 7.5")->capture_default_str();
  app.add_flag("--quick", opt.quick, "small sizes and few repeats (seconds; the smoke test)");
  app.add_option("--json", opt.json, "also write every table to this JSON file");
  app.add_option("--repeat", opt.repeat, "timed repeats per measurement (default: per section)");
  app.add_option("--cache-dir", opt.cache_dir,
                 "7.2: the NVRTC cache directory (default: a fresh temporary one)");
  return gnm::run_cli<CLI::ParseError>(app, argc, argv, [&] { return run(opt); });
}
