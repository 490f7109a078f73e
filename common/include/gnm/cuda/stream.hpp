/// \file
/// Move-only RAII owners of CUDA streams and events, and a CUDA-event timer.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <utility>
#include <vector>

#include "gnm/core/check.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/cuda/check.hpp"

namespace gnm::cuda {

/// A CUDA stream (non-blocking with respect to the legacy default stream), destroyed with its owner.
class Stream {
 public:
  /// Creates a new stream; throws CudaError without a usable device.
  Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  /// Takes ownership from `other`, which then holds no stream.
  Stream(Stream&& other) noexcept;
  /// Destroys this stream, then takes ownership from `other`.
  Stream& operator=(Stream&& other) noexcept;
  ~Stream();

  /// The raw handle, for kernel launches and cudaMemcpyAsync.
  cudaStream_t get() const noexcept { return stream_; }
  /// Blocks the host until all work queued on this stream has finished; throws on a fault.
  void synchronize() const;

 private:
  cudaStream_t stream_ = nullptr;
};

/// A CUDA event, for ordering between streams and for timing.
class Event {
 public:
  /// Creates an event; `timing` = false makes a lighter event that cannot be timed.
  explicit Event(bool timing = true);
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  /// Takes ownership from `other`, which then holds no event.
  Event(Event&& other) noexcept;
  /// Destroys this event, then takes ownership from `other`.
  Event& operator=(Event&& other) noexcept;
  ~Event();

  /// Records the event on `stream` (the legacy default stream when null).
  void record(cudaStream_t stream = nullptr);
  /// Blocks the host until the event has completed.
  void synchronize() const;
  /// The raw handle.
  cudaEvent_t get() const noexcept { return event_; }
  /// Milliseconds between two recorded, completed events (`start` before `stop`).
  static float elapsed_ms(const Event& start, const Event& stop);

 private:
  cudaEvent_t event_ = nullptr;
};

/// Times GPU work with a pair of events on one stream: start(); …launches…; stop() → milliseconds.
///
/// The time is measured by the GPU between the two events, so it excludes host launch overhead
/// that overlaps with device work and includes queueing gaps on the device.
class EventTimer {
 public:
  /// A timer for work queued on `stream` (the legacy default stream when null).
  explicit EventTimer(cudaStream_t stream = nullptr);
  /// Records the start event.
  void start();
  /// Records the stop event, waits for it and returns the elapsed milliseconds.
  float stop();

 private:
  cudaStream_t stream_;
  Event start_;
  Event stop_;
};

// [event timing]
/// Median milliseconds of `repeat` timed runs of `body`, which queues work on `stream`: `warmup`
/// untimed runs first (module load, clocks, TLBs), then for each repeat `setup()` untimed (e.g.
/// resetting an input) and `body()` between the two events of an EventTimer. The events time the
/// GPU from start to stop, so host stalls inside `body` (a pageable copy staging its data) count.
template <class Body, class Setup>
double median_event_ms(cudaStream_t stream, int repeat, Body&& body, int warmup,
                       Setup&& setup) {
  GNM_CHECK(repeat >= 1 && warmup >= 0, "median_event_ms needs repeat >= 1 and warmup >= 0",
            repeat, warmup);
  for (int i = 0; i < warmup; ++i) {
    setup();
    body();
  }
  GNM_CUDA_CHECK(cudaStreamSynchronize(stream));
  EventTimer timer(stream);
  std::vector<double> ms;
  ms.reserve(static_cast<std::size_t>(repeat));
  for (int i = 0; i < repeat; ++i) {
    setup();
    timer.start();
    body();
    ms.push_back(static_cast<double>(timer.stop()));
  }
  return summarize(std::move(ms)).median_ms;
}
// [event timing]

/// median_event_ms without a per-repeat setup: `warmup` untimed runs, then `repeat` timed ones.
template <class Body>
double median_event_ms(cudaStream_t stream, int repeat, Body&& body, int warmup = 1) {
  return median_event_ms(stream, repeat, std::forward<Body>(body), warmup, [] {});
}

}  // namespace gnm::cuda
