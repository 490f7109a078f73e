#include "gnm/core/host_info.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace gnm {
namespace {

std::string compiler_name() {
#if defined(__clang__)
  return "Clang " __clang_version__;
#elif defined(__GNUC__)
  return "GCC " + std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
         std::to_string(__GNUC_PATCHLEVEL__);
#else
  return "unknown compiler";
#endif
}

std::size_t meminfo_kib(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string name;
  std::size_t value = 0;
  std::string unit;
  while (in >> name >> value >> unit) {
    if (name == key + ":") return value;
  }
  return 0;
}

}  // namespace

std::string cpp_standard_name(long cplusplus) {
  if (cplusplus > 202002L) return "C++23";
  if (cplusplus == 202002L) return "C++20";
  if (cplusplus >= 201703L) return "C++17";
  if (cplusplus >= 201402L) return "C++14";
  return "C++11 or older";
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", bytes, units[u]);
  return buf;
}

HostInfo host_info() {
  HostInfo h;
  h.compiler = compiler_name();
  h.cplusplus = __cplusplus;
  h.logical_cores = static_cast<int>(std::thread::hardware_concurrency());
  h.cpu_model = "unknown";
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  std::string flags;
  while (std::getline(cpuinfo, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name" && h.cpu_model == "unknown") h.cpu_model = value;
    if (key == "flags" && flags.empty()) flags = " " + value + " ";
  }
  for (const char* f : {"avx2", "fma", "avx512f"}) {
    if (flags.find(std::string(" ") + f + " ") != std::string::npos) {
      h.cpu_flags += (h.cpu_flags.empty() ? "" : " ") + std::string(f);
    }
  }
  h.total_memory = meminfo_kib("MemTotal") * 1024;
  h.available_memory = meminfo_kib("MemAvailable") * 1024;
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) == 0) h.hostname = name;
  return h;
}

}  // namespace gnm
