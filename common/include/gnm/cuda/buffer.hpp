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

#include "gnm/core/check.hpp"
#include "gnm/core/owned_array.hpp"
#include "gnm/cuda/check.hpp"

namespace gnm::cuda {

/// Device global memory from cudaMalloc; failures throw CudaError naming the byte count
/// (code 2 when out of memory, 35 without a driver).
struct DeviceAllocator {
  /// cudaMalloc of `bytes`.
  static void* allocate(std::size_t bytes) {
    void* p = nullptr;
    const std::string call = "cudaMalloc of " + std::to_string(bytes) + " bytes";
    check(cudaMalloc(&p, bytes), call.c_str(), __FILE__, __LINE__);
    return p;
  }
  /// cudaFree; a failure here (a dead context) cannot be reported from a destructor, and the
  /// memory is gone with the context anyway.
  static void release(void* p) noexcept { (void)cudaFree(p); }
};

/// Page-locked host memory from cudaMallocHost; failures throw CudaError naming the byte count.
struct PinnedAllocator {
  /// cudaMallocHost of `bytes`.
  static void* allocate(std::size_t bytes) {
    void* p = nullptr;
    const std::string call = "cudaMallocHost of " + std::to_string(bytes) + " bytes";
    check(cudaMallocHost(&p, bytes), call.c_str(), __FILE__, __LINE__);
    return p;
  }
  /// cudaFreeHost.
  static void release(void* p) noexcept { (void)cudaFreeHost(p); }
};

/// An array of `T` in device global memory, freed when the buffer is destroyed.
///
/// Move-only: exactly one owner frees the memory. data() is a device pointer: dereference it only
/// in device code. Copies between host and device are explicit and checked (sizes must match).
template <class T>
class DeviceBuffer : public OwnedArray<T, DeviceAllocator> {
 public:
  using OwnedArray<T, DeviceAllocator>::OwnedArray;

  /// Copies `host.size()` elements from host memory and waits; the sizes must be equal
  /// (ShapeError naming both otherwise).
  void copy_from_host(std::span<const T> host, cudaStream_t stream = nullptr) {
    GNM_CHECK_SHAPE(host.size() == this->size(), "host and device sizes differ", host.size(),
                    this->size());
    if (this->empty()) return;
    GNM_CUDA_CHECK(
        cudaMemcpyAsync(this->data(), host.data(), this->bytes(), cudaMemcpyHostToDevice, stream));
    GNM_CUDA_CHECK(cudaStreamSynchronize(stream));
  }

  /// Copies the whole buffer into host memory and waits; the sizes must be equal.
  void copy_to_host(std::span<T> host, cudaStream_t stream = nullptr) const {
    GNM_CHECK_SHAPE(host.size() == this->size(), "host and device sizes differ", host.size(),
                    this->size());
    if (this->empty()) return;
    GNM_CUDA_CHECK(
        cudaMemcpyAsync(host.data(), this->data(), this->bytes(), cudaMemcpyDeviceToHost, stream));
    GNM_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
};

/// An array of `T` in page-locked (pinned) host memory: the DMA engines read it directly, so
/// cudaMemcpyAsync from it is truly asynchronous and runs at full PCIe/NVLink speed (chapter 8.1).
template <class T>
class PinnedBuffer : public OwnedArray<T, PinnedAllocator> {
 public:
  using OwnedArray<T, PinnedAllocator>::OwnedArray;

  /// The elements as a span.
  std::span<T> span() noexcept { return {this->data(), this->size()}; }
  /// The elements as a read-only span.
  std::span<const T> span() const noexcept { return {this->data(), this->size()}; }
};

}  // namespace gnm::cuda
