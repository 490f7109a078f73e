/// \file
/// Host wall-clock timing and a small statistics helper for repeated measurements.
#pragma once

#include <chrono>
#include <functional>
#include <vector>

namespace gnm {

/// A steady-clock stopwatch: construction (or reset()) starts it, elapsed_ms() reads it.
class HostTimer {
 public:
  HostTimer() : start_(Clock::now()) {}
  /// Restarts the stopwatch.
  void reset() { start_ = Clock::now(); }
  /// Milliseconds since construction or the last reset().
  double elapsed_ms() const {
    return std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
  }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_;
};

/// Summary of repeated timings: quote the median, it is robust to a noisy machine.
struct TimingStats {
  double min_ms = 0;     ///< Fastest run.
  double median_ms = 0;  ///< Median run.
  double max_ms = 0;     ///< Slowest run.
  int runs = 0;          ///< Number of runs summarised.
};

/// Summarises `samples_ms` (throws gnm::Error when it is empty).
TimingStats summarize(std::vector<double> samples_ms);

/// Runs `fn` `warmup` times untimed, then `repeat` times timed with HostTimer, and returns the
/// median in milliseconds (throws gnm::Error unless repeat >= 1 and warmup >= 0).
double median_time_ms(int repeat, const std::function<void()>& fn, int warmup = 0);

}  // namespace gnm
