// Section 1.3: the limits of parallel speed-up on the CPU, measured — what starting threads costs,
// from which problem size two threads beat one, and what Amdahl's law then allows.
#pragma once

#include <cstdint>
#include <vector>

namespace gnm::ch01 {

/// Amdahl's law: the speed-up on `p` workers of a program whose serial fraction is `f`.
inline double amdahl_speedup(double f, double p) { return 1.0 / (f + (1.0 - f) / p); }

/// The Karp–Flatt metric: the serial fraction implied by a measured speed-up `s` on `p` workers,
/// e = (1/s - 1/p) / (1 - 1/p). Overheads (thread start-up, imbalance) show up in it as "serial".
inline double karp_flatt(double s, double p) { return (1.0 / s - 1.0 / p) / (1.0 - 1.0 / p); }

/// Median cost in microseconds of starting `threads` std::threads that do nothing and joining them.
double measure_spawn_join_us(int threads, int reps);

/// Median cost in microseconds of one gnm::ThreadPool::run_on_all() of an empty job on a pool of
/// `threads` (threads already started: what is left is waking them and waiting for them).
double measure_pool_dispatch_us(int threads, int reps);

/// One problem size of the scaling sweep: best wall times of the runs, in microseconds.
struct ScalingRow {
  std::int64_t n = 0;     // elements
  double serial_us = 0;   // one thread, no threading at all
  double spawn_us = 0;    // `threads` threads started for this call and joined
  double pool_us = 0;     // `threads` participants of a persistent gnm::ThreadPool
  bool identical = false; // both parallel results equal the serial one bit for bit
};

/// Degree of poly_kernel's polynomial.
inline constexpr int kPolyDegree = 31;
/// FLOPs per element of poly_kernel: one multiply-add per degree.
inline constexpr double kPolyFlops = 2.0 * kPolyDegree;

/// The polynomial kernel y[i] = p(x[i]) by Horner's rule over [lo, hi): 62 FLOPs per 8 bytes
/// moved, above any CPU's ridge point, so it is compute-bound even from DRAM and two cores can
/// approach a 2× speed-up once the work is large.
void poly_kernel(const float* x, float* y, std::int64_t lo, std::int64_t hi);

/// Times poly_kernel at sizes 2^8, 2^10, …, max_n on 1 and on `threads` threads (spawned and
/// pooled), spending about `budget_s` seconds per size.
std::vector<ScalingRow> measure_scaling(int threads, std::int64_t max_n, double budget_s);

/// The smallest n of the sweep from which on every larger n the parallel time (spawn or pool)
/// is below the serial one; -1 when there is none.
std::int64_t crossover_n(const std::vector<ScalingRow>& rows, bool pool);

}  // namespace gnm::ch01
