// The engine's CUDA where and dropout kernels (common/src/tensor/cuda/where_dropout_kernels.cuh,
// the exact text nvcc compiles) run on the CPU through the host emulator with the launch
// arithmetic of where_dropout.cu, and are compared EXACTLY with the CPU kernels where_cpu and
// dropout_cpu: where moves values, and the dropout mask is the same Philox stream on both sides
// (Note [Dropout mask recomputation]) with one rounding of x·scale, so any difference is a bug.
// Shapes: lengths not a multiple of the 4-element Philox block (1, 3, 5, 1001), a strided
// (transposed) input and broadcast operands; outputs poisoned with a guard zone.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "gnm/core/random.hpp"
#include "gnm/tensor/tensor.hpp"
// The real kernels (common/src/tensor/cuda), after the emulator.
#include "where_dropout_kernels.cuh"

namespace {

namespace wd = gnm::kernels::where_dropout_detail;
using gnm::DType;
using gnm::Tensor;
using Strides = std::span<const std::int64_t>;

Tensor random_tensor(gnm::Shape shape, std::uint64_t seed) {
  std::int64_t n = 1;
  for (const auto s : shape) n *= s;
  std::vector<float> v(static_cast<std::size_t>(n));
  gnm::fill_uniform(v, seed, -1.0f, 1.0f);
  return gnm::from_vector(std::span<const float>(v), shape);
}

// The emulated dropout_cuda: out (n + guard, poisoned) from x, grid capped at max_grid.
template <class T>
std::vector<T> emulated_dropout(const Tensor& x, std::uint64_t seed, std::uint64_t sub, double p,
                                double scale, unsigned max_grid) {
  const std::int64_t n = x.numel();
  std::vector<T> out(static_cast<std::size_t>(n) + 64, T(-777));
  const gnm::detail::DeviceLayout<1> layout =
      gnm::detail::make_device_layout<1>(x.shape(), std::array<Strides, 1>{Strides(x.strides())});
  const unsigned grid = std::min(wd::dropout_grid(n), max_grid);
  gnm::emu::emu_launch(dim3(grid), dim3(wd::kDropoutThreads), wd::dropout_kernel<T>, n, layout,
                       x.is_contiguous(), x.data<T>(), out.data(), gnm::PhiloxRng(seed, sub), p,
                       static_cast<gnm::detail::acc_t<T>>(scale));
  return out;
}

template <class T>
void check_dropout(const Tensor& x32, const std::string& name, double p, unsigned max_grid) {
  const Tensor x = x32.dtype() == gnm::dtype_of<T>() ? x32 : x32.to(gnm::dtype_of<T>());
  const std::int64_t n = x.numel();
  const double scale = p < 1.0 ? 1.0 / (1.0 - p) : 0.0;
  const std::uint64_t seed = 1234, sub = 7;
  const std::vector<T> got = emulated_dropout<T>(x, seed, sub, p, scale, max_grid);
  const Tensor want = gnm::empty(x.shape(), {.dtype = x.dtype()});
  gnm::kernels::dropout_cpu(want, x, seed, sub, p, scale);
  const std::string what = name + ", p " + std::to_string(p) + ", grid cap " +
                           std::to_string(max_grid);
  const T* w = want.data<T>();
  std::int64_t wrong = 0, kept = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (std::memcmp(&got[static_cast<std::size_t>(i)], &w[i], sizeof(T)) != 0) ++wrong;
    kept += w[i] != T(0) ? 1 : 0;
  }
  EXPECT_EQ(wrong, 0) << what << " (" << kept << " of " << n << " kept)";
  for (std::size_t i = static_cast<std::size_t>(n); i < got.size(); ++i)
    ASSERT_EQ(got[i], T(-777)) << what << ": guard written at " << i;
}

TEST(EngineWhereDropoutEmulated, DropoutMatchesCpuExactly) {
#if defined(__SANITIZE_THREAD__)
  const std::int64_t lengths[] = {5, 1001};
#else
  const std::int64_t lengths[] = {1, 3, 4, 5, 1001, 4099};
#endif
  for (const std::int64_t n : lengths) {
    const Tensor x = random_tensor({n}, static_cast<std::uint64_t>(n));
    for (const double p : {0.0, 0.3, 1.0}) {
      check_dropout<float>(x, "contiguous " + std::to_string(n), p, 0xffffffffu);
      check_dropout<double>(x, "contiguous " + std::to_string(n), p, 0xffffffffu);
    }
    check_dropout<float>(x, "contiguous " + std::to_string(n), 0.5, 1);  // grid-stride loop
  }
  // A transposed input: x is read through its coalesced layout, out stays row-major.
  const Tensor xt = random_tensor({13, 37}, 99).t();
  check_dropout<float>(xt, "transposed 37 x 13", 0.3, 0xffffffffu);
  check_dropout<float>(xt, "transposed 37 x 13", 0.3, 1);
}

TEST(EngineWhereDropoutEmulated, WhereMatchesCpuExactly) {
  // cond (5, 1) broadcast along columns, a transposed, b a broadcast row.
  const gnm::Shape shape{5, 33};
  const std::vector<std::int64_t> c_values{1, 0, 0, 1, 1};
  const Tensor cond = gnm::from_vector(std::span<const std::int64_t>(c_values), {5, 1})
                          .to(DType::boolean)
                          .expand(shape);
  const Tensor a = random_tensor({33, 5}, 1).t();
  const Tensor b = random_tensor({1, 33}, 2).expand(shape);
  std::vector<float> got(5 * 33 + 64, -777.0f);
  const gnm::Shape out_strides = gnm::contiguous_strides(shape);
  const std::array<Strides, 4> strides{Strides(out_strides), Strides(cond.strides()),
                                       Strides(a.strides()), Strides(b.strides())};
  const auto layout = gnm::detail::make_device_layout<4>(shape, strides);
  const wd::WhereOp<float> op{got.data(), static_cast<const std::uint8_t*>(cond.data_ptr()),
                              a.data<float>(), b.data<float>()};
  const std::int64_t n = 5 * 33;
  gnm::emu::emu_launch(dim3(gnm::detail::strided_grid(n)), dim3(gnm::detail::kStridedThreads),
                       gnm::detail::strided_kernel<4, wd::WhereOp<float>>, n, layout, op);
  const Tensor want = gnm::empty(shape);
  gnm::kernels::where_cpu(want, cond, a, b);
  const std::vector<float> w = want.to_vector<float>();
  for (std::int64_t i = 0; i < n; ++i)
    EXPECT_EQ(got[static_cast<std::size_t>(i)], w[static_cast<std::size_t>(i)]) << "element " << i;
  for (std::size_t i = static_cast<std::size_t>(n); i < got.size(); ++i)
    ASSERT_EQ(got[i], -777.0f) << "guard written at " << i;
}

// Negative control: the same comparison with a different subsequence must find differences (the
// exact comparison really looks at the mask).
TEST(EngineWhereDropoutEmulated, NegativeControlOtherStreamDiffers) {
  const Tensor x = random_tensor({1001}, 3);
  const std::vector<float> got = emulated_dropout<float>(x, 1234, 8, 0.5, 2.0, 0xffffffffu);
  const Tensor want = gnm::empty({1001});
  gnm::kernels::dropout_cpu(want, x, 1234, 7, 0.5, 2.0);
  const float* w = want.data<float>();
  std::int64_t wrong = 0;
  for (std::int64_t i = 0; i < 1001; ++i)
    wrong += got[static_cast<std::size_t>(i)] != w[i] ? 1 : 0;
  EXPECT_GT(wrong, 100);
}

}  // namespace
