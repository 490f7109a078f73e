// Chapter 8 — GPU memory management and optimization.
//
//   8.1 host ⇔ device transfers: pageable vs pinned over 4 KiB … 256 MiB; many small copies vs
//       one (sec_transfers.cu)
//   8.2 unified memory with and without prefetch; zero-copy mapped memory (sec_unified.cu)
//   8.3 coalescing: bandwidth against stride and offset; the transpose ladder against the copy
//       kernel and cudaMemcpy (sec_coalescing.cu)
//   8.4 streams and events: the chunked copy/compute pipeline of exercise 8.1 over 1–8 streams,
//       against the serial sum and the ideal max(H2D, kernel, D2H) (sec_streams.cu)
//   8.5 devices: enumerate, choose by free memory, peer access (sec_devices.cpp)
//   8.6 the engine's caching allocator: size classes (exercise 8.2), the host backend against
//       malloc, the device backend against cudaMalloc and cudaMallocAsync, statistics, the cap
//       (sec_allocator.cpp, sec_allocator_gpu.cu)
//
// Without a GPU, 8.1–8.4 and 8.6's device part say "skipped: no CUDA device (…)"; 8.5 and 8.6's
// host part run and are checked.
//
//   ch08_gpu_memory [--section all|8.1|…|8.6] [--quick] [--json FILE] [--repeat N] [--seed S]
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

#include "gnm/core/check.hpp"
#include "gnm/core/program_report.hpp"
#include "gnm/cuda/device.hpp"
#include "sections.hpp"

namespace {

struct Options {
  std::string section = "all";
  bool quick = false;
  std::string json;
  int repeat = 0;
  std::uint64_t seed = 8;
};

int run(const Options& opt) {
  gnm::require_choice("--section", opt.section, {"all", "8.1", "8.2", "8.3", "8.4", "8.5", "8.6"});
  GNM_CHECK(opt.repeat >= 0, "--repeat must be >= 1 (or 0 for each section's default)",
            opt.repeat);
  chapter08::Config cfg;
  cfg.quick = opt.quick;
  cfg.repeat = opt.repeat;
  cfg.seed = opt.seed;

  const gnm::cuda::DeviceReport cuda = gnm::cuda::query_devices();
  const std::string gpu = cuda.devices.empty() ? "none" : cuda.devices.front().name;
  std::printf("Chapter 8: GPU memory management and optimization on %s (CUDA: %s)\n\n",
              gpu.c_str(), cuda.status.c_str());
  gnm::ProgramReport report("ch08_gpu_memory");
  report.backend(cuda.devices.empty() ? "cpu (no CUDA device)" : "cuda (" + gpu + ")")
      .gpu(gpu)
      .parameter("section", opt.section)
      .parameter("quick", opt.quick)
      .parameter("repeat", opt.repeat)
      .parameter("seed", static_cast<long long>(opt.seed))
      .parameter("driver", gnm::cuda::format_cuda_version(cuda.driver_version))
      .parameter("runtime", gnm::cuda::format_cuda_version(cuda.runtime_version));
  auto want = [&](const char* s) { return opt.section == "all" || opt.section == s; };
  // A section that throws (a CUDA error on a GPU this code has not met yet) fails alone: the
  // others still run, so one run reports as much as it can.
  using Runner = chapter08::Section (*)(const chapter08::Config&);
  auto add = [&](const std::string& title, Runner section) {
    chapter08::Section s;
    try {
      s = section(cfg);
    } catch (const gnm::Error& e) {
      std::printf("%s: error: %s\n\n", title.c_str(), e.what());
      chapter08::Table t(title + " error", {"error"});
      t.add({gnm::cells::str(e.what())});
      s = chapter08::Section{};
      s.json = t.json_member();
      s.verified = false;
    }
    report.add_section_members(title, s.verified, s.json);
    for (const auto& [name, value] : s.figures) report.figure(name, value);
  };
  if (want("8.1")) add("8.1 host-device transfers", chapter08::run_transfers);
  if (want("8.2")) add("8.2 unified and zero-copy memory", chapter08::run_unified);
  if (want("8.3")) add("8.3 coalescing", chapter08::run_coalescing);
  if (want("8.4")) add("8.4 streams and events", chapter08::run_streams);
  if (want("8.5")) add("8.5 devices", chapter08::run_devices);
  if (want("8.6")) add("8.6 caching allocator", chapter08::run_allocator);
  return report.finish(opt.json);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 8: GPU memory management and optimization"};
  Options opt;
  app.add_option("--section", opt.section, "all, 8.1, 8.2, 8.3, 8.4, 8.5 or 8.6")
      ->capture_default_str();
  app.add_flag("--quick", opt.quick, "small sizes and few repeats (seconds; the smoke test)");
  app.add_option("--json", opt.json, "also write every table to this JSON file");
  app.add_option("--repeat", opt.repeat, "timed repeats per measurement (0: each section's own)")
      ->capture_default_str();
  app.add_option("--seed", opt.seed, "seed of the random inputs")->capture_default_str();
  return gnm::run_cli<CLI::ParseError>(app, argc, argv, [&] { return run(opt); });
}
