// 10.5 Gradient checkpointing: keep only each segment's input during forward and recompute the
// segment's activations during backward. Peak host memory with and without, on a deep MLP, and
// the gradients (identical bit for bit: the recomputation runs the same kernels on the same
// inputs).
#include <cstdio>

#include "gnm/autograd/checkpoint.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/tensor/ops.hpp"
#include "gnm/tensor/storage.hpp"
#include "sections.hpp"

namespace chapter10 {

namespace {

using namespace gnm::cells;

struct Measured {
  double peak_mib = 0;
  double ms = 0;
  std::vector<gnm::Tensor> grads;
};

// Forward and backward of `layers` Linear+Tanh blocks at `batch`, with the blocks grouped into
// checkpointed segments of `segment` layers (0: no checkpointing).
Measured measure(gnm::nn::Sequential& net, const gnm::Tensor& x, std::int64_t segment) {
  net.zero_grad();
  Measured m;
  gnm::reset_storage_peak();
  const double before = static_cast<double>(gnm::storage_stats().live_bytes);
  gnm::HostTimer timer;
  {
    //! [checkpoint_segments]
    gnm::Tensor h = x;
    const auto n = static_cast<std::int64_t>(net.size());
    for (std::int64_t i = 0; i < n; i += segment > 0 ? segment : n) {
      const std::int64_t end = segment > 0 ? std::min(n, i + segment) : n;
      auto run = [&net, i, end](const gnm::Tensor& in) {
        gnm::Tensor t = in;
        for (std::int64_t j = i; j < end; ++j) t = (*net.at(static_cast<std::size_t>(j)))(t);
        return t;
      };
      // Only the segment's input is kept; its activations are recomputed in backward.
      h = segment > 0 ? gnm::autograd::checkpoint(run, h) : run(h);
    }
    gnm::mean(h * h).backward();
    //! [checkpoint_segments]
  }
  m.ms = timer.elapsed_ms();
  m.peak_mib = (static_cast<double>(gnm::storage_stats().peak_bytes) - before) / (1024.0 * 1024.0);
  for (const gnm::Tensor& p : net.parameters()) m.grads.push_back(p.grad().clone());
  return m;
}

}  // namespace

Section run_checkpointing(const Config& cfg) {
  Section sec;
  const std::int64_t depth = 16, width = 256, batch = 2048;
  std::printf("10.5 gradient checkpointing: %lld × (Linear %lld→%lld + Tanh), batch %lld\n\n",
              static_cast<long long>(depth), static_cast<long long>(width),
              static_cast<long long>(width), static_cast<long long>(batch));
  gnm::manual_seed(cfg.seed);
  gnm::nn::Sequential net;
  for (std::int64_t i = 0; i < depth; ++i) {
    net.push_back(std::make_shared<gnm::nn::Linear>(width, width));
    net.push_back(std::make_shared<gnm::nn::Tanh>());
  }
  const gnm::Tensor x = gnm::randn({batch, width});
  const Measured plain = measure(net, x, 0);
  Table t("10.5 gradient checkpointing", {"segments", "peak activation MiB", "vs none",
                                          "forward+backward ms", "gradients identical"});
  t.add({str("none"), num(plain.peak_mib, 4), str("-"), num(plain.ms, 3), str("-")});
  double best_saving = 0;
  bool identical_all = true;
  // Segment lengths in modules (a Linear and a Tanh are two): √32 ≈ 6 is the textbook optimum.
  for (const std::int64_t seg : {16, 8, 6, 4}) {
    const Measured c = measure(net, x, seg);
    bool identical = true;
    for (std::size_t i = 0; i < c.grads.size(); ++i) {
      identical = identical && gnm::allclose(c.grads[i], plain.grads[i], 0.0, 0.0);
    }
    const double saving = 1.0 - c.peak_mib / plain.peak_mib;
    best_saving = std::max(best_saving, saving);
    identical_all = identical_all && identical;
    t.add({str(std::to_string(2 * depth / seg) + " of " + std::to_string(seg) + " modules"),
           num(c.peak_mib, 4), str("-" + gnm::cells::num(100 * saving, 3).text + " %"),
           num(c.ms, 3), flag(identical)});
  }
  sec.add(t);
  // The goal: at least 40 % lower peak memory, with identical gradients.
  const bool goal = best_saving >= 0.40;
  std::printf("best saving %.1f %% (goal >= 40 %%: %s)\n\n", 100 * best_saving,
              goal ? "reached" : "NOT reached");
  sec.figures.push_back({"checkpoint_peak_saving_pct", 100 * best_saving});
  sec.verified = goal && identical_all;
  return sec;
}

}  // namespace chapter10
