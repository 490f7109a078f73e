// The chapter program's options, their checks, and the model they describe (section 1.2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "op_cost.hpp"

namespace CLI {
class App;
}

namespace gnm::ch01 {

/// Command-line options of ch01_gpu_native_ml.
struct Options {
  std::string section = "all";  // 1.1, 1.2, 1.3 or all
  int threads = 0;              // 0 until add_options() sets the hardware's thread count
  int reps = 10;
  std::int64_t stream_mib = 256;  // per triad array: far beyond any L3 share (see 1.1)
  bool quick = false;           // smaller runs, for the smoke test
  std::string json;
  std::string svg;              // empty: <out_dir>/roofline.svg
  std::string out_dir = ".";
  std::string bench_json;
  double peak_gflops = 0;       // given roofline (both or neither), instead of measuring
  double bandwidth_gbs = 0;
  std::string model = "transformer";
  // Model sizes; unset ones take the model's defaults (MlpShape, CnnShape, TransformerShape).
  std::optional<std::int64_t> batch, input, hidden, layers, classes, in_channels, image, channels,
      seq, heads;
};

/// Declares every option on `app`, bound to `opt`.
void add_options(CLI::App& app, Options& opt);

/// Throws gnm::Error naming the option and value for anything out of range or inconsistent,
/// such as a size flag that the chosen model does not have.
void validate(const Options& opt);

/// The ops of the model chosen with --model and the size flags.
std::vector<OpCost> build_model(const Options& opt);

/// "Transformer block (B=8, T=1024, C=768, H=12) x 12 layers" and so on.
std::string model_title(const Options& opt);

}  // namespace gnm::ch01
