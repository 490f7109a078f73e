// The engine's CUDA elementwise loop (common/src/tensor/cuda/strided_kernels.cuh: DeviceLayout,
// strided_kernel and the host arithmetic launch_strided in loops.cuh uses) run on the CPU through
// the host emulator. DeviceLayout::offsets(i), after coalesce() has merged dimensions, must give
// for every linear index i the offsets of the row-major walk over the ORIGINAL shape, for
// permuted, broadcast (stride 0), step-sliced, narrowed and size-1-padded operands; and
// strided_kernel, with launch_strided's grid (and with one block, to force the grid-stride loop),
// must visit every element exactly once: an elementwise op is compared exactly with the same
// float arithmetic done by a plain loop, and the output has a poisoned guard zone.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "gnm/core/random.hpp"
#include "gnm/tensor/tensor.hpp"
#include "strided_kernels.cuh"  // the real kernel (common/src/tensor/cuda), after the emulator

namespace {

using gnm::Tensor;
using gnm::detail::DeviceLayout;
using gnm::detail::OffsetArray;

constexpr float kPoison = -777.0f;

Tensor random_tensor(gnm::Shape shape, std::uint64_t seed) {
  std::int64_t n = 1;
  for (const auto s : shape) n *= s;
  std::vector<float> v(static_cast<std::size_t>(n));
  gnm::fill_uniform(v, seed, -1.0f, 1.0f);
  return gnm::from_vector(std::span<const float>(v), shape);
}

// Two input views of one shape (any strides) and a description.
struct Case {
  std::string name;
  Tensor a, b;
};

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"contiguous 3 x 5 x 7", random_tensor({3, 5, 7}, 1), random_tensor({3, 5, 7}, 2)});
  c.push_back({"permuted {2,0,1} of 4 x 5 x 6 with a contiguous 6 x 4 x 5",
               random_tensor({4, 5, 6}, 3).permute({2, 0, 1}), random_tensor({6, 4, 5}, 4)});
  c.push_back({"transposed 33 x 17 with a row broadcast 1 x 17",
               random_tensor({17, 33}, 5).t(), random_tensor({1, 17}, 6).expand({33, 17})});
  c.push_back({"column broadcast 9 x 1 with a step-2 slice of 9 x 25",
               random_tensor({9, 1}, 7).expand({9, 13}),
               random_tensor({9, 25}, 8).slice(1, 0, 25, 2)});
  c.push_back({"narrowed 4 x 10 x 3 with size-1 dims, broadcast scalar",
               random_tensor({6, 1, 10, 1, 3}, 9).narrow(0, 1, 4),
               random_tensor({1, 1, 1, 1, 1}, 10).expand({4, 1, 10, 1, 3})});
  c.push_back({"0-d", random_tensor({}, 11), random_tensor({}, 12)});
#if !defined(__SANITIZE_THREAD__)
  c.push_back({"600 x 7 permuted with its own transpose's transpose",
               random_tensor({7, 600}, 13).t(), random_tensor({600, 7}, 14)});
#endif
  return c;
}

// Row-major multi-index walk over `shape`: calls f(linear, offsets of a and b).
void walk(const gnm::Shape& shape, const gnm::Shape& sa, const gnm::Shape& sb,
          const std::function<void(std::int64_t, std::int64_t, std::int64_t)>& f) {
  std::int64_t n = 1;
  for (const auto s : shape) n *= s;
  std::vector<std::int64_t> idx(shape.size(), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t oa = 0, ob = 0;
    for (std::size_t d = 0; d < shape.size(); ++d) oa += idx[d] * sa[d], ob += idx[d] * sb[d];
    f(i, oa, ob);
    for (std::size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

TEST(EngineStridedEmulated, OffsetsMatchTheRowMajorWalk) {
  for (const Case& c : cases()) {
    const gnm::Shape& shape = c.a.shape();
    const gnm::Shape out_strides = gnm::contiguous_strides(shape);
    const std::array<std::span<const std::int64_t>, 3> strides{
        std::span<const std::int64_t>(out_strides), std::span<const std::int64_t>(c.a.strides()),
        std::span<const std::int64_t>(c.b.strides())};
    const DeviceLayout<3> D = gnm::detail::make_device_layout<3>(shape, strides);
    std::int64_t wrong = 0;
    walk(shape, c.a.strides(), c.b.strides(),
         [&](std::int64_t i, std::int64_t oa, std::int64_t ob) {
           const OffsetArray<3> o = D.offsets(i);
           if (o[0] != i || o[1] != oa || o[2] != ob) ++wrong;
         });
    EXPECT_EQ(wrong, 0) << c.name << " (coalesced to " << D.ndim << " dims)";
  }
}

// out = 2·a + b through strided_kernel, launched as launch_strided launches it (max_grid caps the
// grid to force the grid-stride loop).
void check_kernel(const Case& c, unsigned max_grid) {
  const gnm::Shape& shape = c.a.shape();
  std::int64_t n = 1;
  for (const auto s : shape) n *= s;
  const gnm::Shape out_strides = gnm::contiguous_strides(shape);
  const std::array<std::span<const std::int64_t>, 3> strides{
      std::span<const std::int64_t>(out_strides), std::span<const std::int64_t>(c.a.strides()),
      std::span<const std::int64_t>(c.b.strides())};
  const DeviceLayout<3> D = gnm::detail::make_device_layout<3>(shape, strides);
  std::vector<float> out(static_cast<std::size_t>(n) + 64, kPoison);
  std::vector<int> visits(static_cast<std::size_t>(n), 0);
  float* po = out.data();
  int* pv = visits.data();
  const float* pa = c.a.data<float>();
  const float* pb = c.b.data<float>();
  // The shape of the engine's __device__ lambdas (`__device__` is empty on the host).
  auto f = [=] __device__(const OffsetArray<3>& o) {
    po[o[0]] = 2.0f * pa[o[1]] + pb[o[2]];
    atomicAdd(&pv[o[0]], 1);
  };
  const unsigned grid = std::min(gnm::detail::strided_grid(n), max_grid);
  gnm::emu::emu_launch(dim3(grid), dim3(gnm::detail::kStridedThreads),
                       gnm::detail::strided_kernel<3, decltype(f)>, n, D, f);
  std::int64_t wrong = 0, twice = 0;
  walk(shape, c.a.strides(), c.b.strides(), [&](std::int64_t i, std::int64_t oa, std::int64_t ob) {
    const float want = 2.0f * pa[oa] + pb[ob];
    if (out[static_cast<std::size_t>(i)] != want) ++wrong;
    if (visits[static_cast<std::size_t>(i)] != 1) ++twice;
  });
  const std::string what = c.name + ", grid " + std::to_string(grid);
  EXPECT_EQ(wrong, 0) << what;
  EXPECT_EQ(twice, 0) << what << ": elements not visited exactly once";
  for (std::size_t i = static_cast<std::size_t>(n); i < out.size(); ++i)
    ASSERT_EQ(out[i], kPoison) << what << ": guard written at " << i;
}

TEST(EngineStridedEmulated, KernelVisitsEveryElementOnce) {
  for (const Case& c : cases()) {
    check_kernel(c, 0xffffffffu);
    check_kernel(c, 1);
  }
}

// Negative control: a layout whose merge forgot one operand (the broadcast b's stride 0 dims
// merged as if contiguous) must fail the offset check above, i.e. the check sees such bugs.
TEST(EngineStridedEmulated, NegativeControlCatchesAWrongMerge) {
  const Tensor a = random_tensor({5, 7}, 1);
  const Tensor b = random_tensor({1, 7}, 2).expand({5, 7});
  const gnm::Shape flat{35};
  const gnm::Shape s1{1};
  // Coalesce a alone (all contiguous: one dim of 35) and reuse that for b: b's offsets 0..34.
  const std::array<std::span<const std::int64_t>, 1> only_a{std::span<const std::int64_t>(s1)};
  const DeviceLayout<1> D = gnm::detail::make_device_layout<1>(flat, only_a);
  std::int64_t wrong = 0;
  walk(a.shape(), a.strides(), b.strides(), [&](std::int64_t i, std::int64_t, std::int64_t ob) {
    if (D.offsets(i)[0] != ob) ++wrong;
  });
  EXPECT_GT(wrong, 0);
}

}  // namespace
