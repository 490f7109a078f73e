// Helpers for `gpu` tests: skip without a device, fail instead when GNM_REQUIRE_GPU=1.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "gnm/cuda/device.hpp"

namespace gnm::testing {

/// True when the environment asks GPU tests to fail rather than skip (GNM_REQUIRE_GPU=1).
inline bool gpu_required() {
  const char* v = std::getenv("GNM_REQUIRE_GPU");
  return v && std::string(v) == "1";
}

}  // namespace gnm::testing

/// First statement of every GPU test: skips when no CUDA device is usable, and fails instead of
/// skipping under GNM_REQUIRE_GPU=1 (scripts/gpu_check.sh sets it on the GPU machine).
#define GNM_GPU_TEST_OR_SKIP()                                                         \
  do {                                                                                 \
    const auto gnm_report_ = ::gnm::cuda::query_devices();                             \
    if (gnm_report_.devices.empty()) {                                                 \
      if (::gnm::testing::gpu_required()) {                                            \
        FAIL() << "GNM_REQUIRE_GPU=1 but no CUDA device: " << gnm_report_.status;      \
      }                                                                                \
      GTEST_SKIP() << "no CUDA device: " << gnm_report_.status;                        \
    }                                                                                  \
  } while (0)
