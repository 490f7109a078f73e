// What the run-time-compilation tests share: the saxpy kernel source they compile and a helper
// for compile options (tests/common/test_rtc.cpp on the host, tests/gpu/test_rtc_gpu.cu on a GPU).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "gnm/cuda/rtc.hpp"

namespace gnm::test {

/// rtc::Options for one target (designated initializers would warn about the unnamed members).
inline gnm::cuda::rtc::Options rtc_options(std::string arch, bool fast_math = false,
                                           std::vector<std::string> extra = {}) {
  gnm::cuda::rtc::Options o;
  o.arch = std::move(arch);
  o.fast_math = fast_math;
  o.extra = std::move(extra);
  return o;
}

/// y ← a·x + y as a CUDA C++ source string; extern "C" keeps the entry name `saxpy` unmangled.
inline constexpr const char* kRtcSaxpy = R"(
extern "C" __global__ void saxpy(int n, float a, const float* x, float* y) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}
)";

}  // namespace gnm::test
