// CUDA-event timing shared by the GPU sections (included from .cu files only).
#pragma once

#include <cuda_runtime_api.h>

#include <utility>
#include <vector>

#include "gnm/core/timer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"

namespace chapter08 {

/// The engine's gnm::cuda::median_event_ms with chapter 8's argument order: `warmup` untimed
/// runs of `body`, then the median of `repeat` event-timed ones, in milliseconds. The events time
/// the GPU from start to stop, host stalls inside `body` included (a pageable copy makes the host
/// stage the data: that is part of its cost).
template <class F>
double median_event_ms(cudaStream_t stream, int warmup, int repeat, F&& body) {
  return gnm::cuda::median_event_ms(stream, repeat, std::forward<F>(body), warmup);
}

/// GB/s (10^9 bytes per second) for `bytes` moved in `ms` milliseconds.
inline double gbps(double bytes, double ms) { return bytes / (ms * 1e6); }

}  // namespace chapter08

namespace chapter08 {

/// Like median_event_ms, but runs `setup` (untimed, e.g. resetting the input on the host) before
/// each of the `repeat` timed runs of `body`, and one untimed warm-up of both first when `warmup`.
template <class Setup, class F>
double median_event_ms_with_setup(cudaStream_t stream, bool warmup, int repeat, Setup&& setup,
                                  F&& body) {
  if (warmup) {
    setup();
    body();
  }
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  gnm::cuda::EventTimer timer(stream);
  std::vector<double> ms;
  ms.reserve(static_cast<std::size_t>(repeat));
  for (int i = 0; i < repeat; ++i) {
    setup();
    timer.start();
    body();
    ms.push_back(static_cast<double>(timer.stop()));
  }
  return gnm::summarize(ms).median_ms;
}

}  // namespace chapter08
