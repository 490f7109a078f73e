// CUDA-event timing shared by the GPU sections (included from .cu files only).
#pragma once

#include <cuda_runtime_api.h>

#include <vector>

#include "gnm/core/timer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"

namespace chapter08 {

/// Runs `body` (which queues work on `stream`) `warmup` times untimed, then `repeat` times between
/// two CUDA events, and returns the median in milliseconds. The events measure the GPU's time from
/// the start event to the stop event, host stalls inside `body` included (a pageable copy makes
/// the host stage the data: that is part of its cost).
template <class F>
double median_event_ms(cudaStream_t stream, int warmup, int repeat, F&& body) {
  for (int i = 0; i < warmup; ++i) body();
  GNM_CUDA_CHECK(cudaStreamSynchronize(stream));
  gnm::cuda::EventTimer timer(stream);
  std::vector<double> ms;
  ms.reserve(static_cast<std::size_t>(repeat));
  for (int i = 0; i < repeat; ++i) {
    timer.start();
    body();
    ms.push_back(static_cast<double>(timer.stop()));
  }
  return gnm::summarize(ms).median_ms;
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
