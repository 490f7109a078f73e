// CPU indexing kernels: index_select (and embedding), its backward index_add, gather, and its
// backward scatter_add, plus the range check every indexing op runs first.
//
// index_select moves whole rows of `inner` elements with memcpy, whatever the dtype: an
// embedding lookup of (B·T) rows of D floats is B·T copies of 4·D bytes. The backwards add into
// an f32/f64 buffer (the op converts 16-bit gradients), duplicated indices accumulating: each
// task owns a range of columns (index_add) or runs alone (scatter_add), so no two threads ever
// add into one element.
#include <cstring>

#include "../dispatch.hpp"
#include "../kernels_nn.hpp"
#include "gnm/core/thread_pool.hpp"
#include "loops.hpp"

namespace gnm::kernels {

namespace {

using Strides = std::span<const std::int64_t>;

// Columns per index_add task: 256 floats = 1 KiB, long enough for the vector loop to dominate.
constexpr std::int64_t kColumnChunk = 256;

// Runs f(T{}) with T = float or double: the accumulating kernels only see those (the ops convert
// 16-bit gradients to f32 first).
template <class F>
void accumulating_dispatch(DType dtype, const char* op, F&& f) {
  if (dtype == DType::f32)
    f(0.0f);
  else if (dtype == DType::f64)
    f(0.0);
  else
    GNM_CHECK(false, "accumulates in f32 or f64 only", op, dtype_name(dtype));
}

}  // namespace

std::int64_t first_out_of_range_cpu(const Tensor& index, std::int64_t size) {
  const Tensor c = index.contiguous();
  const std::int64_t* p = c.data<std::int64_t>();
  for (std::int64_t i = 0; i < c.numel(); ++i)
    if (p[i] < 0 || p[i] >= size) return i;
  return -1;
}

void index_select_cpu(const Tensor& out, const Tensor& x, const Tensor& index, std::int64_t outer,
                      std::int64_t inner) {
  const std::int64_t n = index.numel();
  if (out.numel() == 0) return;
  const std::int64_t V = x.numel() / (outer * inner);
  const std::size_t row_bytes = static_cast<std::size_t>(inner) * x.element_size();
  const auto* src = static_cast<const unsigned char*>(x.data_ptr());
  auto* dst = static_cast<unsigned char*>(out.data_ptr());
  const std::int64_t* idx = index.data<std::int64_t>();
  auto rows = [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {  // r = o·n + k
      const std::int64_t o = r / n, k = r % n;
      std::memcpy(dst + static_cast<std::size_t>(r) * row_bytes,
                  src + static_cast<std::size_t>(o * V + idx[k]) * row_bytes, row_bytes);
    }
  };
  const std::int64_t total = outer * n;
  if (total > 1 && total * inner >= detail::kParallelGrain) {
    default_thread_pool().parallel_for(
        0, total, std::max<std::int64_t>(1, detail::kParallelGrain / inner), rows);
  } else {
    rows(0, total);
  }
}

void index_add_cpu(const Tensor& grad, const Tensor& g, const Tensor& index, std::int64_t outer,
                   std::int64_t inner) {
  if (g.numel() == 0) return;
  accumulating_dispatch(grad.dtype(), "index_add", [&](auto zero) {
    using T = decltype(zero);
    const std::int64_t n = index.numel();
    const std::int64_t V = grad.numel() / (outer * inner);
    const std::int64_t* idx = index.data<std::int64_t>();
    const std::int64_t chunks = (inner + kColumnChunk - 1) / kColumnChunk;
    T* pd = static_cast<T*>(grad.data_ptr());
    const T* pg = static_cast<const T*>(g.data_ptr());
    auto tasks = [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t t = lo; t < hi; ++t) {
        const std::int64_t o = t / chunks;
        const std::int64_t c0 = (t % chunks) * kColumnChunk;
        const std::int64_t c1 = std::min(inner, c0 + kColumnChunk);
        for (std::int64_t k = 0; k < n; ++k) {
          T* d = pd + (o * V + idx[k]) * inner;
          const T* s = pg + (o * n + k) * inner;
          for (std::int64_t c = c0; c < c1; ++c) d[c] += s[c];
        }
      }
    };
    const std::int64_t total = outer * chunks;
    if (total > 1 && g.numel() >= detail::kParallelGrain)
      default_thread_pool().parallel_for(0, total, 1, tasks);
    else
      tasks(0, total);
  });
}

void gather_cpu(const Tensor& out, const Tensor& x, std::int64_t dim, const Tensor& index) {
  Shape xs = x.strides();
  const std::int64_t step = xs[static_cast<std::size_t>(dim)];
  xs[static_cast<std::size_t>(dim)] = 0;  // the index supplies the position along dim
  const std::int64_t* pi = index.data<std::int64_t>();
  GNM_DISPATCH_ALL(x.dtype(), "gather", [&] {
    using T = scalar_t;
    const T* px = static_cast<const T*>(x.data_ptr());
    T* po = static_cast<T*>(out.data_ptr());
    detail::for_each_strided<3>(
        index.shape(), {Strides(out.strides()), Strides(index.strides()), Strides(xs)},
        [&](const std::array<std::int64_t, 3>& off, const std::array<std::int64_t, 3>& st,
            std::int64_t count) {
          for (std::int64_t k = 0; k < count; ++k)
            po[off[0] + k * st[0]] = px[off[2] + k * st[2] + pi[off[1] + k * st[1]] * step];
        });
  });
}

void scatter_add_cpu(const Tensor& grad, std::int64_t dim, const Tensor& index, const Tensor& g) {
  if (index.numel() == 0) return;
  Shape ds = grad.strides();
  const std::int64_t step = ds[static_cast<std::size_t>(dim)];
  ds[static_cast<std::size_t>(dim)] = 0;
  const std::int64_t* pi = index.data<std::int64_t>();
  const auto layout = detail::coalesce<3>(
      index.shape(), {Strides(g.strides()), Strides(index.strides()), Strides(ds)});
  accumulating_dispatch(grad.dtype(), "scatter_add", [&](auto zero) {
    using T = decltype(zero);
    T* pd = static_cast<T*>(grad.data_ptr());
    const T* pg = static_cast<const T*>(g.data_ptr());
    // One thread: two index elements may name the same destination.
    auto f = [&](const std::array<std::int64_t, 3>& off, const std::array<std::int64_t, 3>& st,
                 std::int64_t count) {
      for (std::int64_t k = 0; k < count; ++k)
        pd[off[2] + k * st[2] + pi[off[1] + k * st[1]] * step] += pg[off[0] + k * st[0]];
    };
    detail::run_chunk<3>(layout, 0, index.numel(), f);
  });
}

}  // namespace gnm::kernels
