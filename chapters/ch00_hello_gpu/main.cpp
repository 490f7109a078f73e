// Chapter 0 — Hello, GPU.
//
// 1. The environment doctor: compiler, C++ standard, CUDA toolkit, driver, devices, OpenBLAS,
//    what is missing and how to fix it (section 0.5 of the book explains every message).
// 2. SAXPY (y <- a x + y) on the GPU when there is one — the kernel is exercise 0.4 — verified
//    against a double-precision CPU reference, timed, and compared with the measured copy
//    bandwidth. Without a GPU it runs on the CPU and says so.
//
//   ch00_hello_gpu [--n 16777216] [--device auto|cpu|cuda] [--repeat 20] [--block 256] [--json F]
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "gnm/core/check.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"
#include "gnm/core/host_info.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/program_report.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/blas.hpp"
#include "gnm/cpu/vector.hpp"
#include "gnm/cuda/device.hpp"
#include "saxpy.hpp"

#if GNM_HAVE_CUDA
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#endif

namespace {

struct Options {
  std::int64_t n = std::int64_t{1} << 24;
  std::string device = "auto";
  int repeat = 20;
  int block = 256;
  float a = 2.0f;
  std::string json;
};

// What one SAXPY run measured.
struct Measurement {
  std::string backend;        // "cuda (NVIDIA H100 ...)" or "cpu (1 thread)"
  double saxpy_ms = 0;        // median over --repeat runs
  double saxpy_gbps = 0;      // 12 bytes per element / time
  double copy_gbps = 0;       // measured copy bandwidth (read + write)
  bool verified = false;
  std::string verify_report;
};

//! [doctor]
// Prints the environment report; returns the list of problems with their fixes.
std::vector<std::string> print_doctor(const gnm::cuda::DeviceReport& cuda) {
  std::vector<std::string> fixes;
  const gnm::HostInfo host = gnm::host_info();
  std::printf("== Environment doctor ==\n");
  std::printf("  compiler       %s, %s\n", host.compiler.c_str(),
              gnm::cpp_standard_name(host.cplusplus).c_str());
  std::printf("  CPU            %s, %d logical cores, SIMD: %s\n", host.cpu_model.c_str(),
              host.logical_cores, host.cpu_flags.empty() ? "none found" : host.cpu_flags.c_str());
  std::printf("  memory         %s total, %s available\n",
              gnm::format_bytes(static_cast<double>(host.total_memory)).c_str(),
              gnm::format_bytes(static_cast<double>(host.available_memory)).c_str());
  if (host.cpu_flags.find("avx2") == std::string::npos ||
      host.cpu_flags.find("fma") == std::string::npos) {
    fixes.push_back("this CPU lacks AVX2/FMA: reconfigure with -DGNM_CPU_ARCH=native (slower GEMM)");
  }

  const gnm::cpu::BlasInfo blas = gnm::cpu::blas_info();
  if (blas.available) {
    std::printf("  BLAS           %s, core %s, %d threads\n                 %s\n", blas.name.c_str(),
                blas.core.c_str(), blas.threads, blas.config.c_str());
  } else {
    std::printf("  BLAS           %s\n", blas.name.c_str());
    fixes.push_back("OpenBLAS is missing: run scripts/setup.sh (Debian package libopenblas-dev)");
  }

  if (!cuda.compiled_with_cuda) {
    std::printf("  CUDA           not compiled in\n");
    fixes.push_back("this build has no CUDA: install the CUDA toolkit (nvcc on PATH) and "
                    "configure with the default preset");
  } else {
    std::printf("  CUDA toolkit   %s (compiled with), runtime %s\n",
                gnm::cuda::format_cuda_version(cuda.toolkit_version).c_str(),
                gnm::cuda::format_cuda_version(cuda.runtime_version).c_str());
    std::printf("  CUDA driver    %s\n",
                cuda.driver_version > 0
                    ? ("supports CUDA " + gnm::cuda::format_cuda_version(cuda.driver_version)).c_str()
                    : "not loaded");
  }
  std::printf("  GPUs           %s\n", cuda.status.c_str());
  for (const auto& d : cuda.devices) {
    std::printf("    [%d] %s: compute capability %d.%d, %d SMs, %s (%s free), L2 %s\n", d.ordinal,
                d.name.c_str(), d.cc_major, d.cc_minor, d.sm_count,
                gnm::format_bytes(static_cast<double>(d.total_memory)).c_str(),
                gnm::format_bytes(static_cast<double>(d.free_memory)).c_str(),
                gnm::format_bytes(static_cast<double>(d.l2_bytes)).c_str());
    if (d.cc_major < 9) {
      fixes.push_back("GPU " + std::to_string(d.ordinal) + " is compute capability " +
                      std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor) +
                      ": this build targets 9.0 (PTX JIT works but is slow to start); "
                      "reconfigure with -DCMAKE_CUDA_ARCHITECTURES=native");
    }
  }
  if (cuda.compiled_with_cuda && cuda.devices.empty()) {
    fixes.push_back(cuda.error_code == 35
                        ? "no NVIDIA driver: GPU code is compiled but cannot run here; on a GPU "
                          "machine install the driver (nvidia-smi must work)"
                        : "no usable GPU: " + cuda.status);
  }
  if (fixes.empty()) {
    std::printf("  status         everything this chapter needs is present\n");
  } else {
    std::printf("  missing / to fix:\n");
    for (const auto& f : fixes) std::printf("    - %s\n", f.c_str());
  }
  return fixes;
}
//! [doctor]

// Bytes the run needs on the host: x, y, the result and the double reference.
constexpr std::int64_t kHostBytesPerElement = 4 + 4 + 4 + 8;
// Bytes on the device: x and y.
constexpr std::int64_t kDeviceBytesPerElement = 4 + 4;

void check_fits(std::int64_t n, std::int64_t bytes_per_element, std::size_t available,
                const char* where) {
  if (n > std::numeric_limits<std::int64_t>::max() / bytes_per_element) {
    throw gnm::Error("--n " + std::to_string(n) + " is too large: its byte count overflows");
  }
  const auto need = static_cast<double>(n) * static_cast<double>(bytes_per_element);
  if (available > 0 && need > static_cast<double>(available)) {
    throw gnm::Error("--n " + std::to_string(n) + " needs " + gnm::format_bytes(need) + " of " +
                     where + " memory but only " +
                     gnm::format_bytes(static_cast<double>(available)) +
                     " is available; choose a smaller --n");
  }
}

Measurement run_cpu(const Options& opt, const std::vector<float>& x, const std::vector<float>& y0,
                    const std::vector<double>& ref) {
  Measurement m;
  m.backend = "cpu (1 thread)";
  std::vector<float> y = y0;
  gnm::cpu::saxpy(opt.a, x, y);
  const auto r = gnm::compare(y, ref, gnm::cpu::saxpy_tolerance(opt.a));
  m.verified = r.ok;
  m.verify_report = r.report;

  std::vector<double> saxpy_ms, copy_ms;
  std::vector<float> dst(x.size());
  for (int i = 0; i < opt.repeat; ++i) {
    gnm::HostTimer t;
    gnm::cpu::saxpy(opt.a, x, y);
    saxpy_ms.push_back(t.elapsed_ms());
    t.reset();
    std::memcpy(dst.data(), x.data(), x.size() * sizeof(float));
    copy_ms.push_back(t.elapsed_ms());
  }
  const double n = static_cast<double>(x.size());
  m.saxpy_ms = gnm::summarize(saxpy_ms).median_ms;
  m.saxpy_gbps = 12.0 * n / (m.saxpy_ms * 1e6);
  // Note [Write-allocate]: a CPU store to a line that is not in cache first reads the line ("read
  // for ownership"), so copying n floats moves 12 bytes per element, not 8: read the source, read
  // the destination, write it back. SAXPY reads y anyway, so its 12 bytes have no hidden traffic.
  m.copy_gbps = 12.0 * n / (gnm::summarize(copy_ms).median_ms * 1e6);
  return m;
}

#if GNM_HAVE_CUDA
//! [gpu_run]
Measurement run_cuda(const Options& opt, const gnm::cuda::DeviceInfo& dev,
                     const std::vector<float>& x, const std::vector<float>& y0,
                     const std::vector<double>& ref) {
  Measurement m;
  m.backend = "cuda (" + dev.name + ")";
  GNM_CUDA_CHECK(cudaSetDevice(dev.ordinal));
  const std::size_t n = x.size();
  gnm::cuda::DeviceBuffer<float> d_x(n), d_y(n);
  d_x.copy_from_host(x);
  d_y.copy_from_host(y0);
  gnm::cuda::Stream stream;

  // One run on fresh data for verification.
  gnm::ch00::saxpy_cuda(opt.a, d_x.data(), d_y.data(), opt.n, opt.block, stream.get());
  stream.synchronize();
  std::vector<float> y(n);
  d_y.copy_to_host(y);
  const auto r = gnm::compare(y, ref, gnm::cpu::saxpy_tolerance(opt.a));
  m.verified = r.ok;
  m.verify_report = r.report;

  // Timing: CUDA events around each launch; y keeps growing, which does not change the speed.
  std::vector<double> saxpy_ms, copy_ms;
  gnm::cuda::EventTimer timer(stream.get());
  for (int i = 0; i < opt.repeat; ++i) {
    timer.start();
    gnm::ch00::saxpy_cuda(opt.a, d_x.data(), d_y.data(), opt.n, opt.block, stream.get());
    saxpy_ms.push_back(timer.stop());
    timer.start();
    GNM_CUDA_CHECK(cudaMemcpyAsync(d_y.data(), d_x.data(), d_x.bytes(), cudaMemcpyDeviceToDevice,
                                   stream.get()));
    copy_ms.push_back(timer.stop());
  }
  const double dn = static_cast<double>(n);
  m.saxpy_ms = gnm::summarize(saxpy_ms).median_ms;
  m.saxpy_gbps = 12.0 * dn / (m.saxpy_ms * 1e6);
  m.copy_gbps = 8.0 * dn / (gnm::summarize(copy_ms).median_ms * 1e6);
  return m;
}
//! [gpu_run]
#endif

//! [json]
// The measurements as a results file for book/results/ (scripts/gen_book_results.py makes the
// book's tables from these files).
std::string to_json(const Options& opt, const Measurement& m, const gnm::cuda::DeviceReport& cuda) {
  using gnm::json_number;
  using gnm::json_quote;
  const std::string date = gnm::utc_timestamp();
  const gnm::HostInfo host = gnm::host_info();
  const std::string gpu = cuda.devices.empty() ? "none" : cuda.devices.front().name;
  std::ostringstream j;
  j << "{\n  \"program\": \"ch00_hello_gpu\",\n  \"date\": " << json_quote(date) << ",\n"
    << "  \"machine\": {\"cpu\": " << json_quote(host.cpu_model)
    << ", \"cores\": " << host.logical_cores << ", \"gpu\": " << json_quote(gpu)
    << ", \"driver\": " << json_quote(gnm::cuda::format_cuda_version(cuda.driver_version))
    << "},\n  \"backend\": " << json_quote(m.backend) << ",\n"
    << "  \"parameters\": {\"n\": " << opt.n << ", \"repeat\": " << opt.repeat
    << ", \"block\": " << opt.block << "},\n"
    << "  \"figures\": {\"saxpy_ms\": " << json_number(m.saxpy_ms)
    << ", \"saxpy_GBps\": " << json_number(m.saxpy_gbps)
    << ", \"copy_GBps\": " << json_number(m.copy_gbps)
    << ", \"saxpy_over_copy\": " << json_number(m.saxpy_gbps / m.copy_gbps) << "},\n"
    << "  \"verified\": " << (m.verified ? "true" : "false") << "\n}\n";
  return j.str();
}
//! [json]

int run(const Options& opt) {
  if (opt.n < 1) throw gnm::Error("--n must be at least 1, got " + std::to_string(opt.n));
  if (opt.repeat < 1) {
    throw gnm::Error("--repeat must be at least 1, got " + std::to_string(opt.repeat));
  }
  if (opt.device != "auto" && opt.device != "cpu" && opt.device != "cuda") {
    throw gnm::Error("--device must be auto, cpu or cuda, got '" + opt.device + "'");
  }

  const gnm::cuda::DeviceReport cuda = gnm::cuda::query_devices();
  print_doctor(cuda);

  const bool have_gpu = !cuda.devices.empty();
  if (opt.device == "cuda" && !have_gpu) {
    throw gnm::Error("--device cuda was requested but there is no usable GPU: " + cuda.status);
  }
  const bool use_gpu = have_gpu && opt.device != "cpu";
  check_fits(opt.n, kHostBytesPerElement, gnm::host_info().available_memory, "host");
  if (use_gpu) {
    check_fits(opt.n, kDeviceBytesPerElement, cuda.devices.front().free_memory, "device");
  }
  (void)gnm::ch00::saxpy_launch_config(opt.n, opt.block);  // rejects a bad --block early

  std::printf("\n== SAXPY: y <- %g * x + y, n = %lld ==\n", static_cast<double>(opt.a),
              static_cast<long long>(opt.n));
  if (!use_gpu) {
    std::printf("  %s: running on the CPU instead.\n",
                have_gpu ? "--device cpu" : "No GPU available");
  }
  const auto n = static_cast<std::size_t>(opt.n);
  std::vector<float> x(n), y(n);
  gnm::fill_uniform(x, /*seed=*/42, -1.0f, 1.0f);
  gnm::fill_uniform(y, /*seed=*/43, -1.0f, 1.0f);
  std::vector<double> ref(n);
  gnm::cpu::saxpy_reference(opt.a, x, y, ref);

  Measurement m;
#if GNM_HAVE_CUDA
  if (use_gpu) {
    m = run_cuda(opt, cuda.devices.front(), x, y, ref);
  } else {
    m = run_cpu(opt, x, y, ref);
  }
#else
  m = run_cpu(opt, x, y, ref);
#endif

  std::printf("  backend        %s\n", m.backend.c_str());
  std::printf("  saxpy          %.4f ms (median of %d), %.1f GB/s\n", m.saxpy_ms, opt.repeat,
              m.saxpy_gbps);
  std::printf("  copy           %.1f GB/s (measured: %s)\n", m.copy_gbps,
              use_gpu ? "cudaMemcpy device to device, read + write"
                      : "memcpy, read + read-for-ownership + write");
  std::printf("  saxpy / copy   %.0f %%\n", 100.0 * m.saxpy_gbps / m.copy_gbps);
  std::printf("  check          %s\n", m.verify_report.c_str());
  if (!opt.json.empty()) {
    gnm::write_file_atomic(opt.json, to_json(opt, m, cuda));
    std::printf("  results        written to %s\n", opt.json.c_str());
  }
  std::printf("Verification: %s\n", m.verified ? "PASSED" : "FAILED");
  return m.verified ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 0: environment doctor and SAXPY, the first GPU program"};
  Options opt;
  app.add_option("--n", opt.n, "number of elements")->capture_default_str();
  app.add_option("--device", opt.device, "auto, cpu or cuda")->capture_default_str();
  app.add_option("--repeat", opt.repeat, "timed runs (the median is reported)")->capture_default_str();
  app.add_option("--block", opt.block, "threads per block (multiple of 32, at most 1024)")
      ->capture_default_str();
  app.add_option("--json", opt.json, "also write the measurements to this JSON file");
  return gnm::run_cli<CLI::ParseError>(app, argc, argv, [&] { return run(opt); });
}
