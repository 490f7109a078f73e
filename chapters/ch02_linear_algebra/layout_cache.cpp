// Section 2.3 — loop orders and cache blocking against the cache sizes (see layout_cache.hpp).
#include "layout_cache.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>

#include "gemm_ladder.hpp"
#include "gnm/core/host_info.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/thread_pool.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/gemm.hpp"

namespace chapter2 {
namespace {

std::string read_line(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

// "48K" → 49152, "2048K" → 2 MiB, "32M" → 32 MiB; 0 when unreadable.
std::int64_t parse_size(const std::string& s) {
  std::int64_t v = 0;
  std::size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
  if (i < s.size() && (s[i] == 'K' || s[i] == 'k')) v <<= 10;
  if (i < s.size() && (s[i] == 'M' || s[i] == 'm')) v <<= 20;
  if (i < s.size() && (s[i] == 'G' || s[i] == 'g')) v <<= 30;
  return v;
}

// Runs fn up to five times, fewer once the runs have taken half a second, and returns the median.
double timed_ms(const std::function<void()>& fn) {
  std::vector<double> ms;
  double total = 0;
  while (ms.size() < 5 && (ms.empty() || total < 500.0)) {
    gnm::HostTimer t;
    fn();
    ms.push_back(t.elapsed_ms());
    total += ms.back();
  }
  return gnm::summarize(ms).median_ms;
}

// Largest n at which the ijk and jki orders are timed (see run_layout_cache).
constexpr std::int64_t kSlowOrderMaxN = 1024;

using LadderFn = void (*)(std::int64_t, std::int64_t, std::int64_t, const float*, std::int64_t,
                          const float*, std::int64_t, float*, std::int64_t);

}  // namespace

std::vector<CacheLevel> read_cache_levels() {
  std::vector<CacheLevel> caches;
  for (int index = 0; index < 16; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index);
    const std::string level = read_line(dir + "/level");
    if (level.empty()) break;
    CacheLevel c;
    c.level = std::atoi(level.c_str());
    c.type = read_line(dir + "/type");
    c.bytes = parse_size(read_line(dir + "/size"));
    c.shared_with = read_line(dir + "/shared_cpu_list");
    caches.push_back(c);
  }
  return caches;
}

LayoutTable run_layout_cache(bool quick, std::int64_t max_n) {
  LayoutTable t;
  t.caches = read_cache_levels();
  std::vector<std::int64_t> sizes;
  if (quick) {
    sizes = {16, 33, 64, 96};
  } else {
    for (std::int64_t n : {32, 64, 128, 256, 384, 512, 768, 1024, 1536, 2048}) {
      if (n <= max_n) sizes.push_back(n);
    }
  }
  gnm::ThreadPool one_thread(1);
  const std::pair<const char*, LadderFn> versions[] = {
      {"ijk", gnm::ch02::sgemm_naive},
      {"ikj", gnm::ch02::sgemm_ikj},
      {"jki", gnm::ch02::sgemm_jki},
      {"blocked", gnm::ch02::sgemm_blocked},
  };
  for (const std::int64_t n : sizes) {
    LayoutRow r;
    r.n = n;
    const auto nn = static_cast<std::size_t>(n * n);
    r.working_set = 3.0 * 4.0 * static_cast<double>(nn);
    r.fits_in = "memory";
    for (const auto& c : t.caches) {
      if (c.type != "Instruction" && static_cast<double>(c.bytes) >= r.working_set) {
        r.fits_in = "L" + std::to_string(c.level);
        break;
      }
    }
    std::vector<float> a(nn), b(nn), c(nn), ref(nn), mass(nn), abs_a(nn), abs_b(nn);
    gnm::fill_uniform(a, static_cast<std::uint64_t>(n), -1.0f, 1.0f);
    gnm::fill_uniform(b, static_cast<std::uint64_t>(n) + 1, -1.0f, 1.0f);
    const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(nn);
    using gnm::cpu::Transpose;
    auto engine = [&](const std::vector<float>& x, const std::vector<float>& y,
                      std::vector<float>& out) {
      gnm::cpu::sgemm_engine(Transpose::No, Transpose::No, n, n, n, 1.0f, x.data(), n, y.data(),
                             n, 0.0f, out.data(), n, &one_thread);
    };
    r.engine_gflops = flops / (timed_ms([&] { engine(a, b, ref); }) * 1e6);
    // The scale of each element's rounding error: Σ_k |a_ik·b_kj| (see the bound below).
    for (std::size_t i = 0; i < nn; ++i) {
      abs_a[i] = std::fabs(a[i]);
      abs_b[i] = std::fabs(b[i]);
    }
    engine(abs_a, abs_b, mass);

    //! [loop_orders]
    double* gflops[] = {&r.naive_gflops, &r.ikj_gflops, &r.jki_gflops, &r.blocked_gflops};
    for (std::size_t v = 0; v < std::size(versions); ++v) {
      // The strided orders run at ~0.1–0.3 GFLOP/s out of cache: 2048³ would take minutes.
      const bool slow_order = v == 0 || v == 2;
      if (slow_order && n > kSlowOrderMaxN) continue;  // left at 0: "not measured"
      const LadderFn gemm = versions[v].second;
      const double ms = timed_ms([&] {
        std::fill(c.begin(), c.end(), 0.0f);  // the ladder accumulates: C += A·B
        gemm(n, n, n, a.data(), n, b.data(), n, c.data(), n);
      });
      *gflops[v] = flops / (ms * 1e6);
      // Note [Dot-product bound] (blas_lapack.cpp): each version and the engine are within
      // n·eps·mass of the exact product, so within twice that of each other; mass, itself an
      // fp32 sum of non-negative terms, may be low by a factor (1 − n·eps).
      const double n_eps = static_cast<double>(n) * gnm::kEpsF32;
      for (std::size_t i = 0; i < nn; ++i) {
        const double bound = 2 * n_eps * static_cast<double>(mass[i]) / (1 - n_eps);
        const double diff = std::fabs(static_cast<double>(c[i]) - static_cast<double>(ref[i]));
        const double ratio = bound > 0 ? diff / bound : (diff > 0 ? HUGE_VAL : 0.0);
        r.worst_error_ratio = std::isnan(ratio) ? HUGE_VAL : std::max(r.worst_error_ratio, ratio);
      }
    }
    //! [loop_orders]
    r.ok = r.worst_error_ratio <= 1.0;
    t.rows.push_back(r);
  }
  t.verified = !t.rows.empty();
  for (const auto& r : t.rows) t.verified = t.verified && r.ok;
  return t;
}

void print(const LayoutTable& t) {
  std::printf("\n== 2.3 Layout and cache: loop orders and blocking (1 thread, GFLOP/s) ==\n");
  std::printf("  caches of CPU 0 (sysfs):");
  if (t.caches.empty()) std::printf(" not available");
  for (const auto& c : t.caches) {
    std::printf(" L%d %s %s (CPUs %s);", c.level, c.type.c_str(),
                gnm::format_bytes(static_cast<double>(c.bytes)).c_str(), c.shared_with.c_str());
  }
  std::printf("\n  %6s %12s %7s | %8s %8s %8s %8s | %8s %9s\n", "n", "A+B+C", "fits in",
              "ijk", "ikj", "jki", "blocked", "engine", "err/bound");
  auto cell = [](double gflops) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%8.2f", gflops);
    return gflops > 0 ? std::string(buf) : std::string("       -");
  };
  for (const auto& r : t.rows) {
    std::printf("  %6lld %12s %7s | %s %s %s %s | %s %9.2g%s\n", static_cast<long long>(r.n),
                gnm::format_bytes(r.working_set).c_str(), r.fits_in.c_str(),
                cell(r.naive_gflops).c_str(), cell(r.ikj_gflops).c_str(),
                cell(r.jki_gflops).c_str(), cell(r.blocked_gflops).c_str(),
                cell(r.engine_gflops).c_str(), r.worst_error_ratio, r.ok ? "" : "  FAILED");
  }
  std::printf("  (-: not timed, too slow; err/bound: max over versions of |C - C_engine| / "
              "(2n·eps·Σ|a·b|))\n");
}

std::string to_json(const LayoutTable& t) {
  using gnm::json_number;
  using gnm::json_quote;
  std::ostringstream j;
  j << "{\"caches\": [";
  for (std::size_t i = 0; i < t.caches.size(); ++i) {
    const auto& c = t.caches[i];
    j << (i ? ", " : "") << "{\"level\": " << c.level << ", \"type\": " << json_quote(c.type)
      << ", \"bytes\": " << c.bytes << ", \"shared_with\": " << json_quote(c.shared_with) << "}";
  }
  j << "], \"rows\": [";
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    j << (i ? ", " : "") << "{\"n\": " << r.n << ", \"working_set\": "
      << json_number(r.working_set) << ", \"fits_in\": " << json_quote(r.fits_in)
      << ", \"ijk\": " << json_number(r.naive_gflops) << ", \"ikj\": "
      << json_number(r.ikj_gflops) << ", \"jki\": " << json_number(r.jki_gflops)
      << ", \"blocked\": " << json_number(r.blocked_gflops) << ", \"engine\": "
      << json_number(r.engine_gflops) << ", \"error_ratio\": "
      << json_number(r.worst_error_ratio) << ", \"ok\": " << (r.ok ? "true" : "false") << "}";
  }
  j << "], \"verified\": " << (t.verified ? "true" : "false") << "}";
  return j.str();
}

}  // namespace chapter2
