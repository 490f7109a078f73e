// Chapter 1 — What GPU-native machine learning is: this machine's roofline, measured.
//
// 1.1 The CPU's fp32 peak (an FMA-throughput loop in AVX2 and, where the CPU has it, AVX-512)
//     and memory bandwidth (STREAM triad), on one thread and on all; with a GPU, the same for
//     the GPU. The ridge points.
// 1.2 A FLOP-and-byte calculator for an MLP, a CNN or a Transformer block: every op's arithmetic
//     intensity on the measured roofline, and the share of GEMM/conv versus the rest.
// 1.3 Limits: thread start-up and pool dispatch against work size, the crossover size, Amdahl's
//     law with a measured serial fraction; with a GPU, launch and transfer overheads.
// Writes roofline.svg: the measured ceilings with chapter 2's GEMM kernels (--bench-json) or the
// model's ops on them.
//
//   ch01_gpu_native_ml [--section 1.1|1.2|1.3|all] [--threads N] [--model transformer ...]
//                      [--bench-json ch02.json] [--svg F | --out-dir D] [--json F] [--quick]
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench_points.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"
#include "gnm/core/host_info.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/program_report.hpp"
#include "gnm/cpu/gemm.hpp"
#include "gnm/cpu/peak.hpp"
#include "gnm/cuda/device.hpp"
#include "gpu_roofline.hpp"
#include "limits.hpp"
#include "machine_peak.hpp"
#include "op_cost.hpp"
#include "report.hpp"
#include "roofline_figure.hpp"

namespace {

using namespace gnm::ch01;

// Everything the program measured, printed, drew and checked.
struct Run {
  Options opt;
  gnm::cuda::DeviceReport cuda;
  std::vector<Ceiling> ceilings;    // drawn in roofline.svg
  std::optional<Roofline> cpu_all;  // the roofline section 1.2 places ops on
  bool roof_measured = false;
  std::vector<std::pair<std::string, double>> figures;  // for --json
  std::vector<std::pair<std::string, bool>> checks;     // for "Verification"
  void figure(const std::string& name, double v) { figures.emplace_back(name, v); }
  void check(const std::string& what, bool ok) { checks.emplace_back(what, ok); }
};

bool positive_finite(double v) { return std::isfinite(v) && v > 0; }

std::string threads_text(int t) { return std::to_string(t) + (t == 1 ? " thread" : " threads"); }

const char* width_text(gnm::cpu::CpuKernel w) {
  switch (w) {
    case gnm::cpu::CpuKernel::Avx512: return "AVX-512";
    case gnm::cpu::CpuKernel::Avx2: return "AVX2";
    default: return "portable";
  }
}

void section_1_1(Run& run, bool verbose) {
  const Options& o = run.opt;
  const gnm::HostInfo host = gnm::host_info();
  const std::size_t l3 = l3_cache_bytes();
  const std::int64_t fma_iters = o.quick ? (std::int64_t{1} << 18) : (std::int64_t{1} << 22);
  const std::size_t elements = static_cast<std::size_t>(o.stream_mib) << 17;  // 8-byte doubles
  if (verbose) {
    std::printf("\n== 1.1 Measure, do not quote: peak FLOP/s and memory bandwidth ==\n");
    std::printf("  CPU            %s, %d logical cores, L3 %s\n", host.cpu_model.c_str(),
                host.logical_cores,
                l3 ? (gnm::format_bytes(static_cast<double>(l3)) + " (as reported)").c_str()
                   : "unknown");
    std::printf("  FMA loop       x <- x*1 + 2^-10 in independent chains, %lld iterations, best "
                "of %d\n", static_cast<long long>(fma_iters), o.reps);
  }
  std::vector<int> counts = {1};
  if (o.threads > 1) counts.push_back(o.threads);
  // The engine's FMA loop in each register width this CPU runs: AVX2 on x86-64-v3 (portable C++
  // elsewhere), and AVX-512 where the CPU and OS have it: the engine's GEMM then uses it, and a
  // roof at the AVX2 peak would sit below the engine's own kernel.
  using gnm::cpu::CpuKernel;
  std::vector<CpuKernel> widths = {
      gnm::cpu::cpu_kernel_supported(CpuKernel::Avx2) ? CpuKernel::Avx2 : CpuKernel::Portable};
  if (gnm::cpu::cpu_kernel_supported(CpuKernel::Avx512)) widths.push_back(CpuKernel::Avx512);
  std::vector<std::vector<FmaResult>> fma;  // [width][thread count]
  for (CpuKernel w : widths) {
    const gnm::cpu::FmaLoopShape shape = gnm::cpu::fma_loop_shape(w);
    if (verbose) {
      std::printf("  %-14s %d chains x %d fp32 lanes\n", width_text(w), shape.chains, shape.lanes);
    }
    fma.emplace_back();
    for (int t : counts) {
      fma.back().push_back(measure_fma_peak(w, t, fma_iters, o.reps));
      const FmaResult& f = fma.back().back();
      if (verbose) {
        std::printf("    %-12s %8.1f GFLOP/s (median %.1f), checksum %s\n",
                    threads_text(t).c_str(), f.best_gflops, f.median_gflops,
                    f.exact ? "exact" : "WRONG");
      }
      const std::string what = std::string(width_text(w)) + " FMA ";
      run.check(what + "peak on " + threads_text(t) + " is positive and finite",
                positive_finite(f.best_gflops));
      run.check(what + "checksum on " + threads_text(t) + " equals its closed form", f.exact);
    }
  }
  if (verbose && widths.size() == 1) std::printf("  AVX-512: not available on this CPU\n");
  if (verbose) {
    std::printf("  STREAM triad   a[i] = b[i] + s*c[i], 3 x %lld MiB of doubles, 24 bytes per "
                "element counted (32 move: write-allocate)\n",
                static_cast<long long>(o.stream_mib));
    if (l3 && 3 * elements * 8 < 4 * l3) {
      std::printf("                 note: the arrays are not 4x the reported L3; if it is really "
                  "this machine's, raise --stream-mib\n");
    }
  }
  std::vector<TriadResult> triad;
  for (int t : counts) {
    triad.push_back(measure_triad(t, elements, o.reps));
    const TriadResult& r = triad.back();
    if (verbose) {
      std::printf("    %-12s %8.1f GB/s (median %.1f), arrays %s\n", threads_text(t).c_str(),
                  r.best_gbps, r.median_gbps, r.values_ok ? "hold b + s*c" : "WRONG");
    }
    run.check("triad bandwidth on " + threads_text(t) + " is positive and finite",
              positive_finite(r.best_gbps));
    run.check("triad arrays on " + threads_text(t) + " hold the expected values", r.values_ok);
  }
  // One colour per thread count: the widest loop's ceiling dark, the narrower one light. Section
  // 1.2 places ops on the widest all-threads roof: what the engine's GEMM can reach here.
  const char* colors[2][2] = {{"#1f77b4", "#aec7e8"}, {"#d62728", "#ff9896"}};
  for (std::size_t i = 0; i < counts.size(); ++i) {
    for (std::size_t w = widths.size(); w-- > 0;) {
      const Roofline roof{fma[w][i].best_gflops, triad[i].best_gbps};
      if (!positive_finite(roof.peak_gflops) || !positive_finite(roof.bandwidth_gbps)) continue;
      const bool widest = w + 1 == widths.size();
      // Only the widest roof's ridge is labelled: the narrower one's sits on the same slope
      // just below it, and its label would collide (its value is in the legend's numbers).
      run.ceilings.push_back({std::string("CPU ") + width_text(widths[w]) + ", " +
                                  threads_text(counts[i]),
                              roof, colors[i][widest ? 0 : 1], false, widest});
      if (widest) run.cpu_all = roof;
    }
  }
  run.roof_measured = true;
  // The first width's keys keep their names (the book's table reads them); AVX-512 adds its own.
  const std::string sfx[] = {"_1t", "_all"};
  for (std::size_t i = 0; i < counts.size(); ++i) {
    run.figure("peak_GFLOPs" + sfx[i], fma[0][i].best_gflops);
    run.figure("triad_GBps" + sfx[i], triad[i].best_gbps);
    run.figure("ridge_FLOP_per_B" + sfx[i], fma[0][i].best_gflops / triad[i].best_gbps);
    if (widths.size() > 1) {
      run.figure("peak_avx512" + sfx[i] + "_gflops", fma[1][i].best_gflops);
      run.figure("ridge_avx512" + sfx[i] + "_FLOP_per_B",
                 fma[1][i].best_gflops / triad[i].best_gbps);
    }
  }
  if (verbose) {
    for (std::size_t w = 0; w < widths.size(); ++w) {
      std::printf("  %-14s ", w == 0 ? "CPU ridge" : "");
      for (std::size_t i = 0; i < counts.size(); ++i) {
        std::printf("%s%s, %s: %.1f / %.1f = %.2f FLOP/byte", i ? "; " : "",
                    width_text(widths[w]), threads_text(counts[i]).c_str(),
                    fma[w][i].best_gflops, triad[i].best_gbps,
                    fma[w][i].best_gflops / triad[i].best_gbps);
      }
      std::printf("\n");
    }
    std::printf("                 an op with fewer FLOPs per byte is memory-bound on this CPU\n");
  }

  if (run.cuda.devices.empty()) {
    if (verbose) std::printf("  GPU            none: %s\n", run.cuda.status.c_str());
    return;
  }
#if GNM_HAVE_CUDA
  const GpuRoofline g = measure_gpu_roofline(run.cuda.devices.front().ordinal, o.reps, o.quick);
  if (verbose) {
    std::printf("  GPU            %s: FMA peak %.0f GFLOP/s (checksum %s), device copy %.0f GB/s "
                "(%s, read + write), ridge %.1f FLOP/byte\n", g.device.c_str(), g.peak_gflops,
                g.fma_exact ? "exact" : "WRONG", g.copy_gbps,
                gnm::format_bytes(static_cast<double>(g.copy_bytes)).c_str(), g.ridge());
  }
  run.check("GPU FMA peak is positive and finite", positive_finite(g.peak_gflops));
  run.check("GPU FMA checksum equals its closed form", g.fma_exact);
  run.check("GPU copy bandwidth is positive and finite", positive_finite(g.copy_gbps));
  run.check("GPU copy destination equals its source", g.copy_ok);
  if (positive_finite(g.peak_gflops) && positive_finite(g.copy_gbps)) {
    run.ceilings.push_back({"GPU " + g.device, {g.peak_gflops, g.copy_gbps}, "#2ca02c", true, true});
  }
  run.figure("gpu_peak_GFLOPs", g.peak_gflops);
  run.figure("gpu_copy_GBps", g.copy_gbps);
  run.figure("gpu_ridge_FLOP_per_B", g.ridge());
#endif
}

void section_1_2(Run& run, std::vector<OpCost>& ops) {
  const Options& o = run.opt;
  ops = build_model(o);
  const Roofline roof = run.cpu_all ? *run.cpu_all : Roofline{};
  std::printf("\n== 1.2 FLOPs and bytes: %s ==\n", model_title(o).c_str());
  std::printf("  roofline       %s: peak %.1f GFLOP/s, bandwidth %.1f GB/s, ridge %.2f "
              "FLOP/byte\n", run.roof_measured ? ("measured, " + threads_text(o.threads)).c_str()
                                               : "given (--peak-gflops, --bandwidth-gbs)",
              roof.peak_gflops, roof.bandwidth_gbps, roof.ridge());
  print_op_table(ops, roof);
  const ModelTotals t = model_totals(ops, roof);
  run.check("model FLOP and byte totals are positive and finite",
            positive_finite(t.total_flops()) && positive_finite(t.total_bytes()));
  run.figure("model_matmul_flop_share", t.flops[0] / t.total_flops());
  run.figure("model_matmul_time_share", t.seconds[0] / t.total_seconds());
}

void section_1_3(Run& run) {
  const Options& o = run.opt;
  std::printf("\n== 1.3 Limits: Amdahl's law, start-up and launch overheads ==\n");
  const LimitsSummary s = run_limits(o);
  for (const auto& [what, ok] : s.checks) run.check(what, ok);
  for (const auto& [name, v] : s.figures) run.figure(name, v);
  if (run.cuda.devices.empty()) {
    std::printf("  GPU            none, so no launch or transfer overheads: %s\n",
                run.cuda.status.c_str());
    return;
  }
#if GNM_HAVE_CUDA
  const GpuOverheads g = measure_gpu_overheads(run.cuda.devices.front().ordinal, o.reps, o.quick);
  print_gpu_overheads(g);
  run.check("GPU launch overheads are positive and finite",
            positive_finite(g.launch_us) && positive_finite(g.launch_sync_us));
  run.figure("gpu_launch_us", g.launch_us);
  run.figure("gpu_launch_sync_us", g.launch_sync_us);
#endif
}

std::string to_json(const Run& run) {
  using gnm::json_number;
  using gnm::json_quote;
  const std::string date = gnm::utc_timestamp();
  const gnm::HostInfo host = gnm::host_info();
  const std::string gpu = run.cuda.devices.empty() ? "none" : run.cuda.devices.front().name;
  bool ok = true;
  for (const auto& c : run.checks) ok = ok && c.second;
  std::ostringstream j;
  j << "{\n  \"program\": \"ch01_gpu_native_ml\",\n  \"date\": " << json_quote(date) << ",\n"
    << "  \"machine\": {\"cpu\": " << json_quote(host.cpu_model)
    << ", \"cores\": " << host.logical_cores << ", \"gpu\": " << json_quote(gpu)
    << ", \"driver\": " << json_quote(gnm::cuda::format_cuda_version(run.cuda.driver_version))
    << "},\n  \"backend\": " << json_quote("cpu (" + threads_text(run.opt.threads) + ")" +
                                          (gpu == "none" ? "" : " + cuda"))
    << ",\n  \"parameters\": {\"section\": " << json_quote(run.opt.section)
    << ", \"threads\": " << run.opt.threads << ", \"reps\": " << run.opt.reps
    << ", \"stream_mib\": " << run.opt.stream_mib << ", \"model\": " << json_quote(run.opt.model)
    << ", \"quick\": "
    << (run.opt.quick ? "true" : "false") << "},\n  \"figures\": {";
  for (std::size_t i = 0; i < run.figures.size(); ++i) {
    j << (i ? ", " : "") << json_quote(run.figures[i].first) << ": "
      << json_number(run.figures[i].second);
  }
  j << "},\n  \"verified\": " << (ok ? "true" : "false") << "\n}\n";
  return j.str();
}

int run_program(const Options& opt) {
  validate(opt);
  Run run;
  run.opt = opt;
  run.cuda = gnm::cuda::query_devices();
  // Read chapter 2's results first: a bad file should fail before minutes of measuring.
  std::optional<BenchFile> bench;
  if (!opt.bench_json.empty()) {
    bench = parse_gemm_benchmarks(gnm::read_file(opt.bench_json), opt.bench_json);
  }
  const bool s11 = opt.section == "1.1" || opt.section == "all";
  const bool s12 = opt.section == "1.2" || opt.section == "all";
  const bool s13 = opt.section == "1.3" || opt.section == "all";
  std::printf("Chapter 1: what GPU-native machine learning is (section %s, %s)\n",
              opt.section.c_str(), threads_text(opt.threads).c_str());

  const bool given_roof = opt.peak_gflops > 0;
  if (s11 || (s12 && !given_roof)) {
    if (!s11) std::printf("\n(measuring this machine's roofline for section 1.2 ...)\n");
    section_1_1(run, s11);
  }
  if (given_roof && !s11) {
    run.cpu_all = Roofline{opt.peak_gflops, opt.bandwidth_gbs};
    run.ceilings.push_back({"given", *run.cpu_all, "#d62728", false, true});
  }
  std::vector<OpCost> ops;
  if (s12) section_1_2(run, ops);
  if (s13) section_1_3(run);

  // The figure: chapter 2's kernels when their results are given, else the model's ops.
  if (!run.ceilings.empty()) {
    if (bench) {
      std::printf("\n  bench results  %zu GEMM points from %s (%d entries skipped)\n",
                  bench->points.size(), opt.bench_json.c_str(), bench->skipped);
    }
    const std::filesystem::path svg =
        opt.svg.empty() ? std::filesystem::path(opt.out_dir) / "roofline.svg"
                        : std::filesystem::path(opt.svg);
    const std::string title = std::string("Roofline, fp32: ") +
                              (run.roof_measured ? gnm::host_info().cpu_model : "given ceilings");
    gnm::write_file_atomic(svg, roofline_svg(title, run.ceilings,
                                             bench ? bench->points : std::vector<BenchPoint>{}, ops,
                                             run.cpu_all.value_or(Roofline{1, 1})));
    std::printf("  figure         written to %s\n", svg.string().c_str());
  }
  if (!opt.json.empty()) {
    gnm::write_file_atomic(opt.json, to_json(run));
    std::printf("  results        written to %s\n", opt.json.c_str());
  }
  bool ok = !run.checks.empty();
  for (const auto& [what, passed] : run.checks) {
    if (!passed) std::printf("  FAILED: %s\n", what.c_str());
    ok = ok && passed;
  }
  std::printf("Verification: %s\n", ok ? "PASSED" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 1: this machine's roofline, a FLOP-and-byte calculator, and the limits "
               "of parallel speed-up"};
  Options opt;
  add_options(app, opt);
  return gnm::run_cli<CLI::ParseError>(app, argc, argv, [&] { return run_program(opt); });
}
