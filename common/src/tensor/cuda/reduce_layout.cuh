// Internal: how a CUDA reduction kernel walks its input. The dims of x are split into kept dims
// (one output element per index) and reduced dims; base(o) is where output o's block starts and
// offset(r) where its r-th reduced element (row-major) lies. Used by reduce_kernels.cuh (sum,
// mean, var, max), so tests/emu compiles it with the host emulator too: no CUDA header here.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gnm/tensor/tensor.hpp"

namespace gnm::kernels::reduction {

struct ReduceLayout {
  int kept_ndim = 0, red_ndim = 0;
  std::int64_t kept_sizes[kMaxDims], kept_strides[kMaxDims];
  std::int64_t red_sizes[kMaxDims], red_strides[kMaxDims];
  std::int64_t n_out = 1, red_n = 1;

  __device__ std::int64_t base(std::int64_t o) const {
    std::int64_t b = 0;
    for (int d = kept_ndim - 1; d >= 0; --d) {
      b += (o % kept_sizes[d]) * kept_strides[d];
      o /= kept_sizes[d];
    }
    return b;
  }
  // Offset of reduced element r (row-major over the reduced dims) from the block's base.
  __device__ std::int64_t offset(std::int64_t r) const {
    std::int64_t off = 0;
    for (int d = red_ndim - 1; d >= 0; --d) {
      off += (r % red_sizes[d]) * red_strides[d];
      r /= red_sizes[d];
    }
    return off;
  }
};

inline ReduceLayout make_layout(const Tensor& x, const std::vector<bool>& reduced) {
  ReduceLayout L{};
  for (std::size_t d = 0; d < x.shape().size(); ++d) {
    if (reduced[d]) {
      L.red_sizes[L.red_ndim] = x.shape()[d];
      L.red_strides[L.red_ndim++] = x.strides()[d];
      L.red_n *= x.shape()[d];
    } else {
      L.kept_sizes[L.kept_ndim] = x.shape()[d];
      L.kept_strides[L.kept_ndim++] = x.strides()[d];
      L.n_out *= x.shape()[d];
    }
  }
  return L;
}

// Blocks for n_out outputs: one each, capped; a grid-stride loop over outputs covers the rest.
inline unsigned grid_for(std::int64_t n_out) {
  return static_cast<unsigned>(std::min<std::int64_t>(n_out, 65535LL * 32));
}

}  // namespace gnm::kernels::reduction
