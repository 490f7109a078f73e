// Chapter 9 — Tensor and operator design.
//
//   9.1 tensor anatomy: gnm::Tensor = shared Storage + shape, strides (in elements), offset and
//       dtype; a transposed view sharing the storage; .to(dtype); PyTorch-like printing
//   9.2 dynamic shapes and batching: one model at batch sizes 1, 7 and 64; shape errors that name
//       both shapes
//   9.3 ops: every op of gnm/tensor/ops.hpp in f32 against a double reference (error in units
//       of its error model) and its CPU time
//   9.4 kernel fusion: fused bias+activation and the fused elementwise executor against the
//       unfused chains (time and bytes moved)
//   9.5 autograd: a small graph's backward, .grad accumulation, retain_graph, no_grad, detach,
//       errors; gradcheck in float64 for every op; exercises 9.3 and 9.4 against autograd
//   9.6 broadcasting and views: broadcast shapes and their backward reduction (exercise 9.2);
//       views sharing storage (checked with exercise 9.1)
//
//   ch09_tensor_ops [--section all|9.1|…|9.6] [--quick] [--json FILE]
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/program_report.hpp"
#include "gnm/core/thread_pool.hpp"
#include "sections.hpp"

namespace {

struct Options {
  std::string section = "all";
  bool quick = false;
  std::string json;
};

int run(const Options& opt) {
  gnm::require_choice("--section", opt.section, {"all", "9.1", "9.2", "9.3", "9.4", "9.5", "9.6"});
  chapter9::Sizes sizes;
  if (opt.quick) {
    sizes = {.rows = 64, .cols = 257, .gemm_n = 64, .fusion_rows = 64, .budget_ms = 10.0};
  }
  const int threads = gnm::default_thread_pool().size();
  std::printf("Chapter 9: tensors and ops on the CPU, %d threads (GNM_NUM_THREADS sets them)\n\n",
              threads);

  gnm::ProgramReport report("ch09_tensor_ops");
  report.backend("cpu (" + std::to_string(threads) + " threads)")
      .parameter("section", opt.section)
      .parameter("quick", opt.quick)
      .parameter("rows", sizes.rows)
      .parameter("cols", sizes.cols)
      .parameter("gemm_n", sizes.gemm_n)
      .parameter("fusion_rows", sizes.fusion_rows);
  auto want = [&](const char* s) { return opt.section == "all" || opt.section == s; };
  auto add = [&](const std::string& title, const chapter9::Section& s) {
    report.add_section_members(title, s.verified, s.json);
    for (const auto& [name, value] : s.figures) report.figure(name, value);
  };
  if (want("9.1")) add("9.1 tensor anatomy", chapter9::run_anatomy());
  if (want("9.2")) add("9.2 dynamic shapes and batching", chapter9::run_batching(sizes));
  if (want("9.3")) add("9.3 ops", chapter9::run_op_table(sizes));
  if (want("9.4")) add("9.4 kernel fusion", chapter9::run_fusion(sizes));
  if (want("9.5")) add("9.5 autograd", chapter9::run_autograd());
  if (want("9.6")) add("9.6 broadcasting and views", chapter9::run_broadcast_views());
  return report.finish(opt.json);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 9: tensor and operator design"};
  Options opt;
  app.add_option("--section", opt.section, "all, 9.1, 9.2, 9.3, 9.4, 9.5 or 9.6")
      ->capture_default_str();
  app.add_flag("--quick", opt.quick, "small sizes and short timings (a few seconds)");
  app.add_option("--json", opt.json, "also write every table to this JSON file");
  return gnm::run_cli<CLI::ParseError>(app, argc, argv, [&] { return run(opt); });
}
