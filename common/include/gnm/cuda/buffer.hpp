/// \file
/// Move-only owners of device and page-locked host memory.
///
/// Raw cudaMalloc/cudaFree pairs live here and nowhere else (STYLE habit 14: unsafe stays small).
/// A buffer of 0 elements makes no CUDA call, so it can be created on a machine without a GPU.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <span>
#include <string>
#include <utility>

#include "gnm/core/check.hpp"
#include "gnm/cuda/check.hpp"

namespace gnm::cuda {

/// An array of `T` in device global memory, freed when the buffer is destroyed.
///
/// Move-only: exactly one owner frees the memory. Copies between host and device are explicit and
/// checked (sizes must match; errors name them).
template <class T>
class DeviceBuffer {
 public:
  /// An empty buffer (no allocation).
  DeviceBuffer() = default;

  /// Allocates `count` elements (uninitialised). Throws CudaError (code 2 when out of memory,
  /// 35 without a driver) naming the byte count.
  explicit DeviceBuffer(std::size_t count) : size_(count) {
    if (count == 0) return;
    GNM_CHECK(count <= static_cast<std::size_t>(-1) / sizeof(T), "device buffer size overflows",
              count, sizeof(T));
    const cudaError_t status = cudaMalloc(reinterpret_cast<void**>(&data_), count * sizeof(T));
    if (status != cudaSuccess) {
      size_ = 0;
      data_ = nullptr;
      const std::string call = "cudaMalloc of " + std::to_string(count * sizeof(T)) + " bytes";
      check(status, call.c_str(), __FILE__, __LINE__);
    }
  }

  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  /// Takes ownership from `other`, which becomes empty.
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

  /// Frees this buffer's memory, then takes ownership from `other`.
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  ~DeviceBuffer() { release(); }

  /// Device pointer (nullptr when empty). Dereference only in device code.
  T* data() noexcept { return data_; }
  /// Device pointer (nullptr when empty). Dereference only in device code.
  const T* data() const noexcept { return data_; }
  /// Number of elements.
  std::size_t size() const noexcept { return size_; }
  /// Number of bytes.
  std::size_t bytes() const noexcept { return size_ * sizeof(T); }
  /// True when the buffer holds no elements.
  bool empty() const noexcept { return size_ == 0; }

  /// Copies `host.size()` elements from host memory; the sizes must be equal.
  void copy_from_host(std::span<const T> host, cudaStream_t stream = nullptr) {
    GNM_CHECK_SHAPE(host.size() == size_, "host and device sizes differ", host.size(), size_);
    if (size_ == 0) return;
    GNM_CUDA_CHECK(cudaMemcpyAsync(data_, host.data(), bytes(), cudaMemcpyHostToDevice, stream));
    GNM_CUDA_CHECK(cudaStreamSynchronize(stream));
  }

  /// Copies the whole buffer into host memory; the sizes must be equal.
  void copy_to_host(std::span<T> host, cudaStream_t stream = nullptr) const {
    GNM_CHECK_SHAPE(host.size() == size_, "host and device sizes differ", host.size(), size_);
    if (size_ == 0) return;
    GNM_CUDA_CHECK(cudaMemcpyAsync(host.data(), data_, bytes(), cudaMemcpyDeviceToHost, stream));
    GNM_CUDA_CHECK(cudaStreamSynchronize(stream));
  }

 private:
  void release() noexcept {
    // cudaFree can fail only for an invalid pointer or a dead context; a destructor cannot throw,
    // and the memory is gone with the context in that case anyway.
    if (data_) (void)cudaFree(data_);
    data_ = nullptr;
    size_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
};

/// An array of `T` in page-locked (pinned) host memory: the DMA engines read it directly, so
/// cudaMemcpyAsync from it is truly asynchronous and runs at full PCIe/NVLink speed (chapter 8.1).
template <class T>
class PinnedBuffer {
 public:
  /// An empty buffer (no allocation).
  PinnedBuffer() = default;

  /// Allocates `count` pinned elements (uninitialised); throws CudaError naming the byte count.
  explicit PinnedBuffer(std::size_t count) : size_(count) {
    if (count == 0) return;
    GNM_CHECK(count <= static_cast<std::size_t>(-1) / sizeof(T), "pinned buffer size overflows",
              count, sizeof(T));
    const cudaError_t status = cudaMallocHost(reinterpret_cast<void**>(&data_), count * sizeof(T));
    if (status != cudaSuccess) {
      size_ = 0;
      data_ = nullptr;
      const std::string call = "cudaMallocHost of " + std::to_string(count * sizeof(T)) + " bytes";
      check(status, call.c_str(), __FILE__, __LINE__);
    }
  }

  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  /// Takes ownership from `other`, which becomes empty.
  PinnedBuffer(PinnedBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

  /// Frees this buffer's memory, then takes ownership from `other`.
  PinnedBuffer& operator=(PinnedBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  ~PinnedBuffer() { release(); }

  /// Host pointer (nullptr when empty).
  T* data() noexcept { return data_; }
  /// Host pointer (nullptr when empty).
  const T* data() const noexcept { return data_; }
  /// Number of elements.
  std::size_t size() const noexcept { return size_; }
  /// The elements as a span.
  std::span<T> span() noexcept { return {data_, size_}; }
  /// The elements as a read-only span.
  std::span<const T> span() const noexcept { return {data_, size_}; }

 private:
  void release() noexcept {
    if (data_) (void)cudaFreeHost(data_);
    data_ = nullptr;
    size_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace gnm::cuda
