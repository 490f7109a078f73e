// Chapter 3 — How automatic differentiation works.
//
//   3.1 forward mode (dual numbers, nested for f'') vs reverse mode (a scalar tape): operation
//       counts for R^n -> R and R -> R^m
//   3.2 the computation graph of an MLP loss: tape listing, Graphviz figure, every primitive's
//       backward against central differences, gradient accumulation at fan-out
//   3.3 tape memory: nodes in an arena, saved values in a pool released at last use, against a
//       keep-everything tape
//   3.4 compile-time shapes and a tape moved through the operations (the dfdx design)
//   3.5 static vs dynamic graph: built once, simplified and replayed vs re-recorded every step
//
//   ch03_autodiff [--section all|3.1|3.2|3.3|3.4|3.5] [--quick] [--max-n 1000] [--layers 32]
//                 [--repeat 200] [--dot FILE] [--json FILE]
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "forward_reverse.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/program_report.hpp"
#include "sections.hpp"

namespace {

struct Options {
  std::string section = "all";
  bool quick = false;
  int max_n = 1000;  // 3.1: largest n and m
  int layers = 32;   // 3.3: depth of the tanh chain
  int repeat = 200;  // 3.5: timed steps per variant
  std::string dot;
  std::string json;
};

int run(const Options& opt) {
  gnm::require_choice("--section", opt.section, {"all", "3.1", "3.2", "3.3", "3.4", "3.5"});
  if (opt.max_n < 1 || opt.max_n > 100000) {
    throw gnm::Error("--max-n must be in [1, 100000], got " + std::to_string(opt.max_n));
  }
  if (opt.layers < 1 || opt.layers > 4096) {
    throw gnm::Error("--layers must be in [1, 4096], got " + std::to_string(opt.layers));
  }
  if (opt.repeat < 1 || opt.repeat > 1000000) {
    throw gnm::Error("--repeat must be in [1, 1000000], got " + std::to_string(opt.repeat));
  }
  auto want = [&](const char* s) { return opt.section == "all" || opt.section == s; };

  gnm::ProgramReport report("ch03_autodiff");
  report.backend("cpu (1 thread, double precision)")
      .parameter("section", opt.section)
      .parameter("quick", opt.quick)
      .parameter("max_n", opt.max_n)
      .parameter("layers", opt.layers)
      .parameter("repeat", opt.repeat);
  // Each section's JSON is a list of "3.x table": {"rows": [...]} members, spliced into "tables".
  const auto add = [&](const std::string& title, const chapter3::Section& s) {
    report.add_section_members(title, s.verified, s.json);
  };
  if (want("3.1")) {
    const auto r = chapter3::run_forward_reverse(opt.quick ? std::min(opt.max_n, 100) : opt.max_n,
                                                 opt.quick);
    chapter3::print(r);
    add("3.1 forward and reverse mode", {r.verified, chapter3::to_json(r)});
  }
  if (want("3.2")) add("3.2 computation graph", chapter3::run_graph_section(opt.dot));
  if (want("3.3")) {
    add("3.3 tape memory",
        chapter3::run_memory_section(opt.quick ? std::min(opt.layers, 8) : opt.layers));
  }
  if (want("3.4")) add("3.4 typed tensors", chapter3::run_typed_section());
  if (want("3.5")) {
    add("3.5 static vs dynamic",
        chapter3::run_static_dynamic_section(opt.quick ? std::min(opt.repeat, 20) : opt.repeat));
  }
  return report.finish(opt.json);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 3: how automatic differentiation works"};
  Options opt;
  app.add_option("--section", opt.section, "all, 3.1, 3.2, 3.3, 3.4 or 3.5")->capture_default_str();
  app.add_flag("--quick", opt.quick, "small sizes (seconds)");
  app.add_option("--max-n", opt.max_n, "3.1: largest number of inputs n and outputs m")
      ->capture_default_str();
  app.add_option("--layers", opt.layers, "3.3: layers of the tanh chain")->capture_default_str();
  app.add_option("--repeat", opt.repeat, "3.5: timed steps of each graph")->capture_default_str();
  app.add_option("--dot", opt.dot, "3.2: write the MLP's graph as Graphviz DOT to this file");
  app.add_option("--json", opt.json, "also write every table to this JSON file");
  return gnm::run_cli<CLI::ParseError>(app, argc, argv, [&] { return run(opt); });
}
