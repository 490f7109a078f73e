// The engine's CUDA indexing kernels (common/src/tensor/cuda/index_kernels.cuh: index_select,
// index_add, the index range check, gather and scatter_add — the exact text nvcc compiles) run on
// the CPU through the host emulator with index.cu's launch arithmetic (blocks_for for the
// row kernels; make_device_layout + strided_grid, as launch_strided does, for the functors).
// Moves are compared exactly; the atomicAdd accumulations (index_add, scatter_add) with a bound
// for a sum in any order: k duplicates of one target give |err| <= k·eps·Σ|terms|. Indices
// include duplicates, 0 and V − 1, and operands are transposed views; outputs have guard zones.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/tensor/tensor.hpp"
#include "index_kernels.cuh"  // the real kernels (common/src/tensor/cuda), after the emulator

namespace {

namespace ix = gnm::kernels::index_detail;
using gnm::Tensor;
using Strides = std::span<const std::int64_t>;

std::vector<float> random_values(std::int64_t n, std::uint64_t seed) {
  std::vector<float> v(static_cast<std::size_t>(n));
  gnm::fill_uniform(v, seed, -1.0f, 1.0f);
  return v;
}

template <class F, std::size_t N>
void launch_strided_emulated(const gnm::Shape& shape, const std::array<Strides, N>& strides,
                             F f) {
  std::int64_t n = 1;
  for (const auto s : shape) n *= s;
  if (n == 0) return;
  const auto layout = gnm::detail::make_device_layout<N>(shape, strides);
  gnm::emu::emu_launch(dim3(gnm::detail::strided_grid(n)), dim3(gnm::detail::kStridedThreads),
                       gnm::detail::strided_kernel<N, F>, n, layout, f);
}

TEST(EngineIndexEmulated, IndexSelectAndIndexAdd) {
  // x (outer, V, inner), index (n) with duplicates, the first and the last row.
  const std::int64_t V = 6;
  const std::vector<std::int64_t> idx{5, 0, 2, 2, 5, 1, 2};
  const auto n = static_cast<std::int64_t>(idx.size());
  for (const std::int64_t outer : {1, 3}) {
    for (const std::int64_t inner : {1, 5, 70}) {
      const std::string what =
          "outer " + std::to_string(outer) + ", inner " + std::to_string(inner);
      const auto x = random_values(outer * V * inner, 1);
      const std::int64_t total = outer * n * inner;
      std::vector<std::uint32_t> out(static_cast<std::size_t>(total) + 64, 0xDEADBEEFu);
      // index_select moves raw 4-byte words of f32 data, as index_select_cuda does.
      std::vector<std::uint32_t> xw(x.size());
      std::memcpy(xw.data(), x.data(), x.size() * sizeof(float));
      gnm::emu::emu_launch(dim3(ix::blocks_for(total)), dim3(ix::kThreads),
                           ix::index_select_kernel<std::uint32_t>, out.data(), xw.data(),
                           idx.data(), total, n, V, inner);
      // Row o·n + k of the output is row o·V + idx[k] of x.
      auto src = [&](std::int64_t o, std::int64_t k, std::int64_t c) {
        return static_cast<std::size_t>((o * V + idx[static_cast<std::size_t>(k)]) * inner + c);
      };
      std::int64_t wrong = 0;
      for (std::int64_t o = 0; o < outer; ++o)
        for (std::int64_t k = 0; k < n; ++k)
          for (std::int64_t c = 0; c < inner; ++c)
            wrong += out[static_cast<std::size_t>((o * n + k) * inner + c)] != xw[src(o, k, c)];
      EXPECT_EQ(wrong, 0) << "index_select, " << what;
      for (std::size_t i = static_cast<std::size_t>(total); i < out.size(); ++i)
        ASSERT_EQ(out[i], 0xDEADBEEFu) << "index_select guard, " << what;

      // index_add: grad (outer, V, inner) += g (outer, n, inner) at idx.
      const auto g = random_values(total, 2);
      std::vector<float> grad(static_cast<std::size_t>(outer * V * inner) + 64, 0.0f);
      std::fill(grad.begin() + outer * V * inner, grad.end(), -777.0f);
      gnm::emu::emu_launch(dim3(ix::blocks_for(total)), dim3(ix::kThreads),
                           ix::index_add_kernel<float>, grad.data(), g.data(), idx.data(), total,
                           n, V, inner);
      std::vector<double> ref(static_cast<std::size_t>(outer * V * inner), 0.0),
          abs_sum(ref.size(), 0.0), count(ref.size(), 0.0);
      for (std::int64_t o = 0; o < outer; ++o)
        for (std::int64_t k = 0; k < n; ++k)
          for (std::int64_t c = 0; c < inner; ++c) {
            const std::size_t t = src(o, k, c);
            const auto e = static_cast<std::size_t>((o * n + k) * inner + c);
            const double gv = static_cast<double>(g[e]);
            ref[t] += gv;
            abs_sum[t] += std::abs(gv);
            count[t] += 1;
          }
      for (std::size_t t = 0; t < ref.size(); ++t)
        EXPECT_NEAR(static_cast<double>(grad[t]), ref[t], count[t] * gnm::kEpsF32 * abs_sum[t])
            << "index_add, " << what << ", element " << t;
      for (std::size_t i = ref.size(); i < grad.size(); ++i)
        ASSERT_EQ(grad[i], -777.0f) << "index_add guard, " << what;
    }
  }
}

TEST(EngineIndexEmulated, FirstOutOfRange) {
  // A transposed (7, 9) index view: bad values at row-major positions 40 and 13 give 13;
  // none gives −1.
  for (const bool bad : {true, false}) {
    std::vector<std::int64_t> storage(63);
    for (std::size_t i = 0; i < storage.size(); ++i)
      storage[i] = static_cast<std::int64_t>(i % 5);
    // The view is (7, 9) with strides (1, 7): its row-major position p = r·9 + c is storage
    // element c·7 + r.
    auto storage_of = [](std::int64_t p) { return static_cast<std::size_t>(p % 9 * 7 + p / 9); };
    if (bad) {
      storage[storage_of(40)] = 5;   // == size
      storage[storage_of(13)] = -1;  // negative
    }
    const Tensor view = gnm::from_vector(std::span<const std::int64_t>(storage), {9, 7}).t();
    unsigned long long result = ~0ULL;
    const gnm::Shape linear = gnm::contiguous_strides(view.shape());
    launch_strided_emulated<ix::FirstOutOfRangeOp, 2>(
        view.shape(), {Strides(linear), Strides(view.strides())},
        ix::FirstOutOfRangeOp{&result, view.data<std::int64_t>(), 5});
    const std::int64_t got = result == ~0ULL ? -1 : static_cast<std::int64_t>(result);
    EXPECT_EQ(got, bad ? 13 : -1);
  }
}

TEST(EngineIndexEmulated, GatherAndScatterAdd) {
  // x (4, 6); index (4, 9) along dim 1 (values in [0, 6), duplicates), given as a transposed view.
  const gnm::Shape xshape{4, 6};
  const auto xv = random_values(24, 3);
  const Tensor x = gnm::from_vector(std::span<const float>(xv), xshape);
  std::vector<std::int64_t> iv(36);
  for (std::size_t i = 0; i < iv.size(); ++i) iv[i] = static_cast<std::int64_t>((i * 7 + 3) % 6);
  const Tensor index =
      gnm::from_vector(std::span<const std::int64_t>(iv), {9, 4}).t();  // (4, 9), transposed
  const std::int64_t dim = 1;
  // gather: out (index's shape, contiguous) = x[i][index[i][j]]; x's stride along dim becomes 0.
  std::vector<float> out(36 + 64, -777.0f);
  gnm::Shape xs = x.strides();
  const std::int64_t step = xs[dim];
  xs[dim] = 0;
  const gnm::Shape os = gnm::contiguous_strides(index.shape());
  launch_strided_emulated<ix::GatherOp<float>, 3>(
      index.shape(), {Strides(os), Strides(index.strides()), Strides(xs)},
      ix::GatherOp<float>{out.data(), x.data<float>(), index.data<std::int64_t>(), step});
  const std::vector<std::int64_t> ir = index.contiguous().to_vector<std::int64_t>();
  for (std::int64_t i = 0; i < 4; ++i)
    for (std::int64_t j = 0; j < 9; ++j)
      EXPECT_EQ(out[static_cast<std::size_t>(i * 9 + j)],
                xv[static_cast<std::size_t>(i * 6 + ir[static_cast<std::size_t>(i * 9 + j)])])
          << "gather " << i << ", " << j;
  for (std::size_t i = 36; i < out.size(); ++i) ASSERT_EQ(out[i], -777.0f) << "gather guard";

  // scatter_add: grad (4, 6) += g (4, 9) at index along dim 1.
  const auto g = random_values(36, 4);
  std::vector<float> grad(24 + 64, 0.0f);
  std::fill(grad.begin() + 24, grad.end(), -777.0f);
  gnm::Shape ds = gnm::contiguous_strides(xshape);
  const std::int64_t dstep = ds[dim];
  ds[dim] = 0;
  const gnm::Shape gs = gnm::contiguous_strides(index.shape());
  launch_strided_emulated<ix::ScatterAddOp<float>, 3>(
      index.shape(), {Strides(gs), Strides(index.strides()), Strides(ds)},
      ix::ScatterAddOp<float>{grad.data(), g.data(), index.data<std::int64_t>(), dstep});
  std::vector<double> ref(24, 0.0), abs_sum(24, 0.0), count(24, 0.0);
  for (std::int64_t i = 0; i < 4; ++i)
    for (std::int64_t j = 0; j < 9; ++j) {
      const auto t = static_cast<std::size_t>(i * 6 + ir[static_cast<std::size_t>(i * 9 + j)]);
      const double gv = static_cast<double>(g[static_cast<std::size_t>(i * 9 + j)]);
      ref[t] += gv;
      abs_sum[t] += std::abs(gv);
      count[t] += 1;
    }
  for (std::size_t t = 0; t < 24; ++t)
    EXPECT_NEAR(static_cast<double>(grad[t]), ref[t], count[t] * gnm::kEpsF32 * abs_sum[t])
        << "scatter_add element " << t;
  for (std::size_t i = 24; i < grad.size(); ++i) ASSERT_EQ(grad[i], -777.0f) << "scatter guard";
}

}  // namespace
