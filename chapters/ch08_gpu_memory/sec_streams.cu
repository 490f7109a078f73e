// 8.4 Streams, events, asynchronous execution: the chunked pipeline of exercise 8.1 —
// copy in → kernel → copy out — over 1, 2, 4 and 8 streams.
//
// An H100 has a copy engine for each direction and runs kernels beside both, so three stages of
// equal length can overlap almost completely. Measure each stage alone (same chunks, one stream),
// then the pipeline:
//   serial   = H2D + kernel + D2H      (no overlap: what one stream gives)
//   ideal    = max(H2D, kernel, D2H)   (perfect overlap)
//   overlap  = (serial − measured) / (serial − ideal)   (goal ≥ 0.8)
// With C chunks even a perfect pipeline fills and drains: its bound is ideal + (serial − ideal)/C,
// so C = 16 caps the overlap near 1 − 1/16 ≈ 0.94.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "gnm/core/host_info.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "gpu_timing.hpp"
#include "pipeline.hpp"
#include "sections.hpp"

namespace chapter08 {

namespace {

using namespace gnm::cells;
using gnm::ch08::Chunk;
using gnm::ch08::PipelineWork;

// The output checked against the CPU reference at every 997th element and at both ends of every
// chunk (the full check of a run with thousands of FMAs per element would take minutes on the
// CPU; the exercise's GPU tests check every element at smaller sizes).
bool sample_ok(const float* in, const float* out, std::int64_t n,
               const std::vector<Chunk>& chunks, const PipelineWork& work) {
  std::vector<std::int64_t> at;
  for (std::int64_t i = 0; i < n; i += 997) at.push_back(i);
  for (const Chunk& c : chunks) {
    at.push_back(c.offset);
    at.push_back(c.offset + c.count - 1);
  }
  for (std::int64_t i : at) {
    const float want = gnm::ch08::pipeline_work_reference(in[i], work);
    if (std::memcmp(&want, &out[i], sizeof(float)) != 0) return false;
  }
  return true;
}

}  // namespace

Section run_streams(const Config& cfg) {
  if (auto skip = skip_without_gpu("8.4")) return *skip;
  Section section;
  std::printf("== 8.4 streams and events: copy/compute overlap ==\n");
  const std::int64_t n = cfg.quick ? (std::int64_t{1} << 22) : (std::int64_t{1} << 26);
  const std::int64_t chunk_count = 16;
  const std::int64_t chunk = n / chunk_count;
  const auto un = static_cast<std::size_t>(n);
  const int repeat = cfg.repeats(7, 3);
  constexpr int kMaxStreams = 8;

  gnm::cuda::PinnedBuffer<float> h_in(un), h_out(un);
  gnm::fill_uniform(h_in.span(), cfg.seed + 5, -2.0f, 2.0f);
  gnm::cuda::DeviceBuffer<float> d_ring(static_cast<std::size_t>(kMaxStreams * chunk));
  std::vector<gnm::cuda::Stream> streams(kMaxStreams);
  std::vector<cudaStream_t> handles;
  for (const auto& st : streams) handles.push_back(st.get());
  gnm::cuda::Stream origin;
  const cudaStream_t o = origin.get();
  const std::vector<Chunk> chunks = gnm::ch08::plan_chunks(n, chunk);
  const auto bytes_of = [](const Chunk& c) { return static_cast<std::size_t>(c.count) * 4; };

  // Each stage alone, over the same chunks, on one stream.
  const auto time_h2d = [&] {
    return median_event_ms(o, 1, repeat, [&] {
      for (const Chunk& c : chunks) {
        GNM_CUDA_CHECK(cudaMemcpyAsync(d_ring.data(), h_in.data() + c.offset, bytes_of(c),
                                       cudaMemcpyHostToDevice, o));
      }
    });
  };
  const auto time_kernel = [&](const PipelineWork& w) {
    return median_event_ms(o, 1, repeat, [&] {
      for (const Chunk& c : chunks) gnm::ch08::launch_pipeline_work(d_ring.data(), c.count, w, o);
    });
  };
  const auto time_d2h = [&] {
    return median_event_ms(o, 1, repeat, [&] {
      for (const Chunk& c : chunks) {
        GNM_CUDA_CHECK(cudaMemcpyAsync(h_out.data() + c.offset, d_ring.data(), bytes_of(c),
                                       cudaMemcpyDeviceToHost, o));
      }
    });
  };
  // Choose the work per element so that the kernel takes as long as the copy in: equal stages
  // are where overlap saves the most (two thirds of the serial time).
  const double t_h2d = time_h2d();
  PipelineWork work{0.9999f, 1e-4f, 16};
  const double t_k16 = time_kernel(work);
  work.iters = static_cast<int>(std::clamp(std::lround(16.0 * t_h2d / t_k16), 1L, 100000L));
  const double t_kernel = time_kernel(work);
  const double t_d2h = time_d2h();
  const double serial = t_h2d + t_kernel + t_d2h;
  const double ideal = std::max({t_h2d, t_kernel, t_d2h});
  const double bound = ideal + (serial - ideal) / static_cast<double>(chunk_count);

  const std::string size = gnm::format_bytes(static_cast<double>(un * sizeof(float)));
  Table stages("8.4 stages alone, " + size + " in " + std::to_string(chunk_count) + " chunks",
               {"stage", "ms", "GB/s", "FLOP/B"});
  const auto dn = static_cast<double>(n);
  // FLOP/B puts the kernel on 6.6's roofline: 2·iters FLOPs per 8 bytes read and written.
  stages.add({str("H2D (pinned)"), num(t_h2d), num(gbps(4.0 * dn, t_h2d)), str("-")});
  stages.add({str("kernel (" + std::to_string(work.iters) + " FMAs per element)"), num(t_kernel),
              num(gbps(8.0 * dn, t_kernel)), num(2.0 * work.iters / 8.0)});
  stages.add({str("D2H (pinned)"), num(t_d2h), num(gbps(4.0 * dn, t_d2h)), str("-")});
  stages.add({str("serial sum"), num(serial), str("-"), str("-")});
  stages.add({str("ideal max(H2D, kernel, D2H)"), num(ideal), str("-"), str("-")});
  stages.add({str("bound with " + std::to_string(chunk_count) + " chunks (fill + drain)"),
              num(bound), str("-"), str("-")});
  section.add(stages);

  //! [pipeline_run]
  Table runs("8.4 pipeline over N streams", {"streams", "ms", "overlap", "of serial",
                                             "exact (sampled)", "same as 1 stream"});
  std::vector<float> first;
  double best_overlap = -1e9;
  for (int count : {1, 2, 4, kMaxStreams}) {
    const std::span<const cudaStream_t> use(handles.data(), static_cast<std::size_t>(count));
    std::memset(h_out.data(), 0, un * sizeof(float));
    const double ms = median_event_ms(o, 1, repeat, [&] {
      gnm::ch08::run_pipeline(h_in.data(), h_out.data(), n, chunk, d_ring.data(),
                              kMaxStreams * chunk, use, work, o);
    });
    const double overlap = (serial - ms) / (serial - ideal);
    const bool exact = sample_ok(h_in.data(), h_out.data(), n, chunks, work);
    if (first.empty()) first.assign(h_out.data(), h_out.data() + un);
    const bool same = std::memcmp(first.data(), h_out.data(), un * sizeof(float)) == 0;
    section.verified = section.verified && exact && same;
    runs.add({integer(count), num(ms), num(overlap), num(ms / serial), flag(exact), flag(same)});
    best_overlap = std::max(best_overlap, overlap);
  }
  //! [pipeline_run]
  section.add(runs);
  Table goal("8.4 goal", {"figure", "value", "verdict"});
  goal.add({str("best overlap"), num(best_overlap),
            str(best_overlap >= 0.8 ? "PASS (goal >= 0.8)" : "short (goal >= 0.8)")});
  goal.add({str("most the chunking allows"), num((serial - bound) / (serial - ideal)), str("-")});
  section.add(goal);
  section.figures.emplace_back("overlap_best", best_overlap);
  std::printf("\n");
  return section;
}

}  // namespace chapter08
