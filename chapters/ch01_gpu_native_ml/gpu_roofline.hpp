// Sections 1.1 and 1.3 on the GPU: the FMA peak and device-copy bandwidth (the GPU's roofline),
// kernel-launch overhead and host<->device transfer latency and bandwidth. Defined in
// gpu_roofline.cu, which only the CUDA build compiles: call these under #if GNM_HAVE_CUDA.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace gnm::ch01 {

/// The GPU's measured roofline.
struct GpuRoofline {
  std::string device;        // "NVIDIA H100 80GB HBM3"
  double peak_gflops = 0;    // fp32 FMA throughput, best of the repetitions
  double copy_gbps = 0;      // device-to-device copy, read + write bytes, best of the repetitions
  std::size_t copy_bytes = 0;
  bool fma_exact = false;    // every thread's sum equals the closed form
  bool copy_ok = false;      // the copy's destination holds the source, element by element
  double ridge() const { return peak_gflops / copy_gbps; }
};

/// Measures the FMA throughput and the device copy bandwidth on `device` (quick: smaller runs).
GpuRoofline measure_gpu_roofline(int device, int reps, bool quick);

/// One host<->device transfer size, pinned host memory, median times in microseconds.
struct TransferRow {
  std::size_t bytes = 0;
  double h2d_us = 0;
  double d2h_us = 0;
};

/// Launch and transfer overheads on `device`.
struct GpuOverheads {
  double launch_us = 0;       // host time per launch of an empty kernel, launched back to back
  double launch_sync_us = 0;  // one empty launch plus cudaStreamSynchronize: the round trip
  std::vector<TransferRow> transfers;
};

/// Measures launch and transfer overheads on `device` (quick: fewer and smaller transfers).
GpuOverheads measure_gpu_overheads(int device, int reps, bool quick);

}  // namespace gnm::ch01
