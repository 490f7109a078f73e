/// \file
/// What machine and toolchain a program runs on: printed by chapter 0's doctor and recorded with
/// every benchmark result.
#pragma once

#include <cstddef>
#include <string>

namespace gnm {

/// Facts about the host and the compiler that built the engine.
struct HostInfo {
  std::string compiler;       ///< e.g. "GCC 12.2.0".
  long cplusplus = 0;         ///< The __cplusplus value the engine was compiled with (202002).
  std::string cpu_model;      ///< /proc/cpuinfo "model name", or "unknown".
  int logical_cores = 0;      ///< std::thread::hardware_concurrency().
  std::size_t total_memory = 0;      ///< Physical memory in bytes (0 when unknown).
  std::size_t available_memory = 0;  ///< Memory available to new allocations (0 when unknown).
  std::string cpu_flags;      ///< SIMD features this CPU has among avx2, fma, avx512f.
  std::string hostname;       ///< The machine's host name.
};

/// Reads the host facts (never throws; unknown fields stay empty or 0).
HostInfo host_info();

/// "C++20" for 202002, "C++17" for 201703 and so on.
std::string cpp_standard_name(long cplusplus);

/// Formats a byte count as "1.50 GiB", "512 KiB", "12 B".
std::string format_bytes(double bytes);

}  // namespace gnm
