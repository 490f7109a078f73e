// 10.4 Mixed precision (bf16/fp16 compute, fp32 master weights, dynamic loss scaling with
// exercise 10.2), int8 post-training quantization and magnitude pruning.
#include <cmath>
#include <cstdio>

#include "gnm/core/philox.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/nn/prune.hpp"
#include "gnm/nn/quantize.hpp"
#include "gnm/optim/grad_scaler.hpp"
#include "gnm/tensor/ops.hpp"
#include "loss_scaling.hpp"
#include "sections.hpp"

namespace chapter10 {

namespace {

using namespace gnm::cells;

// Exercise 10.2 against gnm::optim::GradScaler over `steps` steps with overflows injected at
// random: the found-inf decisions and the scale must agree at every step.
bool loss_scaling_exercise_vs_engine(std::int64_t steps, std::int64_t& overflows,
                                     double& final_scale) {
  gnm::optim::GradScaler engine(65536.0, 2.0, 0.5, 50);
  gnm::ch10::LossScaleState st;
  const gnm::ch10::LossScaleConfig conf{.growth_interval = 50};
  std::vector<float> g_ex(257), g_en(257);
  bool same = true;
  overflows = 0;
  for (std::int64_t t = 0; t < steps; ++t) {
    gnm::fill_uniform(std::span<float>(g_ex), 500 + static_cast<std::uint64_t>(t), -1.0f, 1.0f);
    // About one step in 100 overflows: an inf or a NaN somewhere in the gradient.
    const gnm::U32x4 r =
        gnm::philox4x32_10(gnm::U32x4{{static_cast<std::uint32_t>(t), 0, 0, 0}}, gnm::U32x2{{9, 0}});
    if (r.v[0] % 100 == 0) {
      g_ex[r.v[1] % g_ex.size()] = (r.v[2] & 1) ? INFINITY : NAN;
      ++overflows;
    }
    for (float& v : g_ex) v = v * static_cast<float>(engine.scale());  // scaled gradients
    g_en = g_ex;
    const bool inf_ex = gnm::ch10::unscale_and_check(g_ex, st.scale);
    const std::span<float> one(g_en);
    const bool inf_en = engine.unscale_and_check(std::span<const std::span<float>>(&one, 1));
    gnm::ch10::update_scale(st, inf_ex, conf);
    engine.update(inf_en);
    same = same && inf_ex == inf_en && st.scale == engine.scale();
  }
  final_scale = engine.scale();
  return same;
}

}  // namespace

Section run_precision(const Config& cfg, const Data& data) {
  Section sec;
  const std::int64_t epochs = cfg.quick ? 1 : 3;
  std::printf("10.4 mixed precision, int8 quantization, pruning\n\n");

  // fp16's range: a small gradient underflows unless the loss is scaled.
  {
    Table t("10.4 fp16 underflow and loss scaling",
            {"gradient", "stored in fp16", "scaled by 65536, fp16, unscaled in fp32",
             "rel error"});
    for (const double g : {1e-3, 1e-6, 1e-8, 1e-9}) {
      const auto as_f16 = [](double v) {
        return gnm::full({1}, v).to(gnm::DType::f16).to(gnm::DType::f32).item();
      };
      const double raw = as_f16(g);
      const double scaled = as_f16(g * 65536.0) / 65536.0;
      t.add({sci(g), sci(raw), sci(scaled), sci(std::abs(scaled - g) / g)});
    }
    sec.add(t);
  }

  // Training in each compute dtype from the same initialisation.
  {
    Table t("10.4 mixed-precision training",
            {"compute", "master weights", "loss scaling", "test acc %", "skipped steps",
             "final scale", "samples/s"});
    double acc_f32 = 0;
    for (const auto& [name, dtype] :
         std::vector<std::pair<std::string, std::optional<gnm::DType>>>{
             {"f32", std::nullopt}, {"bf16", gnm::DType::bf16}, {"f16", gnm::DType::f16}}) {
      auto model = make_model(cfg.seed);
      TrainConfig tc{.epochs = epochs, .batch = cfg.batch, .lr = cfg.lr, .seed = cfg.seed,
                     .autocast = dtype, .progress = cfg.progress, .evaluate_each_epoch = false,
                     .device = cfg.device};
      tc.label = name;
      const TrainResult r = train(*model, data, tc);
      if (!dtype) acc_f32 = r.test_acc;
      const bool scaled = dtype && *dtype == gnm::DType::f16;
      t.add({str(name), str("f32"), yes_no(scaled), num(r.test_acc, 4),
             integer(r.skipped_steps), num(r.final_scale, 6), num(r.samples_per_s, 3)});
      // Low precision must train about as well: within 1.5 points of fp32 here.
      sec.verified = sec.verified && std::abs(r.test_acc - acc_f32) <= 1.5;
    }
    sec.add(t);
  }

  {
    std::int64_t overflows = 0;
    double final_scale = 0;
    const bool same = loss_scaling_exercise_vs_engine(3000, overflows, final_scale);
    Table t("10.4 exercise 10.2 loss scaling vs GradScaler",
            {"steps", "overflows injected", "final scale", "identical decisions and scales"});
    t.add({integer(3000), integer(overflows), num(final_scale, 6), flag(same)});
    sec.add(t);
    sec.verified = sec.verified && same;
  }

  // int8 and pruning start from one trained fp32 model.
  auto model = make_model(cfg.seed);
  TrainConfig tc{.epochs = cfg.quick ? 2 : 6, .batch = cfg.batch, .lr = cfg.lr, .seed = cfg.seed,
                 .progress = cfg.progress, .evaluate_each_epoch = false, .device = cfg.device};
  tc.label = "fp32 base";
  const TrainResult base = train(*model, data, tc);
  model->to(gnm::Device::cpu());
  {
    auto timed_accuracy = [&](gnm::nn::Module& m, double& ms) {
      gnm::HostTimer timer;
      const double acc = accuracy(m, data.test_x, data.test_y);
      ms = timer.elapsed_ms();
      return acc;
    };
    double ms_f32 = 0, ms_int8 = 0;
    const double acc_f32 = timed_accuracy(*model, ms_f32);
    //! [quantize]
    std::shared_ptr<gnm::nn::Sequential> q = gnm::nn::quantize_dynamic(*model);
    //! [quantize]
    const double acc_int8 = timed_accuracy(*q, ms_int8);
    Table t("10.4 int8 post-training quantization (per-channel weights, per-row activations)",
            {"model", "weight bytes", "test acc %", "drop (points)", "test-set inference ms"});
    t.add({str("f32"), integer(gnm::nn::model_weight_bytes(*model)), num(acc_f32, 4), str("-"),
           num(ms_f32, 3)});
    t.add({str("int8"), integer(gnm::nn::model_weight_bytes(*q)), num(acc_int8, 4),
           num(acc_f32 - acc_int8, 3), num(ms_int8, 3)});
    sec.add(t);
    // The bound: at most 1 point lost (2 on --quick's 2000-image test subset, where one
    // image is 0.05 points).
    const double bound = cfg.quick ? 2.0 : 1.0;
    sec.verified = sec.verified && acc_f32 - acc_int8 <= bound;
    sec.figures.push_back({"int8_accuracy_drop_points", acc_f32 - acc_int8});
  }
  {
    Table t("10.4 magnitude pruning (weights only)",
            {"sparsity %", "scope", "zeros %", "zeros % per layer", "one-shot test acc %",
             "after 1 epoch fine-tuning %"});
    t.add({num(0, 3), str("-"), num(0, 3), str("-"), num(base.test_acc, 4), str("-")});
    for (const double s : {0.5, 0.75, 0.9}) {
      for (const gnm::nn::PruneScope scope :
           {gnm::nn::PruneScope::per_layer, gnm::nn::PruneScope::global}) {
        auto pruned = make_model(cfg.seed);
        pruned->load_state_dict(model->state_dict());
        //! [prune]
        gnm::nn::PruningMasks masks = gnm::nn::magnitude_prune(*pruned, s, scope);
        //! [prune]
        const double one_shot = accuracy(*pruned, data.test_x, data.test_y);
        TrainConfig ft{.epochs = 1, .batch = cfg.batch, .lr = cfg.lr * 0.3, .schedule = "none",
                       .seed = cfg.seed + 1, .progress = cfg.progress,
                       .evaluate_each_epoch = false, .device = cfg.device};
        ft.label = "fine-tune " + std::to_string(static_cast<int>(s * 100)) + "%";
        // The masks re-zero the pruned weights after every step, so the sparsity stays.
        ft.after_step = [&masks](gnm::nn::Module& m) { masks.apply(m); };
        const TrainResult r = train(*pruned, data, ft);
        pruned->to(gnm::Device::cpu());
        const double sparsity = gnm::nn::weight_sparsity(*pruned);
        const bool global = scope == gnm::nn::PruneScope::global;
        std::string layers;
        for (const gnm::nn::LayerSparsity& l : gnm::nn::sparsity_report(*pruned)) {
          layers += (layers.empty() ? "" : " / ") + gnm::cells::num(100 * l.sparsity(), 3).text;
        }
        t.add({num(100 * s, 3), str(global ? "global" : "per layer"), num(100 * sparsity, 4),
               str(layers), num(one_shot, 4), num(r.test_acc, 4)});
        // Exactly round(s·n) zeros per layer, or in total for global: within 0.01 % overall.
        sec.verified = sec.verified && std::abs(sparsity - s) < 1e-4;
      }
    }
    sec.add(t);
  }
  return sec;
}

}  // namespace chapter10
