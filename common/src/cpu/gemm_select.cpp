// Which micro-kernel the engine's SGEMM runs: what the CPU and the OS support (CPUID and XCR0),
// what the build compiled, `GNM_CPU_KERNEL`, and set_cpu_kernel().
//
// Note [Runtime dispatch]: the library is built for x86-64-v3 (AVX2+FMA) so that one binary runs
// on every CPU we target, yet AVX-512 CPUs double their FMA width with zmm registers. Only
// gemm_kernel_avx512.cpp is compiled with -mavx512f; this file (baseline ISA) decides, once per
// GEMM call, which KernelSpec the driver uses, and calls into that file only when CPUID reports
// AVX-512F *and* XCR0 shows the OS saves the opmask and ZMM registers (a CPU can have AVX-512
// while a hypervisor or OS leaves it disabled; executing a zmm instruction then faults).
// GCC 12's __builtin_cpu_supports("avx512f") also consults XGETBV, but checking the bits here
// makes the rule visible and lets the error message say which part is missing.
#include <atomic>
#include <cstdlib>
#include <string>

#include "gemm_avx512.hpp"
#include "gemm_internal.hpp"
#include "gnm/core/error.hpp"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define GNM_GEMM_X86 1
#else
#define GNM_GEMM_X86 0
#endif

namespace gnm::cpu {
namespace detail {
namespace {

// What the CPU and OS allow, with the reason when they do not ("" when they do).
struct IsaSupport {
  std::string avx2_missing;
  std::string avx512_missing;
};

#if GNM_GEMM_X86
std::uint64_t read_xcr0() {
  std::uint32_t lo = 0, hi = 0;
  // XGETBV with ECX = 0 reads XCR0 (legal only when CPUID.1:ECX.OSXSAVE is set, checked first).
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (std::uint64_t{hi} << 32) | lo;
}
#endif

IsaSupport detect() {
  IsaSupport s;
#if GNM_GEMM_X86
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) {
    s.avx2_missing = s.avx512_missing = "CPUID leaf 1 is not available";
    return s;
  }
  const bool fma = (ecx >> 12) & 1u;
  const bool osxsave = (ecx >> 27) & 1u;
  const std::uint64_t xcr0 = osxsave ? read_xcr0() : 0;
  const bool ymm_state = (xcr0 & 0x6u) == 0x6u;      // bits 1-2: SSE and AVX (YMM) state
  const bool zmm_state = (xcr0 & 0xE6u) == 0xE6u;    // + bits 5-7: opmask, ZMM0-15 high, ZMM16-31
  bool avx2 = false, avx512f = false;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) != 0) {
    avx2 = (ebx >> 5) & 1u;
    avx512f = (ebx >> 16) & 1u;
  }
  if (!avx2 || !fma) {
    s.avx2_missing = "this CPU has no AVX2+FMA (CPUID)";
  } else if (!ymm_state) {
    s.avx2_missing = "the OS has not enabled the AVX (YMM) register state (XCR0)";
  }
  if (!avx512f) {
    s.avx512_missing = "this CPU has no AVX-512F (CPUID leaf 7)";
  } else if (!zmm_state) {
    s.avx512_missing = "this CPU has AVX-512F but the OS has not enabled the ZMM register state "
                       "(XCR0 bits 5-7)";
  }
#else
  s.avx2_missing = s.avx512_missing = "this is not an x86-64 build";
#endif
  if (s.avx2_missing.empty() && !kHaveAvx2Kernel) {
    s.avx2_missing = "this build does not target AVX2+FMA (GNM_CPU_ARCH)";
  }
  if (s.avx512_missing.empty() && !kHaveAvx512Kernel) {
    s.avx512_missing = "this build did not compile the AVX-512 kernel";
  }
  return s;
}

const IsaSupport& isa() {
  static const IsaSupport s = detect();
  return s;
}

constexpr KernelSpec kPortable{CpuKernel::Portable, "portable", kMR, kNR, kMC, kKC, kNC,
                               micro_kernel_portable};
constexpr KernelSpec kAvx2{CpuKernel::Avx2, "avx2-fma", kMR, kNR, kMC, kKC, kNC,
                           micro_kernel_avx2};
constexpr KernelSpec kAvx512{CpuKernel::Avx512, "avx512", kMR512, kNR512, kMC512, kKC512,
                             kNC512, micro_kernel_avx512};

// "" when kernel `k` can run here, otherwise why not.
std::string missing(CpuKernel k) {
  switch (k) {
    case CpuKernel::Avx2: return isa().avx2_missing;
    case CpuKernel::Avx512: return isa().avx512_missing;
    default: return {};
  }
}

CpuKernel best_kernel() {
  if (missing(CpuKernel::Avx512).empty()) return CpuKernel::Avx512;
  if (missing(CpuKernel::Avx2).empty()) return CpuKernel::Avx2;
  return CpuKernel::Portable;
}

// Resolves Auto and throws NotImplemented naming what is missing for an unavailable kernel.
CpuKernel resolve(CpuKernel k, const std::string& source) {
  if (k == CpuKernel::Auto) return best_kernel();
  const std::string why = missing(k);
  if (!why.empty()) {
    throw NotImplemented(std::string("the ") + cpu_kernel_name(k) + " GEMM kernel was requested (" +
                         source + ") but " + why);
  }
  return k;
}

// -1: not overridden; otherwise the CpuKernel chosen by set_cpu_kernel() (never Auto).
std::atomic<int> g_kernel_override{-1};

// The spec of an already resolved (supported, not Auto) kernel.
const KernelSpec& spec_of(CpuKernel resolved) {
  switch (resolved) {
    case CpuKernel::Avx512: return kAvx512;
    case CpuKernel::Avx2: return kAvx2;
    default: return kPortable;
  }
}

}  // namespace

const KernelSpec& spec(CpuKernel k) { return spec_of(resolve(k, "sgemm_config")); }

const KernelSpec& active_kernel() { return spec_of(cpu_kernel()); }

}  // namespace detail

CpuKernel parse_cpu_kernel(const char* text) {
  const std::string value = text ? text : "";
  if (value == "auto") return CpuKernel::Auto;
  if (value == "portable") return CpuKernel::Portable;
  if (value == "avx2") return CpuKernel::Avx2;
  if (value == "avx512") return CpuKernel::Avx512;
  throw Error("GNM_CPU_KERNEL must be 'auto', 'avx512', 'avx2' or 'portable', got '" + value + "'",
              __FILE__, __LINE__);
}

const char* cpu_kernel_name(CpuKernel kernel) {
  switch (kernel) {
    case CpuKernel::Auto: return "auto";
    case CpuKernel::Portable: return "portable";
    case CpuKernel::Avx2: return "avx2-fma";
    case CpuKernel::Avx512: return "avx512";
  }
  return "?";
}

bool cpu_kernel_supported(CpuKernel kernel) { return detail::missing(kernel).empty(); }

CpuKernel cpu_kernel() {
  const int forced = detail::g_kernel_override.load(std::memory_order_acquire);
  if (forced >= 0) return static_cast<CpuKernel>(forced);
  // Read once; a throwing initialiser is retried (and throws again) on the next call.
  static const CpuKernel from_env = [] {
    const char* env = std::getenv("GNM_CPU_KERNEL");
    const CpuKernel k = (env && *env) ? parse_cpu_kernel(env) : CpuKernel::Auto;
    return detail::resolve(k, std::string("GNM_CPU_KERNEL=") + (env ? env : ""));
  }();
  return from_env;
}

void set_cpu_kernel(CpuKernel kernel) {
  const CpuKernel k = detail::resolve(kernel, "set_cpu_kernel");
  detail::g_kernel_override.store(static_cast<int>(k), std::memory_order_release);
}

GemmConfig sgemm_config(CpuKernel kernel) {
  const detail::KernelSpec& k = detail::spec(kernel);
  return GemmConfig{k.mr, k.nr, k.mc, k.kc, k.nc, k.name};
}

GemmConfig sgemm_config() { return sgemm_config(cpu_kernel()); }

}  // namespace gnm::cpu
