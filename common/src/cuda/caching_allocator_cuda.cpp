// The caching allocator's CUDA backend: the only place where it touches the CUDA runtime.
#include <cuda_runtime_api.h>

#include "gnm/cuda/caching_allocator.hpp"
#include "gnm/cuda/check.hpp"

namespace gnm::cuda {
namespace {
cudaEvent_t as_event(EventHandle e) { return static_cast<cudaEvent_t>(e); }
cudaStream_t as_stream(StreamHandle s) { return static_cast<cudaStream_t>(s); }
}  // namespace

void* CudaMemoryBackend::malloc(std::size_t bytes) {
  void* p = nullptr;
  const cudaError_t status = cudaMalloc(&p, bytes);
  if (status == cudaErrorMemoryAllocation) {
    // Out of memory is not sticky: clear it so the next call does not report it again, and let
    // the allocator empty its cache and retry.
    (void)cudaGetLastError();
    return nullptr;
  }
  GNM_CUDA_CHECK(status);
  return p;
}

void CudaMemoryBackend::free(void* ptr) { GNM_CUDA_CHECK(cudaFree(ptr)); }

EventHandle CudaMemoryBackend::create_event() {
  cudaEvent_t e = nullptr;
  GNM_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  return e;
}

void CudaMemoryBackend::destroy_event(EventHandle event) {
  GNM_CUDA_CHECK(cudaEventDestroy(as_event(event)));
}

void CudaMemoryBackend::record_event(EventHandle event, StreamHandle stream) {
  GNM_CUDA_CHECK(cudaEventRecord(as_event(event), as_stream(stream)));
}

bool CudaMemoryBackend::query_event(EventHandle event) {
  const cudaError_t status = cudaEventQuery(as_event(event));
  if (status == cudaErrorNotReady) return false;
  GNM_CUDA_CHECK(status);
  return true;
}

void CudaMemoryBackend::synchronize_event(EventHandle event) {
  GNM_CUDA_CHECK(cudaEventSynchronize(as_event(event)));
}

}  // namespace gnm::cuda
