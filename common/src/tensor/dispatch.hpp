// Internal: dtype dispatch and the compute types of the tensor kernels (CPU and CUDA).
//
// GNM_DISPATCH_FLOATING(dtype, "op", [&] { ... scalar_t ... }) runs the lambda with scalar_t set
// to the storage type of `dtype` (float, double, gnm::f16, gnm::bf16) and throws gnm::Error naming
// the op and dtype for any other dtype. GNM_DISPATCH_ALL adds the integer and bool dtypes.
// acc_t<T> is the type arithmetic happens in: float for f32/f16/bf16, double for f64, int64 for
// integers; load()/store() convert between the two.
#pragma once

#include <cstdint>
#include <type_traits>

#include "gnm/core/check.hpp"
#include "gnm/core/dtype.hpp"
#include "gnm/core/half.hpp"
#include "gnm/core/macros.hpp"

namespace gnm::detail {

template <class T> struct AccTypeOf { using type = T; };
template <> struct AccTypeOf<float> { using type = float; };
template <> struct AccTypeOf<double> { using type = double; };
template <> struct AccTypeOf<f16> { using type = float; };
template <> struct AccTypeOf<bf16> { using type = float; };
template <> struct AccTypeOf<std::int32_t> { using type = std::int64_t; };
template <> struct AccTypeOf<std::uint8_t> { using type = std::int64_t; };
template <class T> using acc_t = typename AccTypeOf<T>::type;

// Storage value → compute value.
template <class T>
GNM_HOST_DEVICE inline acc_t<T> load(T v) {
  if constexpr (std::is_same_v<T, f16> || std::is_same_v<T, bf16>)
    return static_cast<float>(v);
  else
    return static_cast<acc_t<T>>(v);
}

// Any arithmetic value → storage value of T (f16/bf16 round to nearest even once).
template <class T, class V>
GNM_HOST_DEVICE inline T store(V v) {
  if constexpr (std::is_same_v<T, f16> || std::is_same_v<T, bf16>)
    return T(static_cast<float>(v));
  else
    return static_cast<T>(v);
}

}  // namespace gnm::detail

#define GNM_DETAIL_DISPATCH_CASE(ENUM, TYPE, ...) \
  case ::gnm::DType::ENUM: {                      \
    using scalar_t = TYPE;                        \
    __VA_ARGS__();                                \
    break;                                        \
  }

#define GNM_DETAIL_FLOATING_CASES(...)                   \
  GNM_DETAIL_DISPATCH_CASE(f32, float, __VA_ARGS__)      \
  GNM_DETAIL_DISPATCH_CASE(f64, double, __VA_ARGS__)     \
  GNM_DETAIL_DISPATCH_CASE(f16, ::gnm::f16, __VA_ARGS__) \
  GNM_DETAIL_DISPATCH_CASE(bf16, ::gnm::bf16, __VA_ARGS__)

#define GNM_DISPATCH_FLOATING(DTYPE, NAME, ...)                                          \
  do {                                                                                   \
    const ::gnm::DType gnm_dispatch_dtype_ = (DTYPE);                                    \
    switch (gnm_dispatch_dtype_) {                                                       \
      GNM_DETAIL_FLOATING_CASES(__VA_ARGS__)                                             \
      default:                                                                           \
        GNM_CHECK(false, "op needs a floating dtype", NAME,                              \
                  ::gnm::dtype_name(gnm_dispatch_dtype_));                               \
    }                                                                                    \
  } while (0)

#define GNM_DISPATCH_ALL(DTYPE, NAME, ...)                                               \
  do {                                                                                   \
    const ::gnm::DType gnm_dispatch_dtype_ = (DTYPE);                                    \
    switch (gnm_dispatch_dtype_) {                                                       \
      GNM_DETAIL_FLOATING_CASES(__VA_ARGS__)                                             \
      GNM_DETAIL_DISPATCH_CASE(i32, std::int32_t, __VA_ARGS__)                           \
      GNM_DETAIL_DISPATCH_CASE(i64, std::int64_t, __VA_ARGS__)                           \
      GNM_DETAIL_DISPATCH_CASE(u8, std::uint8_t, __VA_ARGS__)                            \
      GNM_DETAIL_DISPATCH_CASE(boolean, std::uint8_t, __VA_ARGS__)                       \
      default:                                                                           \
        GNM_CHECK(false, "unknown dtype", NAME, static_cast<int>(gnm_dispatch_dtype_));  \
    }                                                                                    \
  } while (0)
