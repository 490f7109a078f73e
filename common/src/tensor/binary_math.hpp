// Internal: the scalar math of the elementwise binary ops, shared by the CPU kernel
// (cpu/binary.cpp) and the CUDA kernel (cuda/binary.cu) so the two backends cannot drift apart.
// A is the compute type (detail::acc_t of the storage type).
#pragma once

#include <cmath>
#include <type_traits>

#include "gnm/core/macros.hpp"
#include "kernels.hpp"

namespace gnm::kernels {

template <class A>
GNM_HOST_DEVICE inline A binary_arith(BinaryOp op, A x, A y, A alpha) {
  switch (op) {
    case BinaryOp::add: return x + alpha * y;
    case BinaryOp::sub: return x - alpha * y;
    case BinaryOp::mul: return x * y;
    case BinaryOp::div: return x / y;
    case BinaryOp::pow:  // floating dtypes only (checked by the op)
      if constexpr (std::is_floating_point_v<A>) return std::pow(x, y);
      else return A{};
    // NaN propagates as in torch.maximum/minimum; on equal values the first operand wins.
    case BinaryOp::maximum: return (x != x) ? x : (y != y) ? y : (x < y ? y : x);
    case BinaryOp::minimum: return (x != x) ? x : (y != y) ? y : (y < x ? y : x);
    default: return A{};
  }
}

template <class A>
GNM_HOST_DEVICE inline bool binary_compare(BinaryOp op, A x, A y) {
  switch (op) {
    case BinaryOp::eq: return x == y;
    case BinaryOp::ne: return x != y;
    case BinaryOp::lt: return x < y;
    case BinaryOp::le: return x <= y;
    case BinaryOp::gt: return x > y;
    case BinaryOp::ge: return x >= y;
    default: return false;
  }
}

}  // namespace gnm::kernels
