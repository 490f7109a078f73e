/// \file
/// Move-only RAII owners of CUDA streams and events, and a CUDA-event timer.
#pragma once

#include <cuda_runtime_api.h>

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

}  // namespace gnm::cuda
