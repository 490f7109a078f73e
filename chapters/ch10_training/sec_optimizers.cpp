// 10.2 SGD / Adam / AdamW / RMSProp: the same model and data order under each optimizer, and
// exercise 10.1 (an Adam step) against the engine's Adam.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "adam_step.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/svg_plot.hpp"
#include "gnm/optim/update.hpp"
#include "optimizers.hpp"
#include "sections.hpp"

namespace chapter10 {

namespace {

using namespace gnm::cells;

// Exercise 10.1 and gnm::optim::adam_update run side by side for `steps` steps on the same
// random parameter and gradients; returns the largest relative difference of the parameters.
double adam_exercise_vs_engine(bool decoupled, std::int64_t steps) {
  const std::size_t n = 1021;  // prime: no vector-width multiple
  std::vector<float> p0(n), g(n);
  gnm::fill_uniform(std::span<float>(p0), 3, -1.0f, 1.0f);
  std::vector<float> p_ex = p0, m_ex(n, 0.0f), v_ex(n, 0.0f);
  std::vector<float> p_en = p0, m_en(n, 0.0f), v_en(n, 0.0f);
  gnm::ch10::AdamHyper h{.lr = 1e-2, .weight_decay = 0.05, .decoupled = decoupled};
  gnm::optim::AdamOptions o{.lr = 1e-2, .weight_decay = 0.05, .decoupled_weight_decay = decoupled};
  double worst = 0.0;
  for (std::int64_t t = 1; t <= steps; ++t) {
    gnm::fill_uniform(std::span<float>(g), 100 + static_cast<std::uint64_t>(t), -0.5f, 0.5f);
    gnm::ch10::adam_step(p_ex, g, m_ex, v_ex, t, h);
    gnm::optim::adam_update(p_en, g, m_en, v_en, {}, o, t);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double d = std::abs(static_cast<double>(p_ex[i]) - static_cast<double>(p_en[i]));
    worst = std::max(worst, d / std::max(1e-30, std::abs(static_cast<double>(p_en[i]))));
  }
  return worst;
}

}  // namespace

Section run_optimizers(const Config& cfg, const Data& data) {
  Section sec;
  const std::int64_t epochs = cfg.quick ? 1 : 3;
  std::printf("10.2 optimizers: the same initialisation and data order, %lld epoch(s) each, "
              "constant learning rate\n\n",
              static_cast<long long>(epochs));
  Table t("10.2 optimizers", {"optimizer", "lr", "state floats / param", "final train loss",
                              "test acc %", "samples/s"});
  gnm::SvgPlot plot("Training loss by optimizer (mean of 50 steps)", {.label = "step"},
                    {.label = "training loss", .min = 0.0});
  bool all_learned = true;
  for (const std::string& name : optimizer_names()) {
    auto model = make_model(cfg.seed);
    TrainConfig tc{.epochs = epochs, .batch = cfg.batch, .optimizer = name,
                   .lr = default_lr(name), .schedule = "none", .seed = cfg.seed,
                   .progress = cfg.progress, .evaluate_each_epoch = false, .device = cfg.device};
    tc.label = name;
    const TrainResult r = train(*model, data, tc);
    // Optimizer state per parameter element: SGD none, momentum 1, Adam 2 (m, v), RMSProp 1.
    const int state = name == "sgd" ? 0 : (name == "adam" || name == "adamw") ? 2 : 1;
    t.add({str(name), sci(tc.lr), integer(state), num(r.epochs.back().train_loss, 4),
           num(r.test_acc, 4), num(r.samples_per_s, 3)});
    // Every optimizer must learn: far above chance (10 %) after its epochs.
    all_learned = all_learned && r.test_acc > (cfg.quick ? 50.0 : 80.0);
    gnm::PlotSeries s{.name = name};
    const std::size_t w = 50;
    const std::vector<double> means = window_means(r.step_loss, w);
    for (std::size_t i = 0; i < r.step_loss.size() / w; ++i) {  // whole windows only
      s.x.push_back(static_cast<double>(i * w + w / 2));
      s.y.push_back(means[i]);
    }
    if (!s.x.empty()) plot.add_series(s);
  }
  sec.add(t);
  const auto svg = write_run_file(cfg.run_dir, "optimizers.svg", plot.render());
  std::printf("loss curves: %s\n\n", svg.string().c_str());

  // Exercise 10.1 against the engine's Adam, which matches PyTorch's trajectories (its tests).
  Table ex("10.2 exercise 10.1 adam_step vs gnm::optim::adam_update",
           {"variant", "steps", "max rel diff", "ok"});
  for (const bool decoupled : {false, true}) {
    const double d = adam_exercise_vs_engine(decoupled, 25);
    // Both follow PyTorch's operation order, so they agree to the last bit or close: 1e-6
    // relative is the bound for matching PyTorch.
    const bool ok = d <= 1e-6;
    ex.add({str(decoupled ? "AdamW (decoupled decay)" : "Adam (L2 decay)"), integer(25), sci(d),
            flag(ok)});
    sec.verified = sec.verified && ok;
  }
  sec.add(ex);
  sec.verified = sec.verified && all_learned;
  return sec;
}

}  // namespace chapter10
