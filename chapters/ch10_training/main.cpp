// Chapter 10 — Training loops and optimization.
//
//   10.1 the loop forward → loss → backward → optimizer step: the MLP 784-256-128-10 on
//        Fashion-MNIST with a progress bar (on a terminal), a training-curve SVG, a checkpoint
//        and a PyTorch-loadable model export in the run directory; resume bit for bit
//   10.2 SGD, momentum, Nesterov, Adam, AdamW, RMSProp from one initialisation; exercise 10.1
//   10.3 clip_grad_norm_/clip_grad_value_, StepLR, cosine with warmup, OneCycle,
//        ReduceLROnPlateau; exercise 10.3
//   10.4 bf16/fp16 autocast with fp32 master weights and dynamic loss scaling (exercise 10.2),
//        int8 post-training quantization, magnitude pruning
//   10.5 gradient checkpointing: peak memory and identical gradients
//
//   ch10_training [--section all|10.1|…|10.5] [--quick] [--json FILE] [--epochs N] [--batch B]
//                 [--lr LR] [--seed S] [--run-dir DIR] [--resume CHECKPOINT] [--data-dir DIR]
//                 [--device cpu|cuda] [--no-progress]
//   ch10_training --bench [--batch B] [--steps N] [--device cpu|cuda]
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/program_report.hpp"
#include "gnm/core/thread_pool.hpp"
#include "gnm/data/idx.hpp"
#include "sections.hpp"

namespace {

struct Options {
  std::string section = "all";
  bool quick = false;
  std::string json;
  std::int64_t epochs = 0;  // 0: the default (10, or 2 with --quick)
  std::int64_t batch = 128;
  double lr = 1e-3;
  std::uint64_t seed = 42;
  std::string run_dir = "runs/ch10";
  std::string resume;
  std::string data_dir;
  std::string device = "cpu";
  bool no_progress = false;
  bool bench = false;
  std::int64_t steps = 400;
};

gnm::Device parse_device(const std::string& s) {
  if (s == "cpu") return gnm::Device::cpu();
  if (s == "cuda") return gnm::Device::cuda(0);
  throw gnm::Error("--device must be cpu or cuda; got '" + s + "'");
}

int run(const Options& opt) {
  gnm::require_choice("--section", opt.section, {"all", "10.1", "10.2", "10.3", "10.4", "10.5"});
  GNM_CHECK(opt.epochs >= 0, "--epochs must be >= 1", opt.epochs);
  GNM_CHECK(opt.batch >= 1, "--batch must be >= 1", opt.batch);
  GNM_CHECK(opt.lr > 0, "--lr must be > 0", opt.lr);
  chapter10::Config cfg;
  cfg.quick = opt.quick;
  cfg.epochs = opt.epochs > 0 ? opt.epochs : (opt.quick ? 2 : 10);
  cfg.batch = opt.batch;
  cfg.lr = opt.lr;
  cfg.seed = opt.seed;
  cfg.run_dir = opt.run_dir;
  cfg.resume_from = opt.resume;
  cfg.device = parse_device(opt.device);
  cfg.progress = !opt.no_progress;
  const std::filesystem::path data_dir =
      opt.data_dir.empty() ? gnm::data::default_fashion_mnist_dir()
                           : std::filesystem::path(opt.data_dir);
  // --quick trains on a subset: 6000 training and 2000 test images.
  const chapter10::Data data = chapter10::load_data(data_dir, opt.quick ? 6000 : 0,
                                                    opt.quick ? 2000 : 0);
  if (opt.bench) return chapter10::run_bench(data, opt.batch, opt.steps, cfg.device);

  const int threads = gnm::default_thread_pool().size();
  std::printf("Chapter 10: training loops and optimizers on %s, %d threads (GNM_NUM_THREADS "
              "sets them)\n\n",
              cfg.device.str().c_str(), threads);
  gnm::ProgramReport report("ch10_training");
  report.backend(cfg.device.str() + " (" + std::to_string(threads) + " threads)")
      .parameter("section", opt.section)
      .parameter("quick", opt.quick)
      .parameter("epochs", cfg.epochs)
      .parameter("batch", cfg.batch)
      .parameter("lr", cfg.lr)
      .parameter("seed", static_cast<long long>(cfg.seed))
      .parameter("train_samples", data.train_x.size(0))
      .parameter("test_samples", data.test_x.size(0));
  auto want = [&](const char* s) { return opt.section == "all" || opt.section == s; };
  auto add = [&](const std::string& title, const chapter10::Section& s) {
    report.add_section_members(title, s.verified, s.json);
    for (const auto& [name, value] : s.figures) report.figure(name, value);
  };
  if (want("10.1")) add("10.1 training loop", chapter10::run_training(cfg, data));
  if (want("10.2")) add("10.2 optimizers", chapter10::run_optimizers(cfg, data));
  if (want("10.3")) add("10.3 clipping and schedules", chapter10::run_schedules(cfg, data));
  if (want("10.4")) add("10.4 precision, quantization, sparsity",
                        chapter10::run_precision(cfg, data));
  if (want("10.5")) add("10.5 gradient checkpointing", chapter10::run_checkpointing(cfg));
  return report.finish(opt.json);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 10: training loops and optimization"};
  Options opt;
  app.add_option("--section", opt.section, "all, 10.1, 10.2, 10.3, 10.4 or 10.5")
      ->capture_default_str();
  app.add_flag("--quick", opt.quick, "a 6000-image subset and 2 epochs (under a minute)");
  app.add_option("--json", opt.json, "also write every table to this JSON file");
  app.add_option("--epochs", opt.epochs, "epochs of the 10.1 run (default 10, 2 with --quick)");
  app.add_option("--batch", opt.batch, "mini-batch size")->capture_default_str();
  app.add_option("--lr", opt.lr, "Adam's peak learning rate in 10.1")->capture_default_str();
  app.add_option("--seed", opt.seed, "initialisation and data-order seed")->capture_default_str();
  app.add_option("--run-dir", opt.run_dir, "where the curve, checkpoint and model go")
      ->capture_default_str();
  app.add_option("--resume", opt.resume, "10.1: continue from this checkpoint");
  app.add_option("--data-dir", opt.data_dir,
                 "Fashion-MNIST IDX files (default $GNM_FASHION_MNIST_DIR or "
                 "/usr/share/datasets/fashion-mnist)");
  app.add_option("--device", opt.device, "cpu or cuda")->capture_default_str();
  app.add_flag("--no-progress", opt.no_progress, "no progress bar even on a terminal");
  app.add_flag("--bench", opt.bench,
               "only time --steps training steps and print one JSON line (bench_vs_torch.sh)");
  app.add_option("--steps", opt.steps, "--bench: timed steps")->capture_default_str();
  return gnm::run_cli<CLI::ParseError>(app, argc, argv, [&] { return run(opt); });
}
