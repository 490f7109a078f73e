// Checkpoints (gnm/io/checkpoint.hpp): save → perturb → load restores the model, the optimizer
// state, the RNG and every extra exactly; corrupt or mismatched files are IoErrors naming the file
// and the tensor and change nothing; resuming training from a checkpoint reproduces the
// uninterrupted run's losses bit for bit; the model-only export uses PyTorch's key names.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "gnm/core/file.hpp"
#include "gnm/data/loader.hpp"
#include "gnm/io/checkpoint.hpp"
#include "gnm/io/safetensors.hpp"
#include "gnm/nn/layers.hpp"
#include "gnm/optim/optimizer.hpp"
#include "gnm/optim/scheduler.hpp"
#include "gnm/tensor/ops.hpp"
#include "scratch.hpp"

namespace {

using gnm::Tensor;
namespace fs = std::filesystem;
namespace io = gnm::io;
namespace nn = gnm::nn;
namespace optim = gnm::optim;

fs::path temp_dir() { return gnm::testing::scratch_dir("checkpoint"); }

std::vector<std::vector<float>> values(const nn::Module& m) {
  std::vector<std::vector<float>> out;
  for (const auto& [name, t] : m.state_dict()) out.push_back(t.to_vector<float>());
  return out;
}

// Three Adam steps on a small MLP, so that the optimizer has state worth saving.
void train_a_little(nn::Module& model, optim::Optimizer& opt) {
  const Tensor x = gnm::rand({5, 6}, {}, -1, 1);
  const std::vector<std::int64_t> labels{0, 2, 1, 1, 0};
  const Tensor y = gnm::from_vector(std::span<const std::int64_t>(labels), {5});
  for (int i = 0; i < 3; ++i) {
    opt.zero_grad();
    gnm::cross_entropy(model.forward(x), y).backward();
    opt.step();
  }
}

void expect_same_state(const optim::OptimizerState& a, const optim::OptimizerState& b) {
  EXPECT_EQ(a.scalars, b.scalars);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    EXPECT_EQ(a.tensors[i].first, b.tensors[i].first);
    EXPECT_EQ(a.tensors[i].second.to_vector<float>(), b.tensors[i].second.to_vector<float>());
  }
}

TEST(Checkpoint, SavePerturbLoadRestoresEverything) {
  const fs::path file = temp_dir() / "ckpt.safetensors";
  gnm::manual_seed(1);
  auto model = nn::make_mlp({6, 5, 3});
  optim::Adam opt(model->parameters(), {.lr = 0.01, .amsgrad = true});
  train_a_little(*model, opt);
  optim::CosineWithWarmup sched(0.01, 3, 20, 1e-4);
  for (int i = 0; i < 4; ++i) sched.step();

  io::CheckpointExtras extras;
  extras.step = 3;
  extras.epoch = 1;
  gnm::manual_seed(0xDEADBEEFCAFEF00Dull);
  (void)gnm::rand({3});  // advance the subsequence
  extras.rng = gnm::generator_state();
  extras.scheduler = sched.state();
  // Doubles that need all 17 digits, and the specials.
  extras.scheduler["probe.third"] = 1.0 / 3.0;
  extras.scheduler["probe.tiny"] = 4.9406564584124654e-324;
  extras.scheduler["probe.inf"] = -std::numeric_limits<double>::infinity();
  extras.metadata["command"] = "ch10_training --epochs 3 --lr 0.01 (ünïcode ok)";
  io::save_checkpoint(file, *model, &opt, extras);

  const auto want_model = values(*model);
  const optim::OptimizerState want_opt = opt.state_dict();

  // Perturb: other weights, other optimizer state and rate, other RNG.
  gnm::manual_seed(2);
  auto other = nn::make_mlp({6, 5, 3});
  optim::Adam other_opt(other->parameters(), {.lr = 0.5, .amsgrad = true});
  ASSERT_NE(values(*other), want_model);
  gnm::manual_seed(77);
  const io::CheckpointExtras got = io::load_checkpoint(file, *other, &other_opt);

  EXPECT_EQ(values(*other), want_model);
  expect_same_state(other_opt.state_dict(), want_opt);
  EXPECT_EQ(other_opt.lr(), 0.01);
  EXPECT_EQ(got.step, 3);
  EXPECT_EQ(got.epoch, 1);
  EXPECT_EQ(got.rng.seed, extras.rng.seed);
  EXPECT_EQ(got.rng.subsequence, extras.rng.subsequence);
  ASSERT_EQ(got.scheduler.size(), extras.scheduler.size());
  for (const auto& [k, v] : extras.scheduler) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(got.scheduler.at(k)), std::bit_cast<std::uint64_t>(v))
        << k;
  }
  EXPECT_EQ(got.metadata, extras.metadata);
  // The restored scheduler continues exactly.
  std::map<std::string, double> sched_state = got.scheduler;
  for (const char* k : {"probe.third", "probe.tiny", "probe.inf"}) sched_state.erase(k);
  optim::CosineWithWarmup resumed(0.5, 1, 2);
  resumed.load_state(sched_state);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(resumed.lr(), sched.lr());
    resumed.step();
    sched.step();
  }
  // The model alone can be loaded from a full checkpoint.
  gnm::manual_seed(3);
  auto third = nn::make_mlp({6, 5, 3});
  (void)io::load_checkpoint(file, *third, nullptr);
  EXPECT_EQ(values(*third), want_model);
}

// Expects load_checkpoint(file, …) to throw an IoError mentioning every needle, and the model
// to be unchanged.
void expect_io_error(const fs::path& file, nn::Module& model, optim::Optimizer* opt,
                     const std::vector<std::string>& needles) {
  const auto before = values(model);
  try {
    (void)io::load_checkpoint(file, model, opt);
    ADD_FAILURE() << "expected gnm::IoError for " << file;
  } catch (const gnm::IoError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file.filename().string()), std::string::npos) << msg;
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << n << " in " << msg;
  }
  EXPECT_EQ(values(model), before);
}

TEST(Checkpoint, BadFilesAreIoErrorsAndChangeNothing) {
  const fs::path dir = temp_dir();
  gnm::manual_seed(4);
  auto model = nn::make_mlp({6, 5, 3});
  optim::Adam opt(model->parameters(), {.lr = 0.01});
  train_a_little(*model, opt);
  const fs::path good = dir / "good.safetensors";
  io::save_checkpoint(good, *model, &opt, {.step = 3});
  const std::string bytes = gnm::read_file(good);

  gnm::manual_seed(5);
  auto target = nn::make_mlp({6, 5, 3});
  optim::Adam target_opt(target->parameters(), {.lr = 0.01});

  // Truncated at several points: header length, header, data.
  for (std::size_t cut : {std::size_t{4}, std::size_t{40}, bytes.size() / 2, bytes.size() - 1}) {
    const fs::path f = dir / ("cut" + std::to_string(cut) + ".safetensors");
    gnm::write_file_atomic(f, bytes.substr(0, cut));
    expect_io_error(f, *target, &target_opt, {});
  }
  // Another architecture: the first tensor whose shape differs is named.
  gnm::manual_seed(6);
  auto wider = nn::make_mlp({6, 7, 3});
  expect_io_error(good, *wider, nullptr, {"model.0.weight", "[5, 6]", "[7, 6]"});
  auto deeper = nn::make_mlp({6, 5, 3, 3});  // 0 and 2 fit, 4 is not in the file
  expect_io_error(good, *deeper, nullptr, {"model.4.weight", "missing"});
  auto shallower = nn::make_mlp({6, 3});
  expect_io_error(good, *shallower, nullptr, {"model.0.weight"});
  // Another dtype.
  auto f64_model = nn::make_mlp({6, 5, 3});
  f64_model->to(gnm::DType::f64);
  expect_io_error(good, *f64_model, nullptr, {"model.0.weight", "float32", "float64"});
  // Another optimizer, or none saved.
  optim::SGD sgd(target->parameters(), {.lr = 0.1});
  expect_io_error(good, *target, &sgd, {"Adam", "SGD"});
  optim::Adam amsgrad(target->parameters(), {.lr = 0.01, .amsgrad = true});
  (void)io::load_checkpoint(good, *target, &amsgrad);  // options come from the file: fine
  EXPECT_FALSE(amsgrad.options().amsgrad);
  const fs::path model_only = dir / "model_only.safetensors";
  io::save_checkpoint(model_only, *model, nullptr);
  gnm::manual_seed(5);
  target = nn::make_mlp({6, 5, 3});
  optim::Adam fresh(target->parameters(), {.lr = 0.01});
  expect_io_error(model_only, *target, &fresh, {"optim.type"});
  // Not a checkpoint at all, and tampered metadata.
  const fs::path plain = dir / "plain.safetensors";
  io::save_model_safetensors(plain, *model);
  expect_io_error(plain, *target, nullptr, {"not a gnm checkpoint"});
  io::SafetensorsFile parsed = io::read_safetensors(good);
  parsed.metadata["step"] = "3x";
  const fs::path tampered = dir / "tampered.safetensors";
  io::write_safetensors(tampered, parsed.tensors, parsed.metadata);
  expect_io_error(tampered, *target, &fresh, {"step", "3x"});
  parsed = io::read_safetensors(good);
  parsed.metadata["rng.seed"] = "-1";
  io::write_safetensors(tampered, parsed.tensors, parsed.metadata);
  expect_io_error(tampered, *target, &fresh, {"rng.seed"});
  parsed = io::read_safetensors(good);
  parsed.tensors.push_back(
      io::make_record_bytes("stray", gnm::DType::u8, {1}, std::vector<std::byte>{std::byte{1}}));
  io::write_safetensors(tampered, parsed.tensors, parsed.metadata);
  expect_io_error(tampered, *target, &fresh, {"stray"});
  expect_io_error(dir / "does_not_exist.safetensors", *target, &fresh, {});
  EXPECT_EQ(fresh.step_count(), 0);
  EXPECT_THROW(io::save_checkpoint(dir / "x.safetensors", *model, nullptr, {.step = -1}),
               gnm::Error);
}

// One training run over 3 epochs with dropout (RNG), shuffling and a scheduler; when `resume_from`
// is set, starts from that checkpoint instead (after constructing everything with other seeds).
std::vector<float> run_training(const fs::path& save_at_epoch1, const fs::path* resume_from) {
  gnm::manual_seed(resume_from ? 999 : 100);
  auto model = nn::make_mlp({8, 16, 3}, nn::Activation::tanh, 0.2);
  optim::AdamW opt(model->parameters(), [resume_from] {
    optim::AdamOptions o = optim::adamw_defaults();
    o.lr = resume_from ? 0.3 : 0.01;
    return o;
  }());
  optim::CosineWithWarmup sched(0.05, 3, 30, 1e-3);
  // The data set is fixed (a Philox draw with its own seed), as if read from disk.
  const gnm::GeneratorState keep = gnm::generator_state();
  gnm::manual_seed(12345);
  const Tensor x = gnm::rand({50, 8}, {}, -1, 1);
  gnm::set_generator_state(keep);
  const std::vector<float> xv = x.to_vector<float>();
  std::vector<std::int64_t> labels(50);
  for (std::size_t i = 0; i < 50; ++i)
    labels[i] = (xv[i * 8] + xv[i * 8 + 1] > 0) + (xv[i * 8 + 2] > 0.5f);
  const Tensor y = gnm::from_vector(std::span<const std::int64_t>(labels), {50});
  gnm::data::DataLoader loader(x, y, {.batch_size = 8, .shuffle = true, .seed = 5});

  std::int64_t first_epoch = 0, step = 0;
  if (resume_from != nullptr) {
    const io::CheckpointExtras e = io::load_checkpoint(*resume_from, *model, &opt);
    gnm::set_generator_state(e.rng);
    sched.load_state(e.scheduler);
    first_epoch = e.epoch;
    step = e.step;
  }
  std::vector<float> losses;
  for (std::int64_t epoch = first_epoch; epoch < 3; ++epoch) {
    if (epoch == 1 && resume_from == nullptr) {
      io::save_checkpoint(save_at_epoch1, *model, &opt,
                          {.step = step, .epoch = epoch, .rng = gnm::generator_state(),
                           .scheduler = sched.state()});
    }
    for (const gnm::data::Batch& b : loader.epoch(epoch)) {
      opt.set_lr(sched.lr());
      opt.zero_grad();
      const Tensor loss = gnm::cross_entropy(model->forward(b.x), b.y);
      losses.push_back(static_cast<float>(loss.item()));
      loss.backward();
      optim::clip_grad_norm_(model->parameters(), 1.0);
      opt.step();
      sched.step();
      ++step;
    }
  }
  return losses;
}

TEST(Checkpoint, ResumingReproducesTheLossCurveBitForBit) {
  const fs::path file = temp_dir() / "resume.safetensors";
  const std::vector<float> full = run_training(file, nullptr);
  ASSERT_EQ(full.size(), 21u);  // 3 epochs of ⌈50/8⌉ = 7 batches
  const std::vector<float> resumed = run_training(file, &file);
  ASSERT_EQ(resumed.size(), 14u);
  for (std::size_t i = 0; i < resumed.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(resumed[i]), std::bit_cast<std::uint32_t>(full[7 + i]))
        << "step " << 7 + i << ": " << resumed[i] << " vs " << full[7 + i];
  }
  // It did train: the last epoch's mean loss is below the first's.
  float first = 0, last = 0;
  for (std::size_t i = 0; i < 7; ++i) {
    first += full[i];
    last += full[14 + i];
  }
  EXPECT_LT(last, first);
}

TEST(Checkpoint, ModelExportUsesPyTorchKeys) {
  const fs::path file = temp_dir() / "model.safetensors";
  gnm::manual_seed(8);
  auto model = nn::make_mlp({784, 256, 128, 10});
  io::save_model_safetensors(file, *model);
  const io::SafetensorsFile f = io::read_safetensors(file);
  EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  std::vector<std::string> names;
  for (const auto& r : f.tensors) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.bias", "0.weight", "2.bias", "2.weight", "4.bias",
                                             "4.weight"}));  // sorted by the reader
  EXPECT_EQ(f.at("2.weight").shape, (std::vector<std::int64_t>{128, 256}));
  EXPECT_EQ(f.at("4.bias").values<float>(),
            model->at(4)->named_parameters()[1].second.to_vector<float>());
  // For a manual check in PyTorch (see the report): GNM_MLP_EXPORT=path writes it there too.
  if (const char* out = std::getenv("GNM_MLP_EXPORT")) io::save_model_safetensors(out, *model);

  gnm::manual_seed(9);
  auto back = nn::make_mlp({784, 256, 128, 10});
  io::load_model_safetensors(file, *back);
  EXPECT_EQ(values(*back), values(*model));
  auto small = nn::make_mlp({784, 10});  // "0.weight" has another shape: never loadable
  EXPECT_THROW(io::load_model_safetensors(file, *small), gnm::IoError);
  EXPECT_THROW(io::load_model_safetensors(file, *small, /*strict=*/false), gnm::IoError);
  nn::Sequential first{std::make_shared<nn::Linear>(784, 256)};  // a prefix of the model
  EXPECT_THROW(io::load_model_safetensors(file, first), gnm::IoError);  // unexpected 2.*, 4.*
  io::load_model_safetensors(file, first, /*strict=*/false);
  EXPECT_EQ(first.at(0)->named_parameters()[0].second.to_vector<float>(),
            model->at(0)->named_parameters()[0].second.to_vector<float>());
}

}  // namespace
