#include "gnm/cuda/stream.hpp"

#include <utility>

#include "gnm/cuda/check.hpp"

namespace gnm::cuda {

Stream::Stream() { GNM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }

Stream::Stream(Stream&& other) noexcept : stream_(std::exchange(other.stream_, nullptr)) {}

Stream& Stream::operator=(Stream&& other) noexcept {
  if (this != &other) {
    if (stream_) (void)cudaStreamDestroy(stream_);
    stream_ = std::exchange(other.stream_, nullptr);
  }
  return *this;
}

Stream::~Stream() {
  if (stream_) (void)cudaStreamDestroy(stream_);
}

void Stream::synchronize() const { GNM_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

Event::Event(bool timing) {
  GNM_CUDA_CHECK(cudaEventCreateWithFlags(&event_, timing ? cudaEventDefault : cudaEventDisableTiming));
}

Event::Event(Event&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}

Event& Event::operator=(Event&& other) noexcept {
  if (this != &other) {
    if (event_) (void)cudaEventDestroy(event_);
    event_ = std::exchange(other.event_, nullptr);
  }
  return *this;
}

Event::~Event() {
  if (event_) (void)cudaEventDestroy(event_);
}

void Event::record(cudaStream_t stream) { GNM_CUDA_CHECK(cudaEventRecord(event_, stream)); }

void Event::synchronize() const { GNM_CUDA_CHECK(cudaEventSynchronize(event_)); }

float Event::elapsed_ms(const Event& start, const Event& stop) {
  float ms = 0.0f;
  GNM_CUDA_CHECK(cudaEventElapsedTime(&ms, start.event_, stop.event_));
  return ms;
}

EventTimer::EventTimer(cudaStream_t stream) : stream_(stream) {}

void EventTimer::start() { start_.record(stream_); }

float EventTimer::stop() {
  stop_.record(stream_);
  stop_.synchronize();
  return Event::elapsed_ms(start_, stop_);
}

}  // namespace gnm::cuda
