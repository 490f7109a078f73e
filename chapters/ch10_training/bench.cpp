// --bench: the training step's throughput for scripts/bench_vs_torch.sh (the same model,
// optimizer, batch size and thread count as scripts/bench/torch_mlp.py).
#include <cstdio>

#include "gnm/core/thread_pool.hpp"
#include "gnm/core/check.hpp"
#include "sections.hpp"

namespace chapter10 {

int run_bench(const Data& data, std::int64_t batch, std::int64_t steps, gnm::Device device) {
  GNM_CHECK(batch >= 1 && steps >= 1, "--bench needs --batch >= 1 and --steps >= 1", batch, steps);
  auto model = make_model(0);
  model->to(device);
  TrainConfig tc{.epochs = 1, .batch = batch, .schedule = "none", .progress = false,
                 .evaluate_each_epoch = false, .evaluate_last = false, .device = device};
  const std::int64_t per_epoch = data.train_x.size(0) / batch;
  GNM_CHECK(per_epoch >= 1, "--bench: the batch is larger than the data", batch,
            data.train_x.size(0));
  // Warm-up (allocator, page faults, thread pool), then the timed steps; epochs as needed.
  tc.max_steps = 20;
  (void)train(*model, data, tc);
  tc.epochs = (steps + per_epoch - 1) / per_epoch;
  tc.max_steps = steps;
  // Training time only, as the PyTorch script times only its steps.
  const TrainResult r = train(*model, data, tc);
  std::printf("{\"framework\": \"gnm\", \"batch\": %lld, \"threads\": %d, \"steps\": %lld, "
              "\"device\": \"%s\", \"samples_per_s\": %.1f}\n",
              static_cast<long long>(batch), gnm::default_thread_pool().size(),
              static_cast<long long>(r.steps), device.is_cuda() ? "cuda" : "cpu", r.samples_per_s);
  return 0;
}

}  // namespace chapter10
