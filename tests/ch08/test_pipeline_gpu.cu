// Exercise 8.1b: the stream pipeline against the CPU reference, bit for bit. GPU tests: they skip
// without a device (and fail under GNM_REQUIRE_GPU=1).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "gpu_test.hpp"
#include "pipeline.hpp"

namespace {

using gnm::ch08::PipelineWork;

constexpr float kPoison = -777.0f;  // in h_out past n: the pipeline must not write there
constexpr std::int64_t kPad = 64;

// Busy-waits about `cycles` SM clock cycles: holds a stream so that a missing event shows up as
// a wrong result rather than by luck of timing.
__global__ void spin_kernel(long long cycles) {
  const long long start = clock64();
  while (clock64() - start < cycles) {
  }
}

std::vector<cudaStream_t> raw(const std::vector<gnm::cuda::Stream>& streams) {
  std::vector<cudaStream_t> out;
  for (const auto& s : streams) out.push_back(s.get());
  return out;
}

// Runs the pipeline on random input of n floats and checks every element against the reference.
void check_pipeline(std::int64_t n, std::int64_t chunk, int stream_count, int iters) {
  const PipelineWork work{0.9999f, 1e-4f, iters};
  gnm::cuda::PinnedBuffer<float> h_in(static_cast<std::size_t>(n + kPad));
  gnm::cuda::PinnedBuffer<float> h_out(static_cast<std::size_t>(n + kPad));
  gnm::fill_uniform(h_in.span(), /*seed=*/800 + static_cast<std::uint64_t>(n), -2.0f, 2.0f);
  for (float& v : h_out.span()) v = kPoison;
  std::vector<gnm::cuda::Stream> streams(static_cast<std::size_t>(stream_count));
  const std::int64_t ring = stream_count * chunk;
  gnm::cuda::DeviceBuffer<float> d_ring(static_cast<std::size_t>(ring));
  gnm::cuda::Stream origin;
  const auto handles = raw(streams);
  gnm::ch08::run_pipeline(h_in.data(), h_out.data(), n, chunk, d_ring.data(), ring, handles, work,
                          origin.get());
  origin.synchronize();  // the join: nothing else is synchronized
  std::int64_t bad = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float want = gnm::ch08::pipeline_work_reference(h_in.data()[i], work);
    if (std::memcmp(&want, &h_out.data()[i], sizeof(float)) != 0 && ++bad <= 5) {
      ADD_FAILURE() << "n = " << n << ", chunk = " << chunk << ", streams = " << stream_count
                    << ": element " << i << " is " << h_out.data()[i] << ", want " << want;
    }
  }
  EXPECT_EQ(bad, 0) << "mismatches of " << n;
  for (std::int64_t i = n; i < n + kPad; ++i) {
    ASSERT_EQ(h_out.data()[i], kPoison) << "h_out[" << i << "] past n = " << n << " was written";
  }
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace

TEST(Ch08PipelineGpu, MatchesTheReferenceForEveryStreamCountAndChunkSize) {
  GNM_GPU_TEST_OR_SKIP();
  for (int s : {1, 2, 3, 4, 8}) {
    for (std::int64_t chunk : {1000, 4099, 65536}) check_pipeline(100003, chunk, s, 17);
  }
}

TEST(Ch08PipelineGpu, OddSizesAndOneChunk) {
  GNM_GPU_TEST_OR_SKIP();
  check_pipeline(1, 1, 1, 3);
  check_pipeline(1, 7, 4, 3);           // fewer chunks than streams
  check_pipeline(31, 1, 8, 0);          // 31 one-element chunks; iters 0 copies through
  check_pipeline(257, 257, 2, 5);       // exactly one chunk
  check_pipeline(4097, 5000, 3, 5);     // one chunk smaller than chunk_elems
  check_pipeline(1 << 20, 1 << 16, 4, 64);
}

TEST(Ch08PipelineGpu, WaitsForWorkQueuedOnOriginAndJoinsBack) {
  GNM_GPU_TEST_OR_SKIP();
  // origin first spins ~20 ms, then writes h_in from the device: a pipeline that does not wait
  // for origin reads stale input. Then the caller waits on origin alone: a pipeline that does not
  // join leaves h_out unfinished.
  const std::int64_t n = 1 << 20, chunk = 1 << 16;
  const PipelineWork work{0.9999f, 1e-4f, 200};
  std::vector<float> fresh(static_cast<std::size_t>(n));
  gnm::fill_uniform(fresh, /*seed=*/81, -1.0f, 1.0f);
  gnm::cuda::DeviceBuffer<float> d_fresh(fresh.size());
  d_fresh.copy_from_host(fresh);
  gnm::cuda::PinnedBuffer<float> h_in(fresh.size()), h_out(fresh.size());
  for (float& v : h_in.span()) v = 0.0f;
  for (float& v : h_out.span()) v = kPoison;
  std::vector<gnm::cuda::Stream> streams(4);
  gnm::cuda::DeviceBuffer<float> d_ring(static_cast<std::size_t>(4 * chunk));
  gnm::cuda::Stream origin;
  spin_kernel<<<1, 1, 0, origin.get()>>>(40'000'000LL);
  GNM_CUDA_CHECK_LAUNCH();
  GNM_CUDA_CHECK(cudaMemcpyAsync(h_in.data(), d_fresh.data(), d_fresh.bytes(),
                                 cudaMemcpyDeviceToHost, origin.get()));
  const auto handles = raw(streams);
  gnm::ch08::run_pipeline(h_in.data(), h_out.data(), n, chunk, d_ring.data(), 4 * chunk, handles,
                          work, origin.get());
  origin.synchronize();
  std::int64_t bad = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float want = gnm::ch08::pipeline_work_reference(fresh[static_cast<std::size_t>(i)], work);
    if (std::memcmp(&want, &h_out.data()[i], sizeof(float)) != 0) ++bad;
  }
  EXPECT_EQ(bad, 0) << "elements computed from stale input or not copied back before the join";
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
}

TEST(Ch08PipelineGpu, EmptyInputCopiesNothing) {
  GNM_GPU_TEST_OR_SKIP();
  gnm::cuda::Stream s;
  const cudaStream_t handles[] = {s.get()};
  EXPECT_NO_THROW(gnm::ch08::run_pipeline(nullptr, nullptr, 0, 16, nullptr, 0, handles,
                                          PipelineWork{}, nullptr));
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
}

TEST(Ch08PipelineGpu, BadArgumentsAreErrorsNamingTheValues) {
  GNM_GPU_TEST_OR_SKIP();
  gnm::cuda::Stream s1, s2;
  const cudaStream_t two[] = {s1.get(), s2.get()};
  gnm::cuda::PinnedBuffer<float> h(64);
  gnm::cuda::DeviceBuffer<float> d(64);
  const auto message = [&](auto&& f) -> std::string {
    try {
      f();
    } catch (const gnm::NotImplemented&) {
      return "exercise not written yet";
    } catch (const gnm::Error& e) {
      return e.what();
    }
    return "no error";
  };
  // A ring of 64 floats cannot hold two chunks of 40.
  std::string m = message([&] {
    gnm::ch08::run_pipeline(h.data(), h.data(), 64, 40, d.data(), 64, two, PipelineWork{});
  });
  EXPECT_NE(m.find("ring_elems = 64"), std::string::npos) << m;
  EXPECT_NE(m.find("chunk_elems = 40"), std::string::npos) << m;
  m = message([&] {
    gnm::ch08::run_pipeline(h.data(), h.data(), 64, 32, d.data(), 64, {}, PipelineWork{});
  });
  EXPECT_NE(m.find("streams_count = 0"), std::string::npos) << m;
  m = message([&] {
    gnm::ch08::run_pipeline(nullptr, h.data(), 64, 32, d.data(), 64, two, PipelineWork{});
  });
  EXPECT_NE(m.find("n = 64"), std::string::npos) << m;
  m = message([&] {
    gnm::ch08::run_pipeline(h.data(), h.data(), 64, 0, d.data(), 64, two, PipelineWork{});
  });
  EXPECT_NE(m.find("chunk_elems = 0"), std::string::npos) << m;
  m = message([&] {
    gnm::ch08::run_pipeline(h.data(), h.data(), 64, 32, d.data(), 64, two,
                            PipelineWork{1.0f, 0.0f, -1});
  });
  EXPECT_NE(m.find("iters = -1"), std::string::npos) << m;
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
}
