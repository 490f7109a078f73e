// Section 5.1: data parallelism with the engine's ThreadPool (the C++ counterpart of rayon's
// par_iter) and with OpenMP, on a memory-bound reduction and a compute-bound GEMM.
#include "parallel_loops.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "gemm_ladder.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/thread_pool.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/gemm.hpp"
#include "omp_kernels.hpp"
#include "parallel_sum.hpp"

namespace chapter5 {
namespace {

constexpr double kUnitRoundoff = 0.5 * gnm::kEpsF32;  // u = 2^-24

std::uint32_t bits_of(float v) {
  std::uint32_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// Median of repeated runs, at least 3 and about `budget_ms` in total.
double time_ms(const std::function<void()>& fn, double budget_ms) {
  fn();  // warm-up: first touch, thread start-up, libgomp's pool
  std::vector<double> samples;
  gnm::HostTimer total;
  while (samples.size() < 3 || (total.elapsed_ms() < budget_ms && samples.size() < 50)) {
    gnm::HostTimer t;
    fn();
    samples.push_back(t.elapsed_ms());
  }
  return gnm::summarize(samples).median_ms;
}

//! [chunked_sum]
// The tempting version: let parallel_for choose the chunks and sum each chunk as one block.
// The chunks depend on the pool (one chunk inline on 1 thread, up to 4 per thread otherwise),
// so the rounding — and the bits of the result — change with the thread count.
float pool_sum_by_chunk(std::span<const float> x, gnm::ThreadPool& pool) {
  std::mutex mutex;
  std::map<std::int64_t, float> partials;  // chunk start → partial, combined in index order
  pool.parallel_for(0, static_cast<std::int64_t>(x.size()), gnm::ch05::kSumBlock,
                    [&](std::int64_t lo, std::int64_t hi) {
                      const auto start = static_cast<std::size_t>(lo);
                      const float s = gnm::ch05::block_sum(
                          x.subspan(start, static_cast<std::size_t>(hi - lo)), start);
                      std::lock_guard lock(mutex);  // once per chunk: negligible
                      partials[lo] = s;
                    });
  float s = 0.0f;
  for (const auto& [lo, p] : partials) s += p;
  return s;
}
//! [chunked_sum]

// The textbook loop with one accumulator, for the error column (1 thread only).
float serial_naive_sum(std::span<const float> x) {
  float s = 0.0f;
  for (float v : x) s += v;
  return s;
}

void run_reductions(ParallelTable& t, const std::vector<int>& thread_counts, bool quick) {
  const auto n = static_cast<std::size_t>(t.sum_n);
  std::vector<float> x(n);
  gnm::fill_uniform(x, /*seed=*/51, 0.0f, 1.0f);
  long double exact = 0, mass = 0;  // 64-bit mantissa: exact enough for 10^8 terms of [0, 1)
  for (float v : x) {
    exact += v;
    mass += std::fabs(v);
  }
  const double ref = static_cast<double>(exact);
  const double abs_sum = static_cast<double>(mass);
  const double unit = kUnitRoundoff * abs_sum;
  const double bound = gnm::ch05::parallel_sum_error_bound(n, abs_sum);
  t.bound_units = bound / unit;
  const double budget = quick ? 50.0 : 600.0;
  const double bytes = 4.0 * static_cast<double>(n);

  using Sum = std::function<float(int threads)>;
  auto add = [&](const std::string& variant, bool deterministic, const Sum& sum,
                 const std::vector<int>& counts) {
    float first = 0;
    for (int threads : counts) {
      ReduceRow r;
      r.variant = variant;
      r.threads = threads;
      r.result = sum(threads);
      if (threads == counts.front()) first = r.result;
      r.ms = time_ms([&] { (void)sum(threads); }, budget);
      r.gbps = bytes / (r.ms * 1e6);
      const double err = std::fabs(static_cast<double>(r.result) - ref);
      r.error_units = err / unit;
      r.same_bits_as_one_thread = bits_of(r.result) == bits_of(first);
      r.must_be_deterministic = deterministic;
      // The fixed-block sums must meet their worst-case bound and repeat bit for bit; the
      // others are shown for contrast and only need to be finite.
      r.ok = std::isfinite(r.result) && (!deterministic || (err <= bound && r.same_bits_as_one_thread));
      t.reduce.push_back(r);
    }
  };

  add("serial: one accumulator", false, [&](int) { return serial_naive_sum(x); }, {1});
  std::map<int, std::unique_ptr<gnm::ThreadPool>> pools;
  for (int threads : thread_counts) pools[threads] = std::make_unique<gnm::ThreadPool>(threads);
  add("pool: fixed blocks (ex 5.1)", true,
      [&](int threads) { return gnm::ch05::parallel_sum(x, *pools[threads]); }, thread_counts);
  add("pool: parallel_for's chunks", false,
      [&](int threads) { return pool_sum_by_chunk(x, *pools[threads]); }, thread_counts);
  if (have_openmp()) {
    add("OpenMP: fixed blocks", true, [&](int threads) { return omp_sum_fixed_blocks(x, threads); },
        thread_counts);
    add("OpenMP: simd reduction(+)", false,
        [&](int threads) { return omp_sum_reduction(x, threads); }, thread_counts);
  }
  // Fixed blocks give one answer whoever runs them: the pool's and OpenMP's must agree too.
  const ReduceRow* pool_row = nullptr;
  for (auto& r : t.reduce) {
    if (!r.must_be_deterministic) continue;
    if (!pool_row) pool_row = &r;
    if (bits_of(r.result) != bits_of(pool_row->result)) r.ok = false;
  }

  //! [exception_demo]
  // A NaN in the input makes block_sum throw on whichever worker owns that block; parallel_for
  // stops handing out chunks, waits for the others and rethrows the exception here.
  const std::size_t poisoned = n / 2 + 3;
  const float saved = x[poisoned];
  x[poisoned] = std::numeric_limits<float>::quiet_NaN();
  try {
    (void)gnm::ch05::parallel_sum(x, *pools[thread_counts.back()]);
    t.exception_message = "(nothing was thrown)";
  } catch (const gnm::Error& e) {
    t.exception_message = e.what();
    t.exception_ok = t.exception_message.find("index = " + std::to_string(poisoned)) != std::string::npos;
  }
  x[poisoned] = saved;
  //! [exception_demo]
}

void run_gemms(ParallelTable& t, const std::vector<int>& thread_counts, bool quick) {
  const std::int64_t n = t.gemm_n;
  const auto sz = static_cast<std::size_t>(n * n);
  std::vector<float> a(sz), b(sz), c(sz);
  gnm::fill_uniform(a, /*seed=*/52, -1.0f, 1.0f);
  gnm::fill_uniform(b, /*seed=*/53, -1.0f, 1.0f);
  std::vector<double> ref(sz), mass(sz);
  gnm::cpu::sgemm_reference(n, n, n, a.data(), n, b.data(), n, ref, mass);
  const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  const double budget = quick ? 50.0 : 500.0;

  using Gemm = std::function<void(int threads, float* C)>;
  struct Variant {
    std::string name;
    // true: the variant computes C += A·B (chapter 2's convention), so C starts at zero; false:
    // it overwrites C (beta = 0), so C starts as NaN and any element it misses shows.
    bool accumulates;
    Gemm gemm;
  };
  auto measure = [&](const Variant& v, int threads) {
    GemmRow r;
    r.variant = v.name;
    r.threads = threads;
    std::fill(c.begin(), c.end(), v.accumulates ? 0.0f : std::numeric_limits<float>::quiet_NaN());
    v.gemm(threads, c.data());
    // Higham's worst case for a K-term dot product: |c − ĉ| ≤ K·eps·Σ_k |a_ik b_kj|.
    const double gamma = static_cast<double>(n) * gnm::kEpsF32;
    double worst = 0;
    bool finite = true;
    for (std::size_t i = 0; i < sz; ++i) {
      const double err = std::fabs(static_cast<double>(c[i]) - ref[i]);
      finite = finite && std::isfinite(err);
      worst = std::max(worst, err / (gamma * mass[i] + 1e-30));
    }
    r.error_ratio = worst;
    r.ok = finite && worst <= 1.0;
    r.ms = time_ms([&] {
      if (v.accumulates) std::fill(c.begin(), c.end(), 0.0f);  // ~1 % of the time at n = 1024
      v.gemm(threads, c.data());
    }, budget);
    r.gflops = flops / (r.ms * 1e6);
    return r;
  };

  std::map<int, std::unique_ptr<gnm::ThreadPool>> pools;
  for (int threads : thread_counts) pools[threads] = std::make_unique<gnm::ThreadPool>(threads);
  const float* A = a.data();
  const float* B = b.data();
  std::vector<Variant> variants;
  variants.push_back({"pool: ch02 v5 (sgemm_threaded)", true, [&](int threads, float* C) {
                        gnm::ch02::sgemm_threaded(n, n, n, A, n, B, n, C, n, *pools[threads]);
                      }});
  if (have_openmp()) {
    variants.push_back({"OpenMP: same packed kernel", true, [&](int threads, float* C) {
                          omp_sgemm(n, n, n, A, n, B, n, C, n, threads);
                        }});
  }
  variants.push_back({std::string("engine sgemm (") + gnm::cpu::sgemm_config().kernel + ", pool)",
                      false, [&](int threads, float* C) {
                        gnm::cpu::sgemm_engine(gnm::cpu::Transpose::No, gnm::cpu::Transpose::No,
                                               n, n, n, 1.0f, A, n, B, n, 0.0f, C, n,
                                               pools[threads].get());
                      }});
  std::vector<double> one_thread_ms;
  for (const Variant& v : variants) {
    for (int threads : thread_counts) {
      GemmRow r = measure(v, threads);
      if (threads == 1) one_thread_ms.push_back(r.ms);
      r.speedup = one_thread_ms.back() / r.ms;
      t.gemm.push_back(r);
    }
  }
  if (thread_counts.size() < 2) return;
  //! [busy_core]
  // A shared machine: one more thread keeps a core busy (as a compiler or another job would),
  // so the GEMM's threads no longer each have a core to themselves.
  // (jthread's destructor asks it to stop, then joins, also if a measurement throws.)
  std::atomic<double> sink{0.0};
  std::jthread busy([&sink](std::stop_token stop) {
    double x = 1.0;
    while (!stop.stop_requested()) x = x * 1.0000001 + 1e-9;
    sink.store(x);
  });
  //! [busy_core]
  for (std::size_t k = 0; k < variants.size(); ++k) {
    GemmRow r = measure(variants[k], thread_counts.back());
    r.variant += ", a core busy";
    r.core_busy = true;
    r.speedup = one_thread_ms[k] / r.ms;
    t.gemm.push_back(r);
  }
}

void run_fork_join(ParallelTable& t, const std::vector<int>& thread_counts, bool quick) {
  const int repeat = quick ? 200 : 5000;
  for (int threads : thread_counts) {
    if (threads == 1) continue;  // one thread runs inline: no fork, no join
    gnm::ThreadPool pool(threads);
    std::vector<double> samples;
    std::atomic<int> sink{0};
    for (int r = 0; r < repeat; ++r) {
      gnm::HostTimer timer;
      pool.parallel_for(0, threads, 1, [&](std::int64_t lo, std::int64_t) {
        sink.fetch_add(static_cast<int>(lo), std::memory_order_relaxed);
      });
      samples.push_back(timer.elapsed_ms() * 1e3);
    }
    t.fork_join.push_back({"ThreadPool::parallel_for", threads, gnm::summarize(samples).median_ms});
    if (have_openmp()) t.fork_join.push_back({"OpenMP parallel for", threads, omp_fork_join_us(threads, repeat)});
  }
}

}  // namespace

ParallelTable run_parallel(std::int64_t sum_n, std::int64_t gemm_n, int threads, bool quick) {
  ParallelTable t;
  t.sum_n = sum_n;
  t.gemm_n = gemm_n;
  t.openmp = openmp_version();
  std::vector<int> counts = {1};
  if (threads > 1) counts.push_back(threads);
  run_reductions(t, counts, quick);
  run_gemms(t, counts, quick);
  run_fork_join(t, counts, quick);
  t.verified = t.exception_ok;
  for (const auto& r : t.reduce) t.verified = t.verified && r.ok;
  for (const auto& r : t.gemm) t.verified = t.verified && r.ok;
  return t;
}

void print(const ParallelTable& t) {
  std::printf("== 5.1 Data parallelism: ThreadPool::parallel_for and OpenMP (%s) ==\n",
              t.openmp.c_str());
  std::printf("  sum of %lld floats in [0, 1); error in units of u·Σ|x| (fixed-block bound: %.0f)\n",
              static_cast<long long>(t.sum_n), t.bound_units);
  std::printf("  %-30s %7s %9s %8s %15s %10s %10s\n", "variant", "threads", "ms", "GB/s", "result",
              "error/uΣ", "same bits");
  for (const auto& r : t.reduce) {
    std::printf("  %-30s %7d %9.3f %8.2f %15.7g %10.3g %10s%s\n", r.variant.c_str(), r.threads, r.ms,
                r.gbps, static_cast<double>(r.result), r.error_units,
                r.same_bits_as_one_thread ? "yes" : "no", r.ok ? "" : "  FAILED");
  }
  std::printf("  exception from a worker, caught by the caller: %s%s\n", t.exception_message.c_str(),
              t.exception_ok ? "" : "  FAILED");
  std::printf("\n  GEMM C = A·B, n = %lld\n", static_cast<long long>(t.gemm_n));
  std::printf("  %-46s %7s %9s %9s %8s %10s\n", "variant", "threads", "ms", "GFLOP/s", "speedup",
              "err/bound");
  for (const auto& r : t.gemm) {
    std::printf("  %-46s %7d %9.3f %9.2f %8.2f %10.3g%s\n", r.variant.c_str(), r.threads, r.ms,
                r.gflops, r.speedup, r.error_ratio, r.ok ? "" : "  FAILED");
  }
  for (const auto& f : t.fork_join) {
    std::printf("  fork-join of an empty loop, %-26s %d threads: %7.2f µs\n", f.runtime.c_str(),
                f.threads, f.us);
  }
  std::printf("  5.1: %s\n\n", t.verified ? "ok" : "FAILED");
}

std::string to_json(const ParallelTable& t) {
  std::ostringstream j;
  j << "{\"sum_n\": " << t.sum_n << ", \"gemm_n\": " << t.gemm_n
    << ", \"openmp\": " << gnm::json_quote(t.openmp)
    << ", \"fixed_block_bound_units\": " << gnm::json_number(t.bound_units) << ", \"rows\": [";
  for (std::size_t i = 0; i < t.reduce.size(); ++i) {
    const auto& r = t.reduce[i];
    j << (i ? ", " : "") << "{\"reduction\": " << gnm::json_quote(r.variant)
      << ", \"threads\": " << r.threads << ", \"ms\": " << gnm::json_number(r.ms)
      << ", \"GB/s\": " << gnm::json_number(r.gbps)
      << ", \"result\": " << gnm::json_number(static_cast<double>(r.result))
      << ", \"error / u·Σabs(x)\": " << gnm::json_number(r.error_units)
      << ", \"same bits as 1 thread\": " << (r.same_bits_as_one_thread ? "true" : "false")
      << ", \"ok\": " << (r.ok ? "true" : "false") << "}";
  }
  j << "], \"gemm\": {\"rows\": [";
  for (std::size_t i = 0; i < t.gemm.size(); ++i) {
    const auto& r = t.gemm[i];
    j << (i ? ", " : "") << "{\"gemm\": " << gnm::json_quote(r.variant)
      << ", \"threads\": " << r.threads << ", \"ms\": " << gnm::json_number(r.ms)
      << ", \"GFLOP/s\": " << gnm::json_number(r.gflops)
      << ", \"speedup\": " << gnm::json_number(r.speedup)
      << ", \"a core busy\": " << (r.core_busy ? "true" : "false")
      << ", \"error/bound\": " << gnm::json_number(r.error_ratio)
      << ", \"ok\": " << (r.ok ? "true" : "false") << "}";
  }
  j << "]}, \"fork_join\": {\"rows\": [";
  for (std::size_t i = 0; i < t.fork_join.size(); ++i) {
    const auto& f = t.fork_join[i];
    j << (i ? ", " : "") << "{\"runtime\": " << gnm::json_quote(f.runtime)
      << ", \"threads\": " << f.threads << ", \"µs per empty loop\": " << gnm::json_number(f.us) << "}";
  }
  j << "]}, \"exception\": " << gnm::json_quote(t.exception_message)
    << ", \"verified\": " << (t.verified ? "true" : "false") << "}";
  return j.str();
}

}  // namespace chapter5
