// The chapter's kernels (8.2, 8.3) against the CPU, exactly, with poisoned tails; and 8.5's
// peer matrix on the real devices (the one-device path included). GPU tests: they skip without a
// device (and fail under GNM_REQUIRE_GPU=1).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "device_choice.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/device.hpp"
#include "gpu_test.hpp"
#include "kernels.hpp"

namespace {

constexpr float kPoison = -999.0f;
constexpr std::size_t kPad = 70;

std::vector<float> random_floats(std::size_t n, std::uint64_t seed) {
  std::vector<float> v(n);
  gnm::fill_uniform(v, seed, -8.0f, 8.0f);
  return v;
}

// Device output buffer of n + kPad floats, poisoned; returns the host copy after `run`.
template <class Run>
std::vector<float> run_poisoned(std::size_t n, Run&& run) {
  std::vector<float> out(n + kPad, kPoison);
  gnm::cuda::DeviceBuffer<float> d_out(out.size());
  d_out.copy_from_host(out);
  run(d_out.data());
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  d_out.copy_to_host(out);
  return out;
}

void expect_tail_untouched(const std::vector<float>& out, std::size_t n, const std::string& what) {
  for (std::size_t i = n; i < out.size(); ++i) {
    ASSERT_EQ(out[i], kPoison) << what << ": element " << i << " past n = " << n << " written";
  }
}

}  // namespace

TEST(Ch08KernelsGpu, StridedGatherIsTheDocumentedPermutation) {
  GNM_GPU_TEST_OR_SKIP();
  for (int stride : {1, 2, 3, 4, 8, 16, 32, 1024}) {
    for (std::int64_t m : {1, 7, 1023, 100003}) {
      const std::int64_t n = m * stride;
      if (n > (std::int64_t{1} << 22)) continue;  // keep compute-sanitizer runs short
      const auto un = static_cast<std::size_t>(n);
      const std::vector<float> in = random_floats(un, 1000 + un);
      gnm::cuda::DeviceBuffer<float> d_in(un);
      d_in.copy_from_host(in);
      const auto out = run_poisoned(un, [&](float* d_out) {
        chapter08::strided_gather(d_in.data(), d_out, n, stride, nullptr);
      });
      std::int64_t bad = 0;
      std::vector<bool> seen(un, false);
      for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t src = chapter08::strided_gather_source(i, n, stride);
        ASSERT_TRUE(src >= 0 && src < n) << "source index " << src;
        seen[static_cast<std::size_t>(src)] = true;
        if (out[static_cast<std::size_t>(i)] != in[static_cast<std::size_t>(src)]) ++bad;
      }
      EXPECT_EQ(bad, 0) << "stride " << stride << ", n = " << n;
      EXPECT_EQ(std::count(seen.begin(), seen.end(), false), 0) << "not a permutation";
      expect_tail_untouched(out, un, "strided_gather");
    }
  }
}

TEST(Ch08KernelsGpu, OffsetCopyShiftsByEveryOffset) {
  GNM_GPU_TEST_OR_SKIP();
  for (std::int64_t n : {1, 31, 4097, 1000003}) {
    const auto un = static_cast<std::size_t>(n);
    const std::vector<float> in = random_floats(un + 1024, 2000 + un);
    gnm::cuda::DeviceBuffer<float> d_in(in.size());
    d_in.copy_from_host(in);
    for (int offset = 0; offset <= 33; ++offset) {
      const auto out = run_poisoned(un, [&](float* d_out) {
        chapter08::offset_copy(d_in.data(), d_out, n, offset, nullptr);
      });
      EXPECT_EQ(std::memcmp(out.data(), in.data() + offset, un * sizeof(float)), 0)
          << "offset " << offset << ", n = " << n;
      expect_tail_untouched(out, un, "offset_copy");
    }
    const auto out = run_poisoned(un, [&](float* d_out) {
      chapter08::offset_copy(d_in.data(), d_out, n, 1024, nullptr);
    });
    EXPECT_EQ(std::memcmp(out.data(), in.data() + 1024, un * sizeof(float)), 0);
  }
}

TEST(Ch08KernelsGpu, AffineMatchesFmafBitForBitInPlaceAndFromMappedMemory) {
  GNM_GPU_TEST_OR_SKIP();
  const float a = 0.75f, b = 0.5f;
  for (std::int64_t n : {1, 5, 1025, 1000003}) {
    const auto un = static_cast<std::size_t>(n);
    const std::vector<float> in = random_floats(un, 3000 + un);
    std::vector<float> want(un);
    for (std::size_t i = 0; i < un; ++i) want[i] = std::fmaf(in[i], a, b);
    // Out of place from device memory, with a poisoned tail.
    gnm::cuda::DeviceBuffer<float> d_in(un);
    d_in.copy_from_host(in);
    const auto out = run_poisoned(un, [&](float* d_out) {
      chapter08::affine(d_in.data(), d_out, n, a, b, nullptr);
    });
    EXPECT_EQ(std::memcmp(out.data(), want.data(), un * sizeof(float)), 0) << "n = " << n;
    expect_tail_untouched(out, un, "affine");
    // In place.
    chapter08::affine(d_in.data(), d_in.data(), n, a, b, nullptr);
    std::vector<float> in_place(un);
    d_in.copy_to_host(in_place);
    EXPECT_EQ(std::memcmp(in_place.data(), want.data(), un * sizeof(float)), 0) << "n = " << n;
    // From mapped pinned host memory (zero-copy), as section 8.2 runs it.
    float* h_mapped = nullptr;
    float* d_mapped = nullptr;
    GNM_CUDA_CHECK(cudaHostAlloc(&h_mapped, un * sizeof(float), cudaHostAllocMapped));
    std::memcpy(h_mapped, in.data(), un * sizeof(float));
    GNM_CUDA_CHECK(cudaHostGetDevicePointer(reinterpret_cast<void**>(&d_mapped), h_mapped, 0));
    const auto zc = run_poisoned(un, [&](float* d_out) {
      chapter08::affine(d_mapped, d_out, n, a, b, nullptr);
    });
    GNM_CUDA_CHECK(cudaFreeHost(h_mapped));
    EXPECT_EQ(std::memcmp(zc.data(), want.data(), un * sizeof(float)), 0) << "n = " << n;
  }
}

TEST(Ch08KernelsGpu, BadArgumentsAreErrorsAndEmptyLaunchesNothing) {
  GNM_GPU_TEST_OR_SKIP();
  gnm::cuda::DeviceBuffer<float> d(64);
  EXPECT_THROW(chapter08::strided_gather(d.data(), d.data(), 10, 3, nullptr), gnm::Error);
  EXPECT_THROW(chapter08::strided_gather(d.data(), d.data(), 64, 0, nullptr), gnm::Error);
  EXPECT_THROW(chapter08::strided_gather(d.data(), d.data(), 2048, 2048, nullptr), gnm::Error);
  EXPECT_THROW(chapter08::offset_copy(d.data(), d.data(), 8, -1, nullptr), gnm::Error);
  EXPECT_THROW(chapter08::offset_copy(nullptr, d.data(), 8, 0, nullptr), gnm::Error);
  EXPECT_THROW(chapter08::affine(d.data(), nullptr, 8, 1.0f, 0.0f, nullptr), gnm::Error);
  EXPECT_NO_THROW(chapter08::strided_gather(nullptr, nullptr, 0, 4, nullptr));
  EXPECT_NO_THROW(chapter08::offset_copy(nullptr, nullptr, 0, 4, nullptr));
  EXPECT_NO_THROW(chapter08::affine(nullptr, nullptr, 0, 1.0f, 0.0f, nullptr));
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
}

TEST(Ch08PeersGpu, PeerMatrixOfTheRealDevices) {
  GNM_GPU_TEST_OR_SKIP();
  const auto report = gnm::cuda::query_devices();
  const auto m = chapter08::peer_access_matrix(report.devices, chapter08::cuda_can_access_peer);
  ASSERT_EQ(m.ordinals.size(), report.devices.size());
  if (report.devices.size() == 1) {
    EXPECT_EQ(m.note, "one device: no peers");
  } else {
    EXPECT_NE(m.note.find(std::to_string(report.devices.size()) + " devices"), std::string::npos);
    for (std::size_t i = 0; i < m.ordinals.size(); ++i) EXPECT_FALSE(m.can_access[i][i]);
  }
  // The choice on the real list names a device that exists.
  const auto choice = chapter08::choose_device(report.devices);
  EXPECT_GE(choice.ordinal, 0);
  EXPECT_LT(choice.ordinal, static_cast<int>(report.devices.size()));
}
