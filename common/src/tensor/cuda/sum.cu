// CUDA sum over dimensions: one block per output element, a strided walk over the reduced
// elements, then a shared-memory tree. Float accumulation (double for f64): the tree keeps the
// error growth O(log n) instead of O(n).
#include "../dispatch.hpp"
#include "../kernels.hpp"
#include "loops.cuh"

namespace gnm::kernels {

namespace {

constexpr int kSumThreads = 256;

struct ReduceLayout {
  int kept_ndim, red_ndim;
  std::int64_t kept_sizes[kMaxDims], kept_strides[kMaxDims];
  std::int64_t red_sizes[kMaxDims], red_strides[kMaxDims];
  std::int64_t red_n;
};

template <class T, class A>
__global__ void sum_kernel(const T* __restrict__ x, T* __restrict__ out, ReduceLayout L) {
  __shared__ A partial[kSumThreads];
  std::int64_t o = blockIdx.x, base = 0;
  for (int d = L.kept_ndim - 1; d >= 0; --d) {
    base += (o % L.kept_sizes[d]) * L.kept_strides[d];
    o /= L.kept_sizes[d];
  }
  A acc = A(0);
  for (std::int64_t r = threadIdx.x; r < L.red_n; r += blockDim.x) {
    std::int64_t off = 0, rest = r;
    for (int d = L.red_ndim - 1; d >= 0; --d) {
      off += (rest % L.red_sizes[d]) * L.red_strides[d];
      rest /= L.red_sizes[d];
    }
    acc += static_cast<A>(detail::load(x[base + off]));
  }
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (static_cast<int>(threadIdx.x) < s) partial[threadIdx.x] += partial[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = detail::store<T>(partial[0]);
}

}  // namespace

void sum_cuda(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced) {
  ReduceLayout L{};
  std::int64_t n_out = 1;
  L.red_n = 1;
  for (std::size_t d = 0; d < x.shape().size(); ++d) {
    if (reduced[d]) {
      L.red_sizes[L.red_ndim] = x.shape()[d];
      L.red_strides[L.red_ndim++] = x.strides()[d];
      L.red_n *= x.shape()[d];
    } else {
      L.kept_sizes[L.kept_ndim] = x.shape()[d];
      L.kept_strides[L.kept_ndim++] = x.strides()[d];
      n_out *= x.shape()[d];
    }
  }
  if (n_out == 0) return;
  GNM_CHECK(n_out <= 0x7fffffff, "sum: too many outputs for one launch", n_out);
  GNM_DISPATCH_ALL(x.dtype(), "sum", [&] {
    using T = scalar_t;
    using A = detail::acc_t<T>;
    sum_kernel<T, A><<<static_cast<unsigned>(n_out), kSumThreads>>>(
        static_cast<const T*>(x.data_ptr()), static_cast<T*>(out.data_ptr()), L);
    GNM_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace gnm::kernels
