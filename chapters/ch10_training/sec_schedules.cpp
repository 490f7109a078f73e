// 10.3 Gradient clipping and learning-rate schedules; exercise 10.3 (cosine with warmup)
// against the engine's scheduler.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cosine_warmup.hpp"
#include "gnm/core/svg_plot.hpp"
#include "gnm/data/loader.hpp"
#include "gnm/optim/optimizer.hpp"
#include "gnm/optim/scheduler.hpp"
#include "gnm/tensor/ops.hpp"
#include "sections.hpp"

namespace chapter10 {

namespace {

using namespace gnm::cells;

// The global L2 norm of the model's gradients, in double.
double grad_norm(const gnm::nn::Module& model) {
  double s = 0;
  for (const gnm::Tensor& p : model.parameters()) {
    if (!p.grad().defined()) continue;
    const gnm::Tensor g = p.grad().to(gnm::DType::f64);
    s += gnm::sum(g * g).item();
  }
  return std::sqrt(s);
}

double grad_max_abs(const gnm::nn::Module& model) {
  double m = 0;
  for (const gnm::Tensor& p : model.parameters()) {
    if (p.grad().defined()) m = std::max(m, gnm::max(gnm::abs(p.grad())).item());
  }
  return m;
}

}  // namespace

Section run_schedules(const Config& cfg, const Data& data) {
  Section sec;
  std::printf("10.3 gradient clipping and learning-rate schedules\n\n");

  // Clipping on one real batch of the untrained model.
  {
    auto model = make_model(cfg.seed);
    const gnm::Tensor x = data.train_x.narrow(0, 0, cfg.batch);
    const gnm::Tensor y = data.train_y.narrow(0, 0, cfg.batch);
    auto backward = [&] {
      model->zero_grad();
      gnm::cross_entropy((*model)(x), y).backward();
    };
    Table t("10.3 gradient clipping", {"call", "norm before", "norm after", "max |g| after", "ok"});
    backward();
    const double n0 = grad_norm(*model);
    const double max_norm = n0 / 4;  // a limit the gradient exceeds
    //! [clip]
    const double reported = gnm::optim::clip_grad_norm_(model->parameters(), max_norm);
    //! [clip]
    const double n1 = grad_norm(*model);
    // The reported norm is the norm before clipping; afterwards it is max_norm up to fp32
    // rounding of the coefficient (PyTorch adds 1e-6 to the norm in the coefficient too).
    const bool ok_norm = std::abs(reported - n0) <= 1e-5 * n0 &&
                         std::abs(n1 - max_norm) <= 1e-5 * max_norm;
    t.add({str("clip_grad_norm_(" + gnm::cells::num(max_norm, 3).text + ")"), num(n0, 5),
           num(n1, 5), num(grad_max_abs(*model), 4), flag(ok_norm)});
    backward();
    const double limit = grad_max_abs(*model) / 10;
    gnm::optim::clip_grad_value_(model->parameters(), limit);
    const bool ok_value = grad_max_abs(*model) <= limit;
    t.add({str("clip_grad_value_(" + gnm::cells::num(limit, 3).text + ")"), num(n0, 5),
           num(grad_norm(*model), 5), num(grad_max_abs(*model), 4), flag(ok_value)});
    sec.add(t);
    sec.verified = sec.verified && ok_norm && ok_value;
  }

  // The schedules over one run of `total` steps, drawn and tabulated.
  const std::int64_t total = 1000;
  const double base = 1e-3;
  gnm::optim::StepLR step_lr(base, total / 3, 0.3);
  gnm::optim::CosineWithWarmup cosine(base, total / 20, total, base * 0.01);
  gnm::optim::OneCycleLR one_cycle(base, total);
  gnm::optim::ReduceLROnPlateau plateau(base, {.factor = 0.3, .patience = 2});
  std::vector<gnm::optim::LrScheduler*> scheds = {&step_lr, &cosine, &one_cycle};
  const std::vector<std::string> names = {"StepLR(333, 0.3)", "cosine, 50 warmup, min 1e-5",
                                          "OneCycleLR(max 1e-3)", "ReduceLROnPlateau"};
  std::vector<gnm::PlotSeries> series(4);
  double ex_worst = 0;
  for (std::int64_t k = 0; k < total; ++k) {
    for (std::size_t i = 0; i < scheds.size(); ++i) {
      series[i].x.push_back(static_cast<double>(k));
      series[i].y.push_back(scheds[i]->lr());
    }
    // Exercise 10.3 must give the engine's cosine schedule at every step.
    const double ex = gnm::ch10::cosine_warmup_lr(k, base, total / 20, total, base * 0.01);
    ex_worst = std::max(ex_worst, std::abs(ex - cosine.lr()) / cosine.lr());
    // The plateau scheduler sees a validation loss that stops improving after step 300.
    series[3].x.push_back(static_cast<double>(k));
    series[3].y.push_back(plateau.lr());
    if (k % 50 == 49) plateau.step(k < 300 ? 1.0 - 0.001 * static_cast<double>(k) : 0.7);
    for (auto* s : scheds) {
      if (k + 1 < total) s->step();
    }
  }
  gnm::SvgPlot plot("Learning-rate schedules over 1000 steps", {.label = "step"},
                    {.label = "learning rate", .min = 0.0});
  Table t("10.3 schedules", {"schedule", "lr at 0", "at 50", "at 250", "at 500", "at 900",
                             "at 999"});
  for (std::size_t i = 0; i < series.size(); ++i) {
    series[i].name = names[i];
    const auto& y = series[i].y;
    t.add({str(names[i]), sci(y[0]), sci(y[50]), sci(y[250]), sci(y[500]), sci(y[900]),
           sci(y[999])});
    plot.add_series(series[i]);
  }
  sec.add(t);
  const auto svg = write_run_file(cfg.run_dir, "schedules.svg", plot.render());
  std::printf("schedules: %s\n\n", svg.string().c_str());

  Table ex("10.3 exercise 10.3 cosine_warmup_lr vs CosineWithWarmup",
           {"steps", "max rel diff", "ok"});
  const bool ex_ok = ex_worst <= 1e-12;  // the same closed form in double
  ex.add({integer(total), sci(ex_worst), flag(ex_ok)});
  sec.add(ex);
  sec.verified = sec.verified && ex_ok;

  // The same model trained with a constant rate and with each schedule.
  const std::int64_t epochs = cfg.quick ? 1 : 3;
  Table tr("10.3 schedules in training", {"schedule", "epochs", "final train loss", "test acc %"});
  for (const std::string sched : {"none", "step", "cosine", "onecycle"}) {
    auto model = make_model(cfg.seed);
    TrainConfig tc{.epochs = epochs, .batch = cfg.batch, .lr = cfg.lr, .schedule = sched,
                   .seed = cfg.seed, .progress = cfg.progress, .evaluate_each_epoch = false,
                   .device = cfg.device};
    if (sched == "onecycle") tc.lr = 3 * cfg.lr;  // OneCycle's peak sits above the constant rate
    tc.label = sched;
    const TrainResult r = train(*model, data, tc);
    tr.add({str(sched), integer(epochs), num(r.epochs.back().train_loss, 4), num(r.test_acc, 4)});
  }
  sec.add(tr);
  return sec;
}

}  // namespace chapter10
