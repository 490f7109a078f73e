// The chapter's training loop (10.1) and what every section shares: data, model, accuracy.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <span>

#include "gnm/autograd/node.hpp"
#include "gnm/core/check.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"
#include "gnm/core/progress.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/data/idx.hpp"
#include "gnm/data/loader.hpp"
#include "gnm/io/checkpoint.hpp"
#include "gnm/optim/amp.hpp"
#include "gnm/optim/grad_scaler.hpp"
#include "gnm/optim/optimizer.hpp"
#include "gnm/optim/scheduler.hpp"
#include "gnm/tensor/autocast.hpp"
#include "gnm/tensor/ops.hpp"
#include "optimizers.hpp"
#include "sections.hpp"

namespace chapter10 {

Data load_data(const std::filesystem::path& dir, std::int64_t train_limit,
               std::int64_t test_limit) {
  auto to_tensors = [](const gnm::data::MnistSplit& s, std::int64_t limit, gnm::Tensor& x,
                       gnm::Tensor& y) {
    const std::int64_t n = limit > 0 ? std::min(limit, s.n) : s.n;
    const std::int64_t d = s.rows * s.cols;
    x = gnm::from_vector(std::span<const float>(s.images).first(static_cast<std::size_t>(n * d)),
                         {n, d});
    y = gnm::from_vector(std::span<const std::int64_t>(s.labels).first(static_cast<std::size_t>(n)),
                         {n});
  };
  Data data;
  try {
    to_tensors(gnm::data::load_mnist_split(dir, "train"), train_limit, data.train_x,
               data.train_y);
    to_tensors(gnm::data::load_mnist_split(dir, "t10k"), test_limit, data.test_x, data.test_y);
  } catch (const gnm::IoError& e) {
    throw gnm::IoError(std::string(e.what()) +
                       "\n  Fashion-MNIST comes from Debian's dataset-fashion-mnist "
                       "(scripts/setup.sh installs it); --data-dir or GNM_FASHION_MNIST_DIR "
                       "point elsewhere");
  }
  data.source = dir.string();
  return data;
}

std::shared_ptr<gnm::nn::Sequential> make_model(std::uint64_t seed) {
  gnm::manual_seed(seed);
  return gnm::nn::make_mlp({784, 256, 128, 10}, gnm::nn::Activation::relu);
}

double accuracy(gnm::nn::Module& model, const gnm::Tensor& x, const gnm::Tensor& y,
                std::int64_t batch) {
  const bool was_training = model.is_training();
  model.eval();
  gnm::autograd::NoGradGuard no_grad;
  const std::int64_t n = x.size(0);
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < n; i += batch) {
    const std::int64_t b = std::min(batch, n - i);
    const gnm::Tensor logits = model(x.narrow(0, i, b));
    const gnm::Tensor hit = gnm::eq(gnm::argmax(logits, 1), y.narrow(0, i, b).to(logits.device()));
    correct += static_cast<std::int64_t>(gnm::sum(hit.to(gnm::DType::f32)).item());
  }
  model.train(was_training);
  return n == 0 ? std::numeric_limits<double>::quiet_NaN()
                : 100.0 * static_cast<double>(correct) / static_cast<double>(n);
}

namespace {

// A per-step schedule for the run, or none (a constant rate).
std::unique_ptr<gnm::optim::LrScheduler> make_schedule(const TrainConfig& cfg,
                                                       std::int64_t total_steps) {
  if (cfg.schedule == "none") return nullptr;
  if (cfg.schedule == "cosine") {
    // 5 % warmup (at least one step), then a half cosine to 1 % of the peak.
    const std::int64_t warmup = std::max<std::int64_t>(1, total_steps / 20);
    return std::make_unique<gnm::optim::CosineWithWarmup>(cfg.lr, warmup,
                                                          std::max(total_steps, warmup + 1),
                                                          cfg.lr * 0.01);
  }
  if (cfg.schedule == "step") {
    // ×0.3 at each third of the run.
    return std::make_unique<gnm::optim::StepLR>(
        cfg.lr, std::max<std::int64_t>(1, total_steps / 3), 0.3);
  }
  if (cfg.schedule == "onecycle") {
    return std::make_unique<gnm::optim::OneCycleLR>(cfg.lr, std::max<std::int64_t>(total_steps, 2));
  }
  throw gnm::Error("--schedule must be one of none, cosine, step, onecycle; got '" +
                   cfg.schedule + "'");
}

}  // namespace

namespace {

//! [train_step]
// One optimizer step on one batch: forward (under autocast when asked: linear runs in bf16/fp16
// while the master weights stay f32), the loss in f32, backward, then the update. With fp16 the
// loss is scaled before backward and the step is skipped when a gradient overflowed.
struct StepOut {
  gnm::Tensor loss;    // 0-d f32
  gnm::Tensor logits;  // (B, 10)
};

StepOut train_step(gnm::nn::Module& model, gnm::optim::Optimizer& optimizer,
                   gnm::optim::GradScaler& scaler, const gnm::data::Batch& b,
                   const TrainConfig& cfg) {
  gnm::Tensor logits;
  {
    std::optional<gnm::AutocastGuard> autocast;
    if (cfg.autocast) autocast.emplace(*cfg.autocast);
    logits = model(b.x);
  }
  gnm::Tensor loss = gnm::cross_entropy(logits, b.y);
  optimizer.zero_grad();
  if (scaler.enabled()) {
    gnm::optim::scale_loss(loss, scaler).backward();  // gradients carry the factor S
    gnm::optim::amp_step(scaler, optimizer);  // unscale; skip on inf/NaN; update the scale
  } else {
    loss.backward();
    if (cfg.clip_norm > 0) gnm::optim::clip_grad_norm_(model.parameters(), cfg.clip_norm);
    optimizer.step();
  }
  if (cfg.after_step) cfg.after_step(model);
  return {loss, logits};
}
//! [train_step]

}  // namespace

TrainResult train(gnm::nn::Module& model, const Data& data, const TrainConfig& cfg) {
  model.to(cfg.device);
  gnm::data::DataLoader loader(data.train_x, data.train_y,
                               {.batch_size = cfg.batch, .shuffle = true, .seed = cfg.seed,
                                .drop_last = true, .prefetch = 2, .device = cfg.device});
  auto optimizer = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay);
  const std::int64_t total_steps = cfg.epochs * loader.num_batches();
  auto schedule = make_schedule(cfg, total_steps);
  // Loss scaling only for fp16: bf16 has fp32's exponent range, so its gradients do not
  // underflow (PyTorch's recipe too); a disabled scaler scales by 1 and never skips.
  gnm::optim::GradScaler scaler(65536.0, 2.0, 0.5, 2000,
                                cfg.autocast.has_value() && *cfg.autocast == gnm::DType::f16);
  std::int64_t resume_epoch = 0;
  if (!cfg.resume_from.empty()) {
    // Model and optimizer state, the generator, the schedule: everything the next step reads.
    const gnm::io::CheckpointExtras extras =
        gnm::io::load_checkpoint(cfg.resume_from, model, optimizer.get());
    gnm::set_generator_state(extras.rng);
    if (schedule && !extras.scheduler.empty()) schedule->load_state(extras.scheduler);
    resume_epoch = extras.epoch;
    GNM_CHECK(resume_epoch <= cfg.epochs, "the checkpoint is past the requested epochs",
              cfg.resume_from.string(), resume_epoch, cfg.epochs);
  }

  TrainResult result;
  result.first_epoch = resume_epoch;
  double train_seconds = 0.0;
  std::int64_t samples = 0;
  model.train();
  for (std::int64_t epoch = resume_epoch; epoch < cfg.epochs; ++epoch) {
    gnm::ProgressBar bar(cfg.label + " epoch " + std::to_string(epoch + 1) + "/" +
                             std::to_string(cfg.epochs),
                         loader.num_batches(), stderr, cfg.progress ? std::nullopt
                                                                    : std::optional<bool>(false));
    double loss_sum = 0.0;
    std::int64_t correct = 0, seen = 0, steps = 0;
    gnm::HostTimer timer;
    for (const gnm::data::Batch& b : loader.epoch(epoch)) {
      if (schedule) optimizer->set_lr(schedule->lr());
      const auto [loss, logits] = train_step(model, *optimizer, scaler, b, cfg);
      if (schedule) schedule->step();
      const double l = loss.item();
      result.step_loss.push_back(l);
      loss_sum += l;
      {
        gnm::autograd::NoGradGuard no_grad;
        const gnm::Tensor hit = gnm::eq(gnm::argmax(logits.detach(), 1), b.y);
        correct += static_cast<std::int64_t>(gnm::sum(hit.to(gnm::DType::f32)).item());
      }
      seen += b.x.size(0);
      ++steps;
      ++result.steps;
      if (bar.enabled()) {
        char m[96];
        const double sec = timer.elapsed_ms() / 1e3;
        std::snprintf(m, sizeof m, "loss %.4f  acc %.1f%%  %.0fk samples/s", loss_sum / steps,
                      100.0 * static_cast<double>(correct) / static_cast<double>(seen),
                      sec > 0 ? static_cast<double>(seen) / sec / 1e3 : 0.0);
        bar.update(steps, m);
      }
      if (cfg.max_steps > 0 && result.steps >= cfg.max_steps) break;
    }
    const double sec = timer.elapsed_ms() / 1e3;
    bar.finish();
    train_seconds += sec;
    samples += seen;
    EpochStats st;
    st.epoch = epoch + 1;
    st.train_loss = steps ? loss_sum / static_cast<double>(steps) : 0.0;
    st.train_acc = seen ? 100.0 * static_cast<double>(correct) / static_cast<double>(seen) : 0.0;
    st.seconds = sec;
    st.samples_per_s = sec > 0 ? static_cast<double>(seen) / sec : 0.0;
    st.lr = optimizer->lr();
    const bool last =
        epoch + 1 == cfg.epochs || (cfg.max_steps > 0 && result.steps >= cfg.max_steps);
    st.test_acc = cfg.evaluate_each_epoch || (last && cfg.evaluate_last)
                      ? accuracy(model, data.test_x.to(cfg.device), data.test_y)
                      : std::numeric_limits<double>::quiet_NaN();
    result.epochs.push_back(st);
    // A checkpoint marks a completed epoch (a run stopped by max_steps mid-epoch saves none).
    if (!cfg.checkpoint_path.empty() && steps == loader.num_batches()) {
      gnm::io::CheckpointExtras extras;
      extras.step = optimizer->step_count();
      extras.epoch = epoch + 1;
      extras.rng = gnm::generator_state();
      if (schedule) extras.scheduler = schedule->state();
      extras.metadata["optimizer"] = cfg.optimizer;
      extras.metadata["schedule"] = cfg.schedule;
      gnm::io::save_checkpoint(cfg.checkpoint_path, model, optimizer.get(), extras);
    }
    if (cfg.max_steps > 0 && result.steps >= cfg.max_steps) break;
  }
  result.skipped_steps = scaler.skipped_steps();
  result.final_scale = scaler.scale();
  result.samples_per_s = train_seconds > 0 ? static_cast<double>(samples) / train_seconds : 0.0;
  result.test_acc = result.epochs.empty() ? std::numeric_limits<double>::quiet_NaN()
                                          : result.epochs.back().test_acc;
  return result;
}

std::vector<double> window_means(const std::vector<double>& v, std::size_t w) {
  std::vector<double> out;
  for (std::size_t i = 0; i < v.size(); i += w) {
    const std::size_t end = std::min(v.size(), i + w);
    double s = 0;
    for (std::size_t j = i; j < end; ++j) s += v[j];
    out.push_back(s / static_cast<double>(end - i));
  }
  return out;
}

std::filesystem::path write_run_file(const std::filesystem::path& run_dir,
                                     const std::string& name, const std::string& text) {
  std::filesystem::create_directories(run_dir);
  const auto path = run_dir / name;
  gnm::write_file_atomic(path, text);
  return path;
}

}  // namespace chapter10
