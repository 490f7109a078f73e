// Section 1.3 on the CPU: thread start-up, pool dispatch, and the size from which two threads win.
#include "limits.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <thread>

#include "gnm/core/aligned_buffer.hpp"
#include "gnm/core/check.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/thread_pool.hpp"
#include "machine_peak.hpp"

namespace gnm::ch01 {
namespace {

using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double best(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

// Chunk t of `parts` over [0, n), cut at multiples of 16 floats (one cache line).
std::pair<std::int64_t, std::int64_t> chunk(std::int64_t n, int t, int parts) {
  auto edge = [&](int i) { return i == parts ? n : n * i / parts / 16 * 16; };
  return {edge(t), edge(t + 1)};
}

}  // namespace

//! [spawn_join]
double measure_spawn_join_us(int threads, int reps) {
  GNM_CHECK(threads >= 1 && reps >= 1, "spawn/join needs a thread and a rep", threads, reps);
  std::vector<double> us;
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads));
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    for (int t = 0; t < threads; ++t) pool.emplace_back([] {});
    for (auto& th : pool) th.join();
    us.push_back(us_since(t0));
    pool.clear();
  }
  return median(us);
}
//! [spawn_join]

double measure_pool_dispatch_us(int threads, int reps) {
  GNM_CHECK(threads >= 1 && reps >= 1, "pool dispatch needs a thread and a rep", threads, reps);
  // Pinned as in measure_scaling (Note [Pinning threads]); the guard restores this thread.
  const std::vector<int> cpus = allowed_cpus();
  const AffinityGuard restore_main;
  ThreadPool pool(threads);
  const bool pin = threads <= static_cast<int>(cpus.size());
  pool.run_on_all([&](int t) {  // workers are started, pinned, and have run once
    if (pin) pin_current_thread(cpus[static_cast<std::size_t>(t)]);
  });
  std::vector<double> us;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    pool.run_on_all([](int) {});
    us.push_back(us_since(t0));
  }
  return median(us);
}

//! [poly_kernel]
void poly_kernel(const float* x, float* y, std::int64_t lo, std::int64_t hi) {
  // Coefficients 1/(j+1): the series of -ln(1-x)/x, truncated. Any polynomial would do; these
  // keep every value normal (a denormal operand would slow the FMA down a hundredfold).
  static constexpr auto c = [] {
    std::array<float, kPolyDegree + 1> a{};
    for (std::size_t j = 0; j < a.size(); ++j) a[j] = 1.0f / static_cast<float>(j + 1);
    return a;
  }();
  for (std::int64_t i = lo; i < hi; ++i) {
    const float v = x[i];
    float acc = c[kPolyDegree];
    // Fully unrolled, so that the i loop vectorises (8 elements per ymm register); successive
    // vectors are independent chains that out-of-order execution overlaps.
#pragma GCC unroll 64
    for (int j = kPolyDegree - 1; j >= 0; --j) acc = acc * v + c[static_cast<std::size_t>(j)];
    y[i] = acc;
  }
}
//! [poly_kernel]

std::vector<ScalingRow> measure_scaling(int threads, std::int64_t max_n, double budget_s) {
  GNM_CHECK(threads >= 2, "the scaling sweep compares 1 thread with several", threads);
  GNM_CHECK(max_n >= 256, "the scaling sweep starts at 256 elements", max_n);
  const auto cap = static_cast<std::size_t>(max_n);
  AlignedBuffer<float> x(cap), y_serial(cap), y_spawn(cap), y_pool(cap);
  fill_uniform(x.span(), /*seed=*/11, -1.0f, 1.0f);
  // Thread t runs on the t-th allowed CPU when there are enough (Note [Pinning threads]): the
  // sweep measures what the hardware allows, not where the scheduler happened to put a thread.
  const std::vector<int> cpus = allowed_cpus();
  const bool pin = threads <= static_cast<int>(cpus.size());
  auto pin_as = [&](int t) {
    if (pin) pin_current_thread(cpus[static_cast<std::size_t>(t)]);
  };
  const AffinityGuard restore_main;
  pin_as(0);
  ThreadPool pool(threads);
  pool.run_on_all(pin_as);
  std::vector<ScalingRow> rows;
  for (std::int64_t n = 256; n <= max_n; n *= 4) {
    std::vector<double> serial, spawned, pooled;
    const auto start = Clock::now();
    // The three variants alternate, so that a burst of noise from other processes hits all three.
    while (serial.size() < 5 ||
           (std::chrono::duration<double>(Clock::now() - start).count() < budget_s &&
            serial.size() < 2000)) {
      auto t0 = Clock::now();
      poly_kernel(x.data(), y_serial.data(), 0, n);
      serial.push_back(us_since(t0));

      t0 = Clock::now();
      std::vector<std::thread> workers;
      for (int t = 1; t < threads; ++t) {
        workers.emplace_back([&, t] {
          pin_as(t);
          const auto [lo, hi] = chunk(n, t, threads);
          poly_kernel(x.data(), y_spawn.data(), lo, hi);
        });
      }
      const auto [lo0, hi0] = chunk(n, 0, threads);
      poly_kernel(x.data(), y_spawn.data(), lo0, hi0);
      for (auto& w : workers) w.join();
      spawned.push_back(us_since(t0));

      t0 = Clock::now();
      pool.run_on_all([&](int t) {
        const auto [lo, hi] = chunk(n, t, threads);
        poly_kernel(x.data(), y_pool.data(), lo, hi);
      });
      pooled.push_back(us_since(t0));
    }
    const std::size_t bytes = static_cast<std::size_t>(n) * sizeof(float);
    // Best of the runs, as STREAM and section 1.1 report: the other processes of a shared
    // machine only ever add time, so the minimum is the least disturbed estimate.
    rows.push_back({n, best(serial), best(spawned), best(pooled),
                    std::memcmp(y_serial.data(), y_spawn.data(), bytes) == 0 &&
                        std::memcmp(y_serial.data(), y_pool.data(), bytes) == 0});
  }
  return rows;
}

std::int64_t crossover_n(const std::vector<ScalingRow>& rows, bool pool) {
  std::int64_t from = -1;
  for (const ScalingRow& r : rows) {
    const bool wins = (pool ? r.pool_us : r.spawn_us) < r.serial_us;
    if (wins && from < 0) from = r.n;
    if (!wins) from = -1;
  }
  return from;
}

}  // namespace gnm::ch01
