/// \file
/// Where a tensor's storage lives (chapter 9.1): the CPU or one CUDA device.
#pragma once

#include <ostream>
#include <string>

namespace gnm {

/// The kind of memory a Storage lives in.
enum class DeviceType : unsigned char {
  cpu,   ///< Host memory (64-byte aligned).
  cuda,  ///< Global memory of a CUDA device.
};

/// A device: its type and, for CUDA, its ordinal.
struct Device {
  DeviceType type = DeviceType::cpu;  ///< CPU or CUDA.
  int index = 0;                      ///< CUDA ordinal (0 for the CPU).

  /// The host.
  static constexpr Device cpu() { return Device{DeviceType::cpu, 0}; }
  /// CUDA device `i`.
  static constexpr Device cuda(int i = 0) { return Device{DeviceType::cuda, i}; }
  /// True for a CUDA device.
  constexpr bool is_cuda() const { return type == DeviceType::cuda; }
  /// True for the host.
  constexpr bool is_cpu() const { return type == DeviceType::cpu; }
  /// "cpu" or "cuda:N", as PyTorch prints it.
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
  /// Same type and index.
  friend constexpr bool operator==(Device a, Device b) {
    return a.type == b.type && (a.type == DeviceType::cpu || a.index == b.index);
  }
};

/// Prints Device::str().
inline std::ostream& operator<<(std::ostream& os, Device d) { return os << d.str(); }

}  // namespace gnm
