// Exercise 8.1b: the stream pipeline (see exercises/ch08/pipeline.hpp). The work kernel is given;
// run_pipeline, which enqueues the chunks on the streams, is the exercise. The kernel is in
// pipeline_kernels.cuh, where the host emulator tests run it on the CPU.
//
// Napkin math (H100 SXM, PCIe Gen5 x16 to the host): 256 MiB take ~5 ms each way at ~50 GB/s,
// and ~0.2 ms to read and write at ~3 TB/s. A kernel with `iters` FMAs per element adds
// n·iters / (~33 TFMA/s): iters ≈ 2800 makes the kernel as long as one copy, which is where
// overlap pays most (section 8.4 measures it: three equal stages on their own engines take a
// third of the serial time).
#include "pipeline.hpp"

#include "gnm/core/check.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "pipeline_kernels.cuh"  // the work kernel and its grid

namespace gnm::ch08 {

void launch_pipeline_work(float* d_x, std::int64_t count, const PipelineWork& work,
                          cudaStream_t stream) {
  GNM_CHECK(count >= 0, "the element count cannot be negative", count);
  GNM_CHECK(work.iters >= 0, "the work's iteration count cannot be negative", work.iters);
  if (count == 0) return;
  GNM_CHECK(d_x != nullptr, "launch_pipeline_work needs a device pointer", count);
  namespace pd = pipeline_detail;
  pd::pipeline_work_kernel<<<pd::pipeline_grid(count), pd::kBlock, 0, stream>>>(
      d_x, count, work.a, work.b, work.iters);
  GNM_CUDA_CHECK_LAUNCH();
}

//! [run_pipeline]
void run_pipeline(const float* h_in, float* h_out, std::int64_t n, std::int64_t chunk_elems,
                  float* d_ring, std::int64_t ring_elems, std::span<const cudaStream_t> streams,
                  const PipelineWork& work, cudaStream_t origin) {
  // BEGIN SOLUTION("ex 8.1", "check the arguments; plan_chunks(n, chunk_elems); record a fork event on origin and make every stream wait for it; for chunk i use stream i % S and slot d_ring + (i % S) * chunk_elems: cudaMemcpyAsync in, launch_pipeline_work, cudaMemcpyAsync out; then record an event on every stream and make origin wait for each")
  const auto streams_count = static_cast<std::int64_t>(streams.size());
  GNM_CHECK(streams_count >= 1, "the pipeline needs at least one stream", streams_count);
  GNM_CHECK(work.iters >= 0, "the work's iteration count cannot be negative", work.iters);
  const std::vector<Chunk> chunks = plan_chunks(n, chunk_elems);  // checks n and chunk_elems
  if (chunks.empty()) return;
  GNM_CHECK(h_in != nullptr && h_out != nullptr && d_ring != nullptr,
            "run_pipeline needs host input, host output and a device ring for n > 0", n);
  GNM_CHECK(chunk_elems <= ring_elems / streams_count,
            "the device ring must hold one chunk per stream", ring_elems, streams_count,
            chunk_elems);

  // Fork: nothing may start before the work the caller queued on `origin` (which may still be
  // writing h_in). The streams are non-blocking, so no implicit ordering would do this.
  gnm::cuda::Event fork(/*timing=*/false);
  fork.record(origin);
  for (cudaStream_t s : streams) GNM_CUDA_CHECK(cudaStreamWaitEvent(s, fork.get(), 0));

  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    const std::size_t slot = i % streams.size();
    cudaStream_t s = streams[slot];
    float* d_slot = d_ring + static_cast<std::int64_t>(slot) * chunk_elems;
    const auto bytes = static_cast<std::size_t>(c.count) * sizeof(float);
    GNM_CUDA_CHECK(
        cudaMemcpyAsync(d_slot, h_in + c.offset, bytes, cudaMemcpyHostToDevice, s));
    launch_pipeline_work(d_slot, c.count, work, s);
    GNM_CUDA_CHECK(
        cudaMemcpyAsync(h_out + c.offset, d_slot, bytes, cudaMemcpyDeviceToHost, s));
  }

  // Join: `origin` continues only after every stream's last copy out. An event may be destroyed
  // once waited on: cudaStreamWaitEvent captured its state when it was called.
  for (cudaStream_t s : streams) {
    gnm::cuda::Event done(/*timing=*/false);
    done.record(s);
    GNM_CUDA_CHECK(cudaStreamWaitEvent(origin, done.get(), 0));
  }
  // END SOLUTION
}
//! [run_pipeline]

}  // namespace gnm::ch08
