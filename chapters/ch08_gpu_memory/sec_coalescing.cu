// 8.3 Memory coalescing: how the addresses of a warp's 32 loads decide the bandwidth.
//
//   - stride: neighbouring threads read floats s apart. The memory system moves 32-byte sectors,
//     so a warp reading 32 floats at stride 1 uses 4 sectors fully; at stride ≥ 8 it touches 32
//     sectors and uses 4 bytes of each. Bytes moved per useful float: 4 (write) + min(4s, 32)
//     (read), so the model predicts 8 / (4 + min(4s, 32)) of the stride-1 bandwidth: 1, 0.67,
//     0.4, then 0.22 from s = 8 on.
//   - offset: the warp's 128 bytes start o floats past a 128-byte line. They then span two lines
//     (5 sectors instead of 4), but the next warp reads the rest of the second line, which L2
//     still holds: the model predicts a few percent, not 2×.
//   - the transpose ladder of gnm::cuda::transpose against gnm::cuda::copy and cudaMemcpy.
//
// Effective bandwidth = useful bytes read + written / time, as a copy counts them.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "gnm/core/host_info.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "gnm/cuda/transpose.hpp"
#include "gpu_timing.hpp"
#include "kernels.hpp"
#include "sections.hpp"

namespace chapter08 {

namespace {

using namespace gnm::cells;
using gnm::cuda::TransposeKernel;

// The CPU transpose of a (rows, cols) matrix, for the checks.
std::vector<float> transpose_reference(const std::vector<float>& in, std::int64_t rows,
                                       std::int64_t cols) {
  std::vector<float> out(in.size());
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      out[static_cast<std::size_t>(c * rows + r)] = in[static_cast<std::size_t>(r * cols + c)];
    }
  }
  return out;
}

// Runs `kernel` once on a random (rows, cols) matrix with a poisoned tail and checks it exactly.
bool transpose_ok(TransposeKernel kernel, std::int64_t rows, std::int64_t cols, cudaStream_t s) {
  const auto n = static_cast<std::size_t>(rows * cols);
  const std::size_t pad = 67;
  std::vector<float> in(n);
  gnm::fill_uniform(in, 830 + n, -1.0f, 1.0f);
  const std::vector<float> want = transpose_reference(in, rows, cols);
  std::vector<float> poison(n + pad, -3.0f), got(n + pad);
  gnm::cuda::DeviceBuffer<float> d_in(n), d_out(n + pad);
  d_in.copy_from_host(in, s);
  d_out.copy_from_host(poison, s);
  gnm::cuda::transpose(d_in.data(), d_out.data(), rows, cols, kernel, s);
  d_out.copy_to_host(got, s);
  return std::memcmp(got.data(), want.data(), n * sizeof(float)) == 0 &&
         std::all_of(got.begin() + static_cast<std::ptrdiff_t>(n), got.end(),
                     [](float v) { return v == -3.0f; });
}

std::string verdict(double fraction, double goal) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s (goal >= %.2f)", fraction >= goal ? "PASS" : "short", goal);
  return buf;
}

}  // namespace

Section run_coalescing(const Config& cfg) {
  if (auto skip = skip_without_gpu("8.3")) return *skip;
  Section section;
  std::printf("== 8.3 coalescing: stride, offset, the transpose ladder ==\n");
  gnm::cuda::Stream stream;
  const cudaStream_t s = stream.get();
  const int repeat = cfg.repeats(20, 5);

  // ≥ 256 MiB per array in the full run: five times the 50 MB L2, so DRAM is what is measured.
  const std::int64_t n = cfg.quick ? (std::int64_t{1} << 22) : (std::int64_t{1} << 26);
  const auto un = static_cast<std::size_t>(n);
  const double useful = 8.0 * static_cast<double>(n);
  std::vector<float> in(un + 32), got(un);
  gnm::fill_uniform(in, cfg.seed + 3, -1.0f, 1.0f);
  gnm::cuda::DeviceBuffer<float> d_in(un + 32), d_out(un);
  d_in.copy_from_host(in, s);
  const std::string size = gnm::format_bytes(static_cast<double>(un * sizeof(float)));

  //! [stride_sweep]
  Table stride_table("8.3 stride: out[i] = in[perm(i)], neighbours read s floats apart, " + size,
                     {"stride s", "ms", "GB/s", "of stride 1", "model", "exact"});
  double stride1 = 0;
  for (int stride : {1, 2, 4, 8, 16, 32}) {
    const double ms = median_event_ms(s, 2, repeat, [&] {
      strided_gather(d_in.data(), d_out.data(), n, stride, s);
    });
    d_out.copy_to_host(got, s);
    bool exact = true;
    for (std::int64_t i = 0; i < n && exact; ++i) {
      exact = got[static_cast<std::size_t>(i)] ==
              in[static_cast<std::size_t>(strided_gather_source(i, n, stride))];
    }
    section.verified = section.verified && exact;
    const double bw = gbps(useful, ms);
    if (stride == 1) stride1 = bw;
    const double model = 8.0 / (4.0 + std::min(4.0 * stride, 32.0));
    stride_table.add(
        {integer(stride), num(ms), num(bw), num(bw / stride1), num(model), flag(exact)});
  }
  //! [stride_sweep]
  section.add(stride_table);

  Table offset_table("8.3 offset: out[i] = in[i + o], " + size,
                     {"offset o (floats)", "ms", "GB/s", "of offset 0", "exact"});
  double offset0 = 0;
  for (int offset : {0, 1, 2, 4, 8, 16, 24, 31, 32}) {
    const double ms = median_event_ms(s, 2, repeat, [&] {
      offset_copy(d_in.data(), d_out.data(), n, offset, s);
    });
    d_out.copy_to_host(got, s);
    const bool exact = std::memcmp(got.data(), in.data() + offset, un * sizeof(float)) == 0;
    section.verified = section.verified && exact;
    const double bw = gbps(useful, ms);
    if (offset == 0) offset0 = bw;
    offset_table.add({integer(offset), num(ms), num(bw), num(bw / offset0), flag(exact)});
  }
  section.add(offset_table);

  // The transpose ladder: first every kernel on awkward shapes (exact, nothing written past the
  // end), then timed on a square matrix against the copy kernel and cudaMemcpy.
  const TransposeKernel kernels[] = {TransposeKernel::naive, TransposeKernel::tiled,
                                     TransposeKernel::tiled_padded,
                                     TransposeKernel::tiled_padded_ilp};
  const std::pair<std::int64_t, std::int64_t> shapes[] = {
      {1000, 1003}, {1, 7}, {33, 1}, {31, 65}, {4096, 33}};
  bool shapes_ok = true;
  for (TransposeKernel k : kernels) {
    for (const auto& [r, c] : shapes) shapes_ok = shapes_ok && transpose_ok(k, r, c, s);
  }
  section.verified = section.verified && shapes_ok;

  const std::int64_t side = cfg.quick ? 1024 : 8192;
  const std::int64_t elems = side * side;
  const auto ue = static_cast<std::size_t>(elems);
  std::vector<float> mat(ue), mat_t(ue);
  gnm::fill_uniform(mat, cfg.seed + 4, -1.0f, 1.0f);
  const std::vector<float> want = transpose_reference(mat, side, side);
  gnm::cuda::DeviceBuffer<float> d_a(ue), d_b(ue);
  d_a.copy_from_host(mat, s);
  const double moved = 8.0 * static_cast<double>(elems);
  const std::string msize = std::to_string(side) + " × " + std::to_string(side);

  const double memcpy_ms = median_event_ms(s, 2, repeat, [&] {
    GNM_CUDA_CHECK(cudaMemcpyAsync(d_b.data(), d_a.data(), ue * sizeof(float),
                                   cudaMemcpyDeviceToDevice, s));
  });
  const double copy_ms = median_event_ms(s, 2, repeat, [&] {
    gnm::cuda::copy(d_a.data(), d_b.data(), elems, s);
  });
  d_b.copy_to_host(mat_t, s);
  const bool copy_ok = mat_t == mat;
  Table ladder("8.3 transpose ladder, " + msize + " floats",
               {"kernel", "ms", "GB/s", "of copy", "of cudaMemcpy", "exact"});
  ladder.add({str("cudaMemcpy device to device"), num(memcpy_ms), num(gbps(moved, memcpy_ms)),
              num(copy_ms / memcpy_ms), num(1.0), flag(true)});
  ladder.add({str("gnm::cuda::copy"), num(copy_ms), num(gbps(moved, copy_ms)), num(1.0),
              num(memcpy_ms / copy_ms), flag(copy_ok)});
  double padded_fraction = 0, ilp_fraction = 0;
  bool ladder_ok = copy_ok;
  for (TransposeKernel k : kernels) {
    const double ms = median_event_ms(s, 2, repeat, [&] {
      gnm::cuda::transpose(d_a.data(), d_b.data(), side, side, k, s);
    });
    d_b.copy_to_host(mat_t, s);
    const bool exact = mat_t == want;
    ladder_ok = ladder_ok && exact;
    ladder.add({str(gnm::cuda::transpose_kernel_name(k)), num(ms), num(gbps(moved, ms)),
                num(copy_ms / ms), num(memcpy_ms / ms), flag(exact)});
    if (k == TransposeKernel::tiled_padded) padded_fraction = copy_ms / ms;
    if (k == TransposeKernel::tiled_padded_ilp) ilp_fraction = copy_ms / ms;
    section.figures.emplace_back(std::string("transpose_") + gnm::cuda::transpose_kernel_name(k) +
                                     "_GBps",
                                 gbps(moved, ms));
  }
  section.add(ladder);
  section.verified = section.verified && ladder_ok;

  Table goals("8.3 goals", {"ratio", "value", "verdict"});
  goals.add({str("gnm::cuda::copy / cudaMemcpy"), num(memcpy_ms / copy_ms),
             str(verdict(memcpy_ms / copy_ms, 0.95))});
  goals.add({str("tiled_padded / copy"), num(padded_fraction), str(verdict(padded_fraction, 0.9))});
  goals.add({str("tiled_padded_ilp / copy"), num(ilp_fraction), str(verdict(ilp_fraction, 0.9))});
  section.add(goals);
  section.figures.emplace_back("cudamemcpy_d2d_GBps", gbps(moved, memcpy_ms));
  section.figures.emplace_back("copy_kernel_GBps", gbps(moved, copy_ms));
  section.figures.emplace_back("copy_over_cudamemcpy", memcpy_ms / copy_ms);
  section.figures.emplace_back("transpose_padded_ilp_over_copy", ilp_fraction);
  std::printf("\n");
  return section;
}

}  // namespace chapter08
