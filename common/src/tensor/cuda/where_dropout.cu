// CUDA kernels of where and dropout; the dropout mask is the CPU's, bit for bit
// (Note [Dropout mask recomputation] in ops_where_dropout.cpp).
#include "../dispatch.hpp"
#include "../kernels_unary.hpp"
#include "loops.cuh"

namespace gnm::kernels {

namespace {
using Strides = std::span<const std::int64_t>;
using Off4 = detail::OffsetArray<4>;
}  // namespace

void where_cuda(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  const std::array<Strides, 4> strides{Strides(out.strides()), Strides(cond.strides()),
                                       Strides(a.strides()), Strides(b.strides())};
  const auto* pc = static_cast<const std::uint8_t*>(cond.data_ptr());
  GNM_DISPATCH_ALL(a.dtype(), "where", [&] {
    using T = scalar_t;
    const T* pa = static_cast<const T*>(a.data_ptr());
    const T* pb = static_cast<const T*>(b.data_ptr());
    T* po = static_cast<T*>(out.data_ptr());
    detail::launch_strided<4>(out.shape(), strides, [=] __device__(const Off4& o) {
      po[o[0]] = pc[o[1]] != 0 ? pa[o[2]] : pb[o[3]];
    });
  });
}

// Philox4x32-10 is ~10 rounds × 6 integer instructions ≈ 60 per call, and one call yields four
// mask elements: one thread per four elements keeps that at ~15 instructions per element, which an
// H100 (132 SMs × 64 INT32 lanes × 1.7 GHz ≈ 14 T instr/s) runs at ~1 T elements/s, above the
// ~375 G elements/s that 8 bytes per element (f32 read + write) allow at 3 TB/s. One call per
// element would make the mask, not memory, the limit.
namespace {

template <class T>
__global__ void dropout_kernel(std::int64_t n, detail::DeviceLayout<1> x_layout, bool x_contiguous,
                               const T* px, T* po, PhiloxRng rng, double p,
                               detail::acc_t<T> scale) {
  using A = detail::acc_t<T>;
  const std::int64_t n_blocks = (n + PhiloxRng::kBlockSize - 1) / PhiloxRng::kBlockSize;
  const std::int64_t step = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t blk = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       blk < n_blocks; blk += step) {
    const U32x4 bits = rng.block(static_cast<std::uint64_t>(blk));
    for (int lane = 0; lane < PhiloxRng::kBlockSize; ++lane) {
      const std::int64_t i = blk * PhiloxRng::kBlockSize + lane;  // row-major index = out offset
      if (i >= n) break;
      // Same test as math::dropout_keep: uniform(i) >= p, compared in double.
      const bool keep = static_cast<double>(uniform_from_bits(bits.v[lane])) >= p;
      const std::int64_t xi = x_contiguous ? i : x_layout.offsets(i)[0];
      po[i] = keep ? detail::store<T>(detail::load(px[xi]) * scale) : detail::store<T>(A(0));
    }
  }
}

}  // namespace

void dropout_cuda(const Tensor& out, const Tensor& x, std::uint64_t seed,
                  std::uint64_t subsequence, double p, double scale) {
  const std::int64_t n = out.numel();
  const detail::StridedLayout<1> L =
      detail::coalesce<1>(x.shape(), std::array<Strides, 1>{Strides(x.strides())});
  detail::DeviceLayout<1> layout{};
  layout.ndim = L.ndim;
  for (int d = 0; d < L.ndim; ++d) {
    layout.sizes[d] = L.sizes[d];
    layout.strides[0][d] = L.strides[0][d];
  }
  const bool contiguous = x.is_contiguous();
  const PhiloxRng rng(seed, subsequence);
  constexpr int kThreads = 256;
  const std::int64_t n_blocks = (n + PhiloxRng::kBlockSize - 1) / PhiloxRng::kBlockSize;
  const auto grid =
      static_cast<unsigned>(std::min<std::int64_t>((n_blocks + kThreads - 1) / kThreads, 4096));
  GNM_DISPATCH_FLOATING(x.dtype(), "dropout", [&] {
    using T = scalar_t;
    dropout_kernel<T><<<grid, kThreads>>>(n, layout, contiguous,
                                          static_cast<const T*>(x.data_ptr()),
                                          static_cast<T*>(out.data_ptr()), rng, p,
                                          static_cast<detail::acc_t<T>>(scale));
    GNM_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace gnm::kernels
