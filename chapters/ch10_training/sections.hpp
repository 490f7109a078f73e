// Chapter 10's shared pieces: the data, the training loop every section uses, and the sections.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gnm/core/dtype.hpp"
#include "gnm/core/report_table.hpp"
#include "gnm/nn/layers.hpp"
#include "gnm/tensor/tensor.hpp"

namespace chapter10 {

using Table = gnm::ReportTable;
using Section = gnm::SectionResult;

/// Fashion-MNIST in memory: images (N, 784) f32 in [0, 1], labels (N) i64.
struct Data {
  gnm::Tensor train_x, train_y, test_x, test_y;
  std::string source;  ///< Where it was read from.
};

/// Reads the gzipped IDX files from `dir`, keeping the first `train_limit` / `test_limit`
/// examples when they are > 0 (--quick). gnm::IoError (naming the file) when they are missing
/// or corrupt; the message says how to install them.
Data load_data(const std::filesystem::path& dir, std::int64_t train_limit,
               std::int64_t test_limit);

/// The chapter's model: 784-256-128-10 with ReLU, PyTorch's initialisation from `seed`.
std::shared_ptr<gnm::nn::Sequential> make_model(std::uint64_t seed);

/// One training run's settings.
struct TrainConfig {
  std::int64_t epochs = 10;
  std::int64_t batch = 128;
  std::string optimizer = "adam";  ///< sgd, momentum, nesterov, adam, adamw, rmsprop
  double lr = 1e-3;
  double weight_decay = 0.0;
  std::string schedule = "cosine";  ///< none, cosine (with warmup), step, onecycle
  double clip_norm = 0.0;           ///< clip_grad_norm_ to this when > 0
  std::uint64_t seed = 42;          ///< Data order (the model's init is the caller's).
  std::optional<gnm::DType> autocast{};  ///< bf16 / f16 compute with f32 master weights
  std::int64_t max_steps = 0;       ///< Stop after this many steps when > 0 (benchmarks).
  bool progress = true;             ///< Draw the progress bar (on a terminal only).
  bool evaluate_each_epoch = true;  ///< Test accuracy after every epoch.
  bool evaluate_last = true;        ///< Test accuracy after the last epoch.
  gnm::Device device = gnm::Device::cpu();
  /// Called after every optimizer step (pruning masks re-zero the pruned weights here).
  std::function<void(gnm::nn::Module&)> after_step{};
  std::string label = "train";  ///< The progress bar's label.
  /// Written (atomically) after every epoch when not empty: model, optimizer, step, epoch,
  /// generator and schedule state.
  std::filesystem::path checkpoint_path{};
  /// Resume from this checkpoint when not empty: training continues at the epoch after the one
  /// it was saved at, and the losses that follow are those of an uninterrupted run, bit for bit.
  std::filesystem::path resume_from{};
};

/// One epoch's figures.
struct EpochStats {
  std::int64_t epoch = 0;
  double train_loss = 0;     ///< Mean over the epoch's steps.
  double train_acc = 0;      ///< Percent, over the samples seen (in training mode).
  double test_acc = 0;       ///< Percent; NaN when not evaluated.
  double seconds = 0;        ///< Training time only (no evaluation).
  double samples_per_s = 0;  ///< Samples / seconds.
  double lr = 0;             ///< The rate at the epoch's last step.
};

/// What a run produced.
struct TrainResult {
  std::vector<EpochStats> epochs;
  std::vector<double> step_loss;  ///< Every step's loss (the training curve).
  std::int64_t steps = 0;          ///< Optimizer steps attempted (in this run).
  std::int64_t first_epoch = 0;    ///< 0, or the epoch a resumed run started at.
  std::int64_t skipped_steps = 0;  ///< Steps skipped by the loss scaler (inf/NaN gradients).
  double final_scale = 1.0;        ///< The loss scale at the end (1 without autocast).
  double samples_per_s = 0;        ///< Over the whole run (training time only).
  double test_acc = 0;             ///< Percent, after the last epoch.
};

/// Trains `model` on data.train_* with `cfg` (see TrainConfig). The data order of epoch e
/// depends only on (cfg.seed, e), which is what makes resuming exact.
TrainResult train(gnm::nn::Module& model, const Data& data, const TrainConfig& cfg);

/// Test accuracy in percent: argmax of model(x) against y, in eval mode without autograd.
double accuracy(gnm::nn::Module& model, const gnm::Tensor& x, const gnm::Tensor& y,
                std::int64_t batch = 1000);

/// Settings shared by the sections (from the command line).
struct Config {
  bool quick = false;
  std::int64_t epochs = 10;
  std::int64_t batch = 128;
  double lr = 1e-3;
  std::uint64_t seed = 42;
  std::filesystem::path run_dir = "runs/ch10";
  std::filesystem::path resume_from;  ///< 10.1: continue from this checkpoint.
  gnm::Device device = gnm::Device::cpu();
  bool progress = true;
};

/// 10.1: the training loop on Fashion-MNIST: per-epoch table, curve SVG, checkpoint + model
/// export in the run directory, resume bit for bit.
Section run_training(const Config& cfg, const Data& data);
/// 10.2: every optimizer from the same initialisation; exercise 10.1 against the engine's Adam.
Section run_optimizers(const Config& cfg, const Data& data);
/// 10.3: gradient clipping and the schedulers; exercise 10.3 against CosineWithWarmup.
Section run_schedules(const Config& cfg, const Data& data);
/// 10.4: bf16/fp16 autocast with loss scaling (exercise 10.2), int8 PTQ, magnitude pruning.
Section run_precision(const Config& cfg, const Data& data);
/// 10.5: gradient checkpointing: peak memory and identical gradients on a deep MLP.
Section run_checkpointing(const Config& cfg);

/// `--bench`: `steps` training steps of the MLP at batch `batch` after a warm-up, printing one
/// JSON line {"framework":"gnm","samples_per_s":…} for scripts/bench_vs_torch.sh.
int run_bench(const Data& data, std::int64_t batch, std::int64_t steps, gnm::Device device);

/// The mean of each window of `w` consecutive values (the last window may be shorter): the
/// smoothed loss curves of 10.1 and 10.2.
std::vector<double> window_means(const std::vector<double>& v, std::size_t w);

/// Writes `text` to run_dir/name atomically and returns the path.
std::filesystem::path write_run_file(const std::filesystem::path& run_dir,
                                     const std::string& name, const std::string& text);

}  // namespace chapter10
