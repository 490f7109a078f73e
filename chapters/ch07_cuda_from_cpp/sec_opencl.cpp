// 7.3 A portable backend: the same vector and GEMM kernels in OpenCL C (common/src/opencl/kernels),
// run through gnm::opencl on every OpenCL device there is — PoCL on the CPU here and in CI,
// NVIDIA's OpenCL on a GPU machine — against double references, timed with the queue's profiling
// events, and set beside the engine's own CPU SGEMM.
//
// Reproduce the book's table: ch07_cuda_from_cpp --section 7.3 --json FILE
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/thread_pool.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/gemm.hpp"
#include "gnm/opencl/context.hpp"
#include "gnm/opencl/device.hpp"
#include "gnm/opencl/kernels.hpp"
#include "sections.hpp"

namespace chapter07 {
namespace {

namespace ocl = gnm::opencl;
using namespace gnm::cells;

constexpr double kUnitRoundoff = gnm::kEpsF32 / 2.0;  // u = 2^-24

// Rows name the device by its platform's short form and its name ("PoCL: pthread-...").
std::string device_label(const ocl::DeviceInfo& d) {
  const std::string platform =
      d.platform_name == "Portable Computing Language" ? "PoCL" : d.platform_name;
  return platform + ": " + d.name;
}

Table device_table(const std::vector<ocl::DeviceInfo>& devices) {
  Table t("7.3 OpenCL devices", {"platform", "device", "type", "compute units", "MHz", "global MiB",
                                 "local KiB", "max work-group", "OpenCL C", "SPIR-V", "SPIR"});
  for (const auto& d : devices) {
    t.add({str(d.platform_name), str(d.name), str(ocl::device_type_name(d.type)),
           integer(d.compute_units), integer(d.max_clock_mhz),
           integer(static_cast<std::int64_t>(d.global_mem_bytes >> 20)),
           integer(static_cast<std::int64_t>(d.local_mem_bytes >> 10)),
           integer(static_cast<std::int64_t>(d.max_work_group_size)), str(d.opencl_c_version),
           yes_no(d.accepts_spirv()), yes_no(d.accepts_spir())});
  }
  return t;
}

// How far the worst element of C is from the reference, as a fraction of its error bound
// `factor` · mass (so <= 1 passes).
double worst_ratio(const std::vector<float>& c, const std::vector<double>& ref,
                   const std::vector<double>& mass, double factor) {
  double worst = 0.0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    const double bound = factor * mass[i] + 1e-30;
    const double r = std::fabs(static_cast<double>(c[i]) - ref[i]) / bound;
    worst = std::isnan(r) ? std::numeric_limits<double>::infinity() : std::max(worst, r);
  }
  return worst;
}

// saxpy: y = a x + y, 12 bytes per element. Verified once on fresh y, then timed.
void run_saxpy(ocl::Context& ctx, const std::string& label, std::int64_t n, int repeats, Table& t,
               Section& s) {
  std::vector<float> x(static_cast<std::size_t>(n)), y(x.size());
  gnm::fill_uniform(x, 301, -1.0f, 1.0f);
  gnm::fill_uniform(y, 302, -1.0f, 1.0f);
  const float a = 2.0f;
  std::vector<double> ref(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    ref[i] = static_cast<double>(a) * static_cast<double>(x[i]) + static_cast<double>(y[i]);
  auto out = y;
  ocl::saxpy(ctx, a, x, out);  // also compiles the program (cached in ctx)
  // fma(a, x, y) rounds once, a separate multiply and add twice: 2u (|a x| + |y|) <= 2u (|a| + 1).
  const auto cmp = gnm::compare(out, ref, gnm::Tolerance{2 * kUnitRoundoff * (2.0 + 1.0), 0.0});
  if (!cmp.ok) std::printf("7.3 saxpy on %s: %s\n", label.c_str(), cmp.report.c_str());
  std::vector<double> kernel_ms, call_ms;
  for (int r = 0; r < repeats; ++r) {
    const auto timing = ocl::saxpy(ctx, a, x, out);
    kernel_ms.push_back(timing.kernel_ms);
    call_ms.push_back(timing.total_ms);
  }
  const double k = gnm::summarize(kernel_ms).median_ms;
  const double gbs = 12.0 * static_cast<double>(n) / (k * 1e6);
  t.add({str(label), integer(n), num(k, 4), num(gbs), num(gnm::summarize(call_ms).median_ms, 4),
         flag(cmp.ok)});
  s.verified = s.verified && cmp.ok;
}

struct GemmInputs {
  std::int64_t n = 0;
  std::vector<float> A, B;
  std::vector<double> ref, mass;
};

GemmInputs make_gemm(std::int64_t n) {
  GemmInputs g;
  g.n = n;
  g.A.resize(static_cast<std::size_t>(n * n));
  g.B.resize(g.A.size());
  gnm::fill_uniform(g.A, 303 + static_cast<std::uint64_t>(n), -1.0f, 1.0f);
  gnm::fill_uniform(g.B, 304 + static_cast<std::uint64_t>(n), -1.0f, 1.0f);
  g.ref.resize(g.A.size());
  g.mass.resize(g.A.size());
  gnm::cpu::sgemm_reference(n, n, n, g.A.data(), n, g.B.data(), n, g.ref, g.mass);
  return g;
}

//! [opencl_sgemm]
// One OpenCL SGEMM variant at one size: verified against the double reference within the
// kernels' documented bound (K + 3) u · mass, then the median kernel time of the profiled event.
double run_ocl_gemm(ocl::Context& ctx, const std::string& label, ocl::SgemmVariant variant,
                    const GemmInputs& g, int repeats, double engine_ms, Table& t, Section& s) {
  const std::int64_t n = g.n;
  std::vector<float> C(
      g.ref.size(), std::numeric_limits<float>::quiet_NaN());  // beta = 0 must overwrite the NaNs
  ocl::sgemm(ctx, variant, n, n, n, 1.0f, g.A, g.B, 0.0f, C);
  const double ratio = worst_ratio(C, g.ref, g.mass, (static_cast<double>(n) + 3) * kUnitRoundoff);
  std::vector<double> kernel_ms, call_ms;
  for (int r = 0; r < repeats; ++r) {
    const auto timing = ocl::sgemm(ctx, variant, n, n, n, 1.0f, g.A, g.B, 0.0f, C);
    kernel_ms.push_back(timing.kernel_ms);
    call_ms.push_back(timing.total_ms);
  }
  const double k = gnm::summarize(kernel_ms).median_ms;
  const double gflops = 2.0 * static_cast<double>(n * n * n) / (k * 1e6);
  t.add({str(label), str(ocl::sgemm_variant_name(variant)), integer(n), num(k, 4), num(gflops),
         num(gnm::summarize(call_ms).median_ms, 4), num(engine_ms / k), num(ratio),
         flag(ratio <= 1.0)});
  s.verified = s.verified && ratio <= 1.0;
  return gflops;
}
//! [opencl_sgemm]

}  // namespace

Section run_opencl(const Config& cfg) {
  Section s;
  std::vector<ocl::DeviceInfo> devices;
  std::string why;
  try {
    devices = ocl::devices();
    if (devices.empty()) {
      why = "no OpenCL platform (install pocl-opencl-icd for the CPU, or a GPU driver's ICD)";
    }
  } catch (const gnm::NotImplemented& e) {
    why = std::string("this build has no OpenCL (install ") + ocl::kOpenClPackages +
          " and configure again)";
  }
  if (!why.empty()) {
    std::printf("7.3 skipped: %s\n", why.c_str());
    Table t("7.3 OpenCL devices", {"status"});
    t.add({str("skipped: " + why)});
    s.json = t.json_member();
    return s;
  }
  s.add(device_table(devices));

  const int repeats = cfg.repeats(3, 2);
  const std::int64_t saxpy_n = cfg.quick ? (1 << 18) : (1 << 24);
  const std::vector<std::int64_t> sizes =
      cfg.quick ? std::vector<std::int64_t>{67, 128} : std::vector<std::int64_t>{255, 512, 1024};
  std::vector<GemmInputs> gemms;
  for (const auto n : sizes) gemms.push_back(make_gemm(n));

  // The engine's CPU SGEMM on the same inputs: the baseline each OpenCL time is divided into.
  const int threads = gnm::default_thread_pool().size();
  const std::string engine_label = "engine CPU sgemm (" + std::to_string(threads) + " threads)";
  const std::string engine_kernel = gnm::cpu::sgemm_config().kernel;
  Table gemm_table("7.3 OpenCL SGEMM",
                   {"device", "kernel", "M=N=K", "kernel ms", "GFLOP/s", "call ms",
                    "speed vs engine CPU", "error / bound", "verified"});
  std::vector<double> engine_ms;
  for (const auto& g : gemms) {
    const std::int64_t n = g.n;
    std::vector<float> C(g.ref.size(), std::numeric_limits<float>::quiet_NaN());
    auto gemm = [&] {
      gnm::cpu::sgemm_engine(gnm::cpu::Transpose::No, gnm::cpu::Transpose::No, n, n, n, 1.0f,
                             g.A.data(), n, g.B.data(), n, 0.0f, C.data(), n);
    };
    const double ms = gnm::median_time_ms(repeats, gemm, /*warmup=*/1);
    // The engine's bound: K terms accumulated with FMAs in blocks, K · eps · mass (gemm.hpp).
    const double ratio = worst_ratio(C, g.ref, g.mass, static_cast<double>(n) * gnm::kEpsF32);
    gemm_table.add({str(engine_label), str(engine_kernel), integer(n), num(ms, 4),
                    num(2.0 * static_cast<double>(n * n * n) / (ms * 1e6)), num(ms, 4), num(1.0),
                    num(ratio), flag(ratio <= 1.0)});
    s.verified = s.verified && ratio <= 1.0;
    engine_ms.push_back(ms);
  }

  Table saxpy_table("7.3 OpenCL saxpy",
                    {"device", "n", "kernel ms", "GB/s", "call ms", "verified"});
  for (const auto& d : devices) {
    ocl::Context ctx(d);
    const std::string label = device_label(d);
    std::printf("7.3 running on %s\n", label.c_str());
    run_saxpy(ctx, label, saxpy_n, repeats, saxpy_table, s);
    for (std::size_t i = 0; i < gemms.size(); ++i) {
      for (const auto variant : {ocl::SgemmVariant::naive, ocl::SgemmVariant::tiled}) {
        const double gflops =
            run_ocl_gemm(ctx, label, variant, gemms[i], repeats, engine_ms[i], gemm_table, s);
        if (i + 1 == gemms.size()) {
          s.figures.emplace_back("7.3 " + std::string(ocl::device_type_name(d.type)) + " " +
                                     ocl::sgemm_variant_name(variant) +
                                     " GFLOP/s n=" + std::to_string(gemms[i].n),
                                 gflops);
        }
      }
    }
  }
  s.add(saxpy_table);
  s.add(gemm_table);
  return s;
}

}  // namespace chapter07
