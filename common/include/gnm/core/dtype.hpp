/// \file
/// Element types of tensors (chapter 9.1): the eight dtypes the engine stores, their sizes, names
/// and the safetensors spellings used by checkpoints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string_view>

#include "gnm/core/half.hpp"

namespace gnm {

/// The element type of a tensor. The order is fixed (it is stored in files and switch tables).
enum class DType : std::uint8_t {
  f32,      ///< IEEE binary32, the default.
  f64,      ///< IEEE binary64: references and gradcheck.
  f16,      ///< IEEE binary16 (gnm::f16).
  bf16,     ///< bfloat16: binary32's exponent, 7 mantissa bits (gnm::bf16).
  i32,      ///< 32-bit signed integer.
  i64,      ///< 64-bit signed integer (indices, labels).
  u8,       ///< 8-bit unsigned integer (raw images, quantized data).
  boolean,  ///< One byte per element, 0 or 1 (masks, comparison results).
};

/// Number of dtypes, for tables indexed by DType.
inline constexpr int kNumDTypes = 8;

/// Bytes per element of `t`.
constexpr std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::f16: return 2;
    case DType::bf16: return 2;
    case DType::i32: return 4;
    case DType::i64: return 8;
    case DType::u8: return 1;
    case DType::boolean: return 1;
  }
  return 0;
}

/// The PyTorch-style name: "float32", "float64", "float16", "bfloat16", "int32", "int64", "uint8", "bool".
constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::f16: return "float16";
    case DType::bf16: return "bfloat16";
    case DType::i32: return "int32";
    case DType::i64: return "int64";
    case DType::u8: return "uint8";
    case DType::boolean: return "bool";
  }
  return "?";
}

/// The safetensors header spelling: "F32", "F64", "F16", "BF16", "I32", "I64", "U8", "BOOL".
constexpr std::string_view dtype_safetensors_name(DType t) {
  switch (t) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::f16: return "F16";
    case DType::bf16: return "BF16";
    case DType::i32: return "I32";
    case DType::i64: return "I64";
    case DType::u8: return "U8";
    case DType::boolean: return "BOOL";
  }
  return "?";
}

/// Parses a safetensors dtype spelling; returns false (and leaves `out`) for any other string.
constexpr bool dtype_from_safetensors_name(std::string_view s, DType& out) {
  for (int i = 0; i < kNumDTypes; ++i) {
    const auto t = static_cast<DType>(i);
    if (dtype_safetensors_name(t) == s) {
      out = t;
      return true;
    }
  }
  return false;
}

/// True for f32, f64, f16 and bf16: the dtypes that can carry gradients.
constexpr bool is_floating(DType t) {
  return t == DType::f32 || t == DType::f64 || t == DType::f16 || t == DType::bf16;
}

/// Prints the PyTorch-style name.
inline std::ostream& operator<<(std::ostream& os, DType t) { return os << dtype_name(t); }

/// The C++ type stored for each dtype (bool is stored as one byte, like PyTorch).
template <DType T> struct DTypeTraits;
/// float32 ↔ float.
template <> struct DTypeTraits<DType::f32> { using type = float; /**< The stored type. */ };
/// float64 ↔ double.
template <> struct DTypeTraits<DType::f64> { using type = double; /**< The stored type. */ };
/// float16 ↔ gnm::f16.
template <> struct DTypeTraits<DType::f16> { using type = f16; /**< The stored type. */ };
/// bfloat16 ↔ gnm::bf16.
template <> struct DTypeTraits<DType::bf16> { using type = bf16; /**< The stored type. */ };
/// int32 ↔ std::int32_t.
template <> struct DTypeTraits<DType::i32> { using type = std::int32_t; /**< The stored type. */ };
/// int64 ↔ std::int64_t.
template <> struct DTypeTraits<DType::i64> { using type = std::int64_t; /**< The stored type. */ };
/// uint8 ↔ std::uint8_t.
template <> struct DTypeTraits<DType::u8> { using type = std::uint8_t; /**< The stored type. */ };
/// bool ↔ std::uint8_t holding 0 or 1.
template <> struct DTypeTraits<DType::boolean> { using type = std::uint8_t; /**< The stored type. */ };

/// The dtype of a C++ element type (float → f32, …); bool-as-byte has no reverse mapping (u8).
template <class T> constexpr DType dtype_of();
/// float → f32.
template <> constexpr DType dtype_of<float>() { return DType::f32; }
/// double → f64.
template <> constexpr DType dtype_of<double>() { return DType::f64; }
/// gnm::f16 → f16.
template <> constexpr DType dtype_of<f16>() { return DType::f16; }
/// gnm::bf16 → bf16.
template <> constexpr DType dtype_of<bf16>() { return DType::bf16; }
/// std::int32_t → i32.
template <> constexpr DType dtype_of<std::int32_t>() { return DType::i32; }
/// std::int64_t → i64.
template <> constexpr DType dtype_of<std::int64_t>() { return DType::i64; }
/// std::uint8_t → u8.
template <> constexpr DType dtype_of<std::uint8_t>() { return DType::u8; }

}  // namespace gnm
