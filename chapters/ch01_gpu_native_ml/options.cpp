// Options of the chapter program: declaration, checks, and the model they describe.
#include "options.hpp"

#include <CLI/CLI.hpp>

#include <cmath>
#include <thread>
#include <utility>

#include "gnm/core/error.hpp"
#include "gnm/core/host_info.hpp"

namespace gnm::ch01 {
namespace {

// The size flags and the models that have them.
struct SizeFlag {
  const char* name;
  std::optional<std::int64_t> Options::*field;
  const char* models;  // space-separated
};
constexpr SizeFlag kSizeFlags[] = {
    {"--batch", &Options::batch, "mlp cnn transformer"},
    {"--input", &Options::input, "mlp"},
    {"--hidden", &Options::hidden, "mlp transformer"},
    {"--layers", &Options::layers, "mlp cnn transformer"},
    {"--classes", &Options::classes, "mlp cnn"},
    {"--in-channels", &Options::in_channels, "cnn"},
    {"--image", &Options::image, "cnn"},
    {"--channels", &Options::channels, "cnn"},
    {"--seq", &Options::seq, "transformer"},
    {"--heads", &Options::heads, "transformer"},
};

std::string str(std::int64_t v) { return std::to_string(v); }

}  // namespace

void add_options(CLI::App& app, Options& opt) {
  const unsigned hw = std::thread::hardware_concurrency();
  opt.threads = hw == 0 ? 1 : static_cast<int>(hw);
  app.add_option("--section", opt.section, "1.1, 1.2, 1.3 or all")->capture_default_str();
  app.add_option("--threads", opt.threads, "threads for the all-threads measurements")
      ->capture_default_str();
  app.add_option("--reps", opt.reps, "repetitions of each measurement (best or median kept)")
      ->capture_default_str();
  app.add_option("--stream-mib", opt.stream_mib, "MiB per STREAM triad array (3 arrays)")
      ->capture_default_str();
  app.add_flag("--quick", opt.quick, "small, fast runs (the smoke test); numbers are rough");
  app.add_option("--json", opt.json, "also write the measurements to this JSON file");
  app.add_option("--svg", opt.svg,
                 "where to write the roofline figure (default: <out-dir>/roofline.svg)");
  app.add_option("--out-dir", opt.out_dir, "directory for roofline.svg")->capture_default_str();
  app.add_option("--bench-json", opt.bench_json,
                 "chapter 2's benchmark results (ch02_bench --benchmark_format=json) to place on "
                 "the roofline");
  app.add_option("--peak-gflops", opt.peak_gflops,
                 "section 1.2 only: use this peak instead of measuring (with --bandwidth-gbs)");
  app.add_option("--bandwidth-gbs", opt.bandwidth_gbs,
                 "section 1.2 only: use this bandwidth instead of measuring (with --peak-gflops)");
  app.add_option("--model", opt.model, "mlp, cnn or transformer (section 1.2)")
      ->capture_default_str();
  app.add_option("--batch", opt.batch, "batch size B");
  app.add_option("--input", opt.input, "MLP input features");
  app.add_option("--hidden", opt.hidden, "MLP width, or Transformer model width C");
  app.add_option("--layers", opt.layers, "hidden layers, conv blocks or Transformer blocks");
  app.add_option("--classes", opt.classes, "MLP/CNN output classes");
  app.add_option("--in-channels", opt.in_channels, "CNN input channels");
  app.add_option("--image", opt.image, "CNN image height and width");
  app.add_option("--channels", opt.channels, "CNN channels of the first block (doubling)");
  app.add_option("--seq", opt.seq, "Transformer sequence length T");
  app.add_option("--heads", opt.heads, "Transformer attention heads H");
}

void validate(const Options& o) {
  if (o.section != "1.1" && o.section != "1.2" && o.section != "1.3" && o.section != "all") {
    throw Error("--section must be 1.1, 1.2, 1.3 or all, got '" + o.section + "'");
  }
  if (o.threads < 1 || o.threads > 1024) {
    throw Error("--threads must be in [1, 1024], got " + std::to_string(o.threads));
  }
  if (o.reps < 1 || o.reps > 10000) {
    throw Error("--reps must be in [1, 10000], got " + std::to_string(o.reps));
  }
  if (o.stream_mib < 1 || o.stream_mib > (std::int64_t{1} << 20)) {
    throw Error("--stream-mib must be in [1, 1048576], got " + str(o.stream_mib));
  }
  const double need = 3.0 * static_cast<double>(o.stream_mib) * 1024 * 1024;
  const std::size_t avail = host_info().available_memory;
  if (avail > 0 && need > static_cast<double>(avail)) {
    throw Error("--stream-mib " + str(o.stream_mib) + " needs " + format_bytes(need) +
                " for the 3 triad arrays but only " + format_bytes(static_cast<double>(avail)) +
                " is available");
  }
  if (o.model != "mlp" && o.model != "cnn" && o.model != "transformer") {
    throw Error("--model must be mlp, cnn or transformer, got '" + o.model + "'");
  }
  for (const SizeFlag& f : kSizeFlags) {
    const auto& v = o.*f.field;
    if (!v) continue;
    const std::string models = std::string(" ") + f.models + " ";
    if (models.find(" " + o.model + " ") == std::string::npos) {
      throw Error(std::string(f.name) + " does not apply to --model " + o.model +
                  " (it applies to: " + f.models + ")");
    }
    if (*v < 1) throw Error(std::string(f.name) + " must be at least 1, got " + str(*v));
  }
  const bool peak = o.peak_gflops != 0, bw = o.bandwidth_gbs != 0;
  if (peak != bw) {
    throw Error("--peak-gflops and --bandwidth-gbs go together: give both or neither");
  }
  if (peak && o.section != "1.2") {
    throw Error("--peak-gflops and --bandwidth-gbs replace the measurement in --section 1.2 only, "
                "got --section " + o.section);
  }
  if (peak && (!(o.peak_gflops > 0) || !(o.bandwidth_gbs > 0) || !std::isfinite(o.peak_gflops) ||
               !std::isfinite(o.bandwidth_gbs))) {
    throw Error("--peak-gflops and --bandwidth-gbs must be positive, got " +
                std::to_string(o.peak_gflops) + " and " + std::to_string(o.bandwidth_gbs));
  }
  (void)build_model(o);  // sizes that do not fit together fail here, before any measurement
}

std::vector<OpCost> build_model(const Options& o) {
  if (o.model == "mlp") {
    MlpShape s;
    s.batch = o.batch.value_or(s.batch);
    s.input = o.input.value_or(s.input);
    s.hidden = o.hidden.value_or(s.hidden);
    s.layers = o.layers.value_or(s.layers);
    s.classes = o.classes.value_or(s.classes);
    return mlp_ops(s);
  }
  if (o.model == "cnn") {
    CnnShape s;
    s.batch = o.batch.value_or(s.batch);
    s.in_channels = o.in_channels.value_or(s.in_channels);
    s.image = o.image.value_or(s.image);
    s.channels = o.channels.value_or(s.channels);
    s.layers = o.layers.value_or(s.layers);
    s.classes = o.classes.value_or(s.classes);
    return cnn_ops(s);
  }
  TransformerShape s;
  s.batch = o.batch.value_or(s.batch);
  s.seq = o.seq.value_or(s.seq);
  s.hidden = o.hidden.value_or(s.hidden);
  s.heads = o.heads.value_or(s.heads);
  s.layers = o.layers.value_or(s.layers);
  return transformer_ops(s);
}

std::string model_title(const Options& o) {
  if (o.model == "mlp") {
    MlpShape d;
    return "MLP (B=" + str(o.batch.value_or(d.batch)) + ", input " +
           str(o.input.value_or(d.input)) + ", " + str(o.layers.value_or(d.layers)) +
           " hidden layers of " + str(o.hidden.value_or(d.hidden)) + ", " +
           str(o.classes.value_or(d.classes)) + " classes)";
  }
  if (o.model == "cnn") {
    CnnShape d;
    const auto img = str(o.image.value_or(d.image));
    return "CNN (B=" + str(o.batch.value_or(d.batch)) + ", " +
           str(o.in_channels.value_or(d.in_channels)) + "x" + img + "x" + img + " input, " +
           str(o.layers.value_or(d.layers)) + " conv blocks from " +
           str(o.channels.value_or(d.channels)) + " channels, " +
           str(o.classes.value_or(d.classes)) + " classes)";
  }
  TransformerShape d;
  return "Transformer block (B=" + str(o.batch.value_or(d.batch)) + ", T=" +
         str(o.seq.value_or(d.seq)) + ", C=" + str(o.hidden.value_or(d.hidden)) + ", H=" +
         str(o.heads.value_or(d.heads)) + ") x " + str(o.layers.value_or(d.layers)) + " layers";
}

}  // namespace gnm::ch01
