// The CUDA RAII layer on a real device: allocation, copies, streams, events, moves.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "gpu_test.hpp"

namespace {
__global__ void add_one(float* y, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] += 1.0f;
}
}  // namespace

TEST(CudaRaiiGpu, DeviceBufferRoundTripAndMove) {
  GNM_GPU_TEST_OR_SKIP();
  const int n = 1001;
  std::vector<float> h(n);
  std::iota(h.begin(), h.end(), 0.5f);
  gnm::cuda::DeviceBuffer<float> d(n);
  d.copy_from_host(h);
  gnm::cuda::DeviceBuffer<float> moved(std::move(d));
  EXPECT_TRUE(d.empty());  // NOLINT(bugprone-use-after-move)
  add_one<<<(n + 255) / 256, 256>>>(moved.data(), n);
  GNM_CUDA_CHECK_LAUNCH();
  std::vector<float> back(n, -1.0f);
  moved.copy_to_host(back);
  for (int i = 0; i < n; ++i) ASSERT_EQ(back[i], h[i] + 1.0f) << i;
}

TEST(CudaRaiiGpu, PinnedStreamAndEventTimer) {
  GNM_GPU_TEST_OR_SKIP();
  const int n = 1 << 20;
  gnm::cuda::PinnedBuffer<float> h(n);
  for (int i = 0; i < n; ++i) h.data()[i] = static_cast<float>(i % 97);
  gnm::cuda::DeviceBuffer<float> d(n);
  gnm::cuda::Stream stream;
  gnm::cuda::EventTimer timer(stream.get());
  timer.start();
  GNM_CUDA_CHECK(cudaMemcpyAsync(d.data(), h.data(), d.bytes(), cudaMemcpyHostToDevice, stream.get()));
  add_one<<<(n + 255) / 256, 256, 0, stream.get()>>>(d.data(), n);
  GNM_CUDA_CHECK_LAUNCH();
  GNM_CUDA_CHECK(cudaMemcpyAsync(h.data(), d.data(), d.bytes(), cudaMemcpyDeviceToHost, stream.get()));
  const float ms = timer.stop();
  EXPECT_GT(ms, 0.0f);
  stream.synchronize();
  for (int i = 0; i < n; i += 4093) ASSERT_EQ(h.data()[i], static_cast<float>(i % 97) + 1.0f);
}

TEST(CudaRaiiGpu, OutOfMemoryIsACudaErrorNamingTheSize) {
  GNM_GPU_TEST_OR_SKIP();
  const std::size_t huge = std::size_t{1} << 50;  // 4 PiB of floats
  try {
    gnm::cuda::DeviceBuffer<float> b(huge);
    FAIL() << "expected gnm::CudaError";
  } catch (const gnm::CudaError& e) {
    EXPECT_EQ(e.code(), static_cast<int>(cudaErrorMemoryAllocation)) << e.what();
    EXPECT_NE(std::string(e.what()).find(std::to_string(huge * sizeof(float))), std::string::npos)
        << e.what();
  }
  // The failure was cleared; the device still works.
  gnm::cuda::DeviceBuffer<float> ok(16);
  EXPECT_EQ(ok.size(), 16u);
}

TEST(CudaRaiiGpu, LaunchErrorsAreReported) {
  GNM_GPU_TEST_OR_SKIP();
  gnm::cuda::DeviceBuffer<float> d(4);
  add_one<<<1, 4096>>>(d.data(), 4);  // more than 1024 threads per block: invalid configuration
  EXPECT_THROW(GNM_CUDA_CHECK_LAUNCH(), gnm::CudaError);
  add_one<<<1, 4>>>(d.data(), 4);
  EXPECT_NO_THROW(GNM_CUDA_CHECK_LAUNCH());
}
