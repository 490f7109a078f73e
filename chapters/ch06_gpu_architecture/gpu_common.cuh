// Helpers shared by chapter 6's GPU sections: event timing after a warm-up, repeat counts, and
// the device's name and SM count.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "gnm/core/timer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "sections.hpp"

namespace chapter06 {

/// Timed repeats: --repeat when given, else `full` (or `quick` with --quick).
inline int repeats(const Config& cfg, int full, int quick) {
  return cfg.repeat > 0 ? cfg.repeat : (cfg.quick ? quick : full);
}

/// What the sections need to know about device 0.
struct DeviceBasics {
  std::string name;
  int sm_count = 0;
  std::size_t l2_bytes = 0;
};

inline DeviceBasics device_basics() {
  cudaDeviceProp prop{};
  GNM_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  return {prop.name, prop.multiProcessorCount, static_cast<std::size_t>(prop.l2CacheSize)};
}

/// Median event-timed milliseconds after a warm-up: the engine's (gnm/cuda/stream.hpp).
using gnm::cuda::median_event_ms;

}  // namespace chapter06
