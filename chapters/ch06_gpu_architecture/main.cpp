// Chapter 6 — GPU architecture.
//
//   6.1 threads, blocks, warps: the cost of warp divergence (1 … 32 paths per warp)
//   6.2 the memory hierarchy through the SGEMM ladder, against cuBLAS (exercises 6.1, 6.2)
//   6.3 L1/L2 latency by pointer chase; constant memory broadcast vs serialized
//   6.4 transposes (bank conflicts, exercise 6.4) and reductions (barriers vs warp shuffles)
//   6.5 occupancy: the calculator on the H100's published limits (CPU, exercise 6.3); on a
//       device, against the CUDA runtime and a bandwidth sweep
//   6.6 the roofline: published and measured ceilings, the kernels of chapters 6–8 on it (SVG)
//
// Without a CUDA device the GPU sections print why they were skipped; 6.5 and 6.6 still run.
//
//   ch06_gpu_architecture [--section all|6.1|…|6.6] [--quick] [--json FILE] [--repeat N]
//                         [--figures-dir DIR] [--results-dir DIR]
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

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
  bool repeat_given = false;
  std::string figures_dir = "runs/ch06";
  std::string results_dir = "book/results";
};

int run(const Options& opt) {
  gnm::require_choice("--section", opt.section, {"all", "6.1", "6.2", "6.3", "6.4", "6.5", "6.6"});
  if (opt.repeat_given) GNM_CHECK(opt.repeat >= 1, "--repeat must be at least 1", opt.repeat);
  chapter06::Config cfg;
  cfg.quick = opt.quick;
  cfg.repeat = opt.repeat_given ? opt.repeat : 0;
  cfg.figures_dir = opt.figures_dir;
  cfg.results_glob_dir = opt.results_dir;

  const gnm::cuda::DeviceReport cuda = gnm::cuda::query_devices();
  // Without a device, each GPU section prints the full reason (cuda.status) when it skips.
  const std::string backend =
      cuda.devices.empty()
          ? (cuda.compiled_with_cuda ? "cpu (no CUDA device)" : "cpu (built without CUDA)")
          : "cuda (" + cuda.devices.front().name + ", driver " +
                gnm::cuda::format_cuda_version(cuda.driver_version) + ")";
  std::printf("Chapter 6: GPU architecture on %s\n\n", backend.c_str());
  gnm::ProgramReport report("ch06_gpu_architecture");
  report.backend(backend)
      .gpu(cuda.devices.empty() ? "none" : cuda.devices.front().name)
      .parameter("section", opt.section)
      .parameter("quick", opt.quick)
      .parameter("repeat", cfg.repeat);
  auto want = [&](const char* s) { return opt.section == "all" || opt.section == s; };
  auto add = [&](const char* title, const chapter06::Section& s) {
    report.add_section_members(title, s.verified, s.json);
    for (const auto& [name, value] : s.figures) report.figure(name, value);
    std::printf("\n");
  };
  if (want("6.1")) add(chapter06::kThreadsTitle, chapter06::run_threads(cfg));
  if (want("6.2")) add(chapter06::kLadderTitle, chapter06::run_ladder(cfg));
  if (want("6.3")) add(chapter06::kMemoryTitle, chapter06::run_memory(cfg));
  if (want("6.4")) add(chapter06::kSyncTitle, chapter06::run_sync(cfg));
  if (want("6.5")) add(chapter06::kOccupancyTitle, chapter06::run_occupancy(cfg));
  if (want("6.6")) add(chapter06::kRooflineTitle, chapter06::run_roofline(cfg));
  return report.finish(opt.json);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 6: GPU architecture"};
  Options opt;
  app.add_option("--section", opt.section, "all, 6.1, 6.2, 6.3, 6.4, 6.5 or 6.6")
      ->capture_default_str();
  app.add_flag("--quick", opt.quick, "small sizes and few repeats (the smoke test: seconds)");
  app.add_option("--json", opt.json, "also write every table to this results file");
  app.add_option("--repeat", opt.repeat, "timed repeats per measurement (default: per section)")
      ->each([&](const std::string&) { opt.repeat_given = true; });
  app.add_option("--figures-dir", opt.figures_dir, "where the SVG figures go")
      ->capture_default_str();
  app.add_option("--results-dir", opt.results_dir,
                 "6.6 reads the GPU results of chapters 6-8 from here")
      ->capture_default_str();
  return gnm::run_cli<CLI::ParseError>(app, argc, argv, [&] { return run(opt); });
}
