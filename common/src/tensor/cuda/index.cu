// CUDA launchers of the indexing kernels: the index range check, index_select (and embedding),
// index_add, gather and scatter_add. The kernels and functors live in index_kernels.cuh, which
// tests/emu also runs on the CPU with a host emulator.
#include <cstdint>

#include "../dispatch.hpp"
#include "../kernels_nn.hpp"
#include "index_kernels.cuh"
#include "loops.cuh"

namespace gnm::kernels {

namespace {

using Strides = std::span<const std::int64_t>;

using index_detail::blocks_for;
using index_detail::index_add_kernel;
using index_detail::index_select_kernel;
using index_detail::kThreads;

template <class F>
void accumulating_dispatch(DType dtype, const char* op, F&& f) {
  if (dtype == DType::f32)
    f(0.0f);
  else if (dtype == DType::f64)
    f(0.0);
  else
    GNM_CHECK(false, "accumulates in f32 or f64 only", op, dtype_name(dtype));
}

// grad += g scattered along dim at index (T = float or double).
template <class T>
void scatter_add_typed(const Tensor& grad, std::int64_t dim, const Tensor& index, const Tensor& g) {
  Shape ds = grad.strides();
  const std::int64_t step = ds[static_cast<std::size_t>(dim)];
  ds[static_cast<std::size_t>(dim)] = 0;
  const auto* pi = static_cast<const std::int64_t*>(index.data_ptr());
  T* pd = static_cast<T*>(grad.data_ptr());
  const T* pg = static_cast<const T*>(g.data_ptr());
  detail::launch_strided<3>(index.shape(),
                            {Strides(g.strides()), Strides(index.strides()), Strides(ds)},
                            index_detail::ScatterAddOp<T>{pd, pg, pi, step});
}

}  // namespace

std::int64_t first_out_of_range_cuda(const Tensor& index, std::int64_t size) {
  // The smallest bad row-major position, by atomicMin on a word that starts at all ones.
  Tensor result = empty({1}, {.dtype = DType::i64, .device = index.device()});
  auto* pr = static_cast<unsigned long long*>(result.data_ptr());
  GNM_CUDA_CHECK(cudaMemsetAsync(pr, 0xFF, sizeof(unsigned long long)));
  const Shape linear = contiguous_strides(index.shape());
  const auto* pi = static_cast<const std::int64_t*>(index.data_ptr());
  detail::launch_strided<2>(index.shape(), {Strides(linear), Strides(index.strides())},
                            index_detail::FirstOutOfRangeOp{pr, pi, size});
  unsigned long long host = 0;
  GNM_CUDA_CHECK(cudaMemcpy(&host, pr, sizeof host, cudaMemcpyDeviceToHost));
  return host == ~0ULL ? -1 : static_cast<std::int64_t>(host);
}

void index_select_cuda(const Tensor& out, const Tensor& x, const Tensor& index, std::int64_t outer,
                       std::int64_t inner) {
  const std::int64_t total = out.numel();
  if (total == 0) return;
  const std::int64_t n = index.numel(), V = x.numel() / (outer * inner);
  const auto* pi = static_cast<const std::int64_t*>(index.data_ptr());
  auto launch = [&](auto word) {
    using W = decltype(word);
    index_select_kernel<W><<<blocks_for(total), kThreads>>>(
        static_cast<W*>(out.data_ptr()), static_cast<const W*>(x.data_ptr()), pi, total, n, V,
        inner);
    GNM_CUDA_CHECK_LAUNCH();
  };
  switch (x.element_size()) {
    case 1: launch(std::uint8_t{}); break;
    case 2: launch(std::uint16_t{}); break;
    case 4: launch(std::uint32_t{}); break;
    case 8: launch(std::uint64_t{}); break;
    default: GNM_CHECK(false, "index_select: unsupported element size", x.element_size());
  }
}

void index_add_cuda(const Tensor& grad, const Tensor& g, const Tensor& index, std::int64_t outer,
                    std::int64_t inner) {
  const std::int64_t total = g.numel();
  if (total == 0) return;
  const std::int64_t n = index.numel(), V = grad.numel() / (outer * inner);
  const auto* pi = static_cast<const std::int64_t*>(index.data_ptr());
  accumulating_dispatch(grad.dtype(), "index_add", [&](auto zero) {
    using T = decltype(zero);
    index_add_kernel<T><<<blocks_for(total), kThreads>>>(
        static_cast<T*>(grad.data_ptr()), static_cast<const T*>(g.data_ptr()), pi, total, n, V,
        inner);
    GNM_CUDA_CHECK_LAUNCH();
  });
}

void gather_cuda(const Tensor& out, const Tensor& x, std::int64_t dim, const Tensor& index) {
  Shape xs = x.strides();
  const std::int64_t step = xs[static_cast<std::size_t>(dim)];
  xs[static_cast<std::size_t>(dim)] = 0;  // the index supplies the position along dim
  const auto* pi = static_cast<const std::int64_t*>(index.data_ptr());
  GNM_DISPATCH_ALL(x.dtype(), "gather", [&] {
    using T = scalar_t;
    const T* px = static_cast<const T*>(x.data_ptr());
    T* po = static_cast<T*>(out.data_ptr());
    detail::launch_strided<3>(index.shape(),
                              {Strides(out.strides()), Strides(index.strides()), Strides(xs)},
                              index_detail::GatherOp<T>{po, px, pi, step});
  });
}

void scatter_add_cuda(const Tensor& grad, std::int64_t dim, const Tensor& index, const Tensor& g) {
  if (grad.dtype() == DType::f32)
    scatter_add_typed<float>(grad, dim, index, g);
  else if (grad.dtype() == DType::f64)
    scatter_add_typed<double>(grad, dim, index, g);
  else
    GNM_CHECK(false, "scatter_add accumulates in f32 or f64 only", dtype_name(grad.dtype()));
}

}  // namespace gnm::kernels
