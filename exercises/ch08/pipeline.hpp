// Exercise 8.1 — a stream pipeline: copy in, compute, copy out, one chunk at a time over S streams.
//
// A transfer over the host link (PCIe: ~50 GB/s) is 60× slower than the device's memory, so a
// kernel that must first receive its input waits idle unless the next chunk's copy overlaps this
// chunk's compute. Cut the array into chunks and give chunk i to stream i % S: an H100 has
// separate copy engines for each direction, so chunk i+1's host→device copy, chunk i's kernel and
// chunk i−1's device→host copy can all run at once (section 8.4 measures how close that comes to
// the ideal max(H2D, kernel, D2H)).
//
// Write, in exercises/ch08/pipeline.cpp and exercises/ch08/pipeline.cu:
//   (a) plan_chunks(): the chunks {offset, count} that cover [0, n) in order;
//   (b) run_pipeline(): enqueue every chunk's copy in, kernel and copy out on stream i % S, with a
//       fork from and a join back to the caller's `origin` stream through events.
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch08
// The (a) tests run everywhere; the (b) tests need a GPU and skip without one.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#if GNM_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace gnm::ch08 {

/// A contiguous piece [offset, offset + count) of an array of n elements.
struct Chunk {
  std::int64_t offset = 0;  ///< First element.
  std::int64_t count = 0;   ///< Number of elements (≥ 1).
  bool operator==(const Chunk&) const = default;  ///< Equal offset and count.
};

/// Ex 8.1a. Splits [0, n) into chunks of `chunk_elems` elements, in order; the last chunk holds
/// the remainder when n is not a multiple of chunk_elems.
///
/// - n == 0 gives no chunks; n < chunk_elems gives one chunk of n elements.
/// - n < 0 or chunk_elems < 1 throws gnm::Error naming the value.
/// - Never overflows, even for n near INT64_MAX.
std::vector<Chunk> plan_chunks(std::int64_t n, std::int64_t chunk_elems);

/// The work every chunk's kernel does (given, not part of the exercise): each element x becomes
/// fmaf(x, a, b), `iters` times over. One fused multiply-add per iteration, so `iters` sets the
/// kernel's cost per byte: section 8.4 chooses it so that the kernel takes as long as a copy.
struct PipelineWork {
  float a = 0.9999f;  ///< Multiplier (|a| < 1 keeps the values bounded).
  float b = 1e-4f;    ///< Addend.
  int iters = 1;      ///< Fused multiply-adds per element (≥ 0).
};

/// The CPU reference of PipelineWork for one element. fmaf rounds once on both sides, so the
/// kernel's result equals this bit for bit (given, not part of the exercise).
float pipeline_work_reference(float x, const PipelineWork& work);

#if GNM_HAVE_CUDA
/// Applies `work` in place to `count` floats at device pointer `d_x` on `stream` (given). count
/// == 0 launches nothing; a null pointer with count > 0 or iters < 0 throws gnm::Error.
void launch_pipeline_work(float* d_x, std::int64_t count, const PipelineWork& work,
                          cudaStream_t stream);

/// Ex 8.1b. h_out[i] = work(h_in[i]) for i in [0, n), chunk by chunk on `streams`.
///
/// - h_in and h_out are host arrays of n floats; pinned (cudaMallocHost) for the copies to be
///   asynchronous, but pageable memory gives the same result, only slower.
/// - d_ring is a device buffer of `ring_elems` ≥ streams.size() × chunk_elems floats: chunk i uses
///   slot i % S, d_ring + (i % S) × chunk_elems, on stream i % S. The same stream reuses the
///   same slot, so stream order alone makes the reuse safe: chunk i+S's copy in starts after
///   chunk i's copy out.
/// - Ordering with the caller: the pipeline starts after everything already queued on `origin`
///   (record an event there; every stream waits for it), and `origin` waits for every stream at
///   the end (an event per stream). The function returns without blocking: the caller
///   synchronizes `origin` (or queues more work on it) and then h_out holds the result.
/// - n == 0 copies nothing. Throws gnm::Error (naming the values) for an empty `streams`, a null
///   pointer with n > 0, a ring smaller than S × chunk_elems, chunk_elems < 1 or iters < 0.
void run_pipeline(const float* h_in, float* h_out, std::int64_t n, std::int64_t chunk_elems,
                  float* d_ring, std::int64_t ring_elems, std::span<const cudaStream_t> streams,
                  const PipelineWork& work, cudaStream_t origin = nullptr);
#endif

}  // namespace gnm::ch08
