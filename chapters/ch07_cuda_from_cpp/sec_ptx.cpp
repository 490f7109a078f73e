// 7.5 PTX (first half): kernels with inline PTX (ptx_kernels.cu), the SASS that ptxas made of each
// instruction — read with cuobjdump from this program's own binary, which needs no GPU — and on a
// GPU the kernels against double references. Then the wgmma GEMM (sec_wgmma.cu).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "gnm/core/random.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/gemm.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "ptx_kernels.hpp"
#include "sass.hpp"
#include "sections.hpp"
#include "tools.hpp"

#ifndef GNM_CH07_CUOBJDUMP
#define GNM_CH07_CUOBJDUMP ""
#endif

namespace chapter07 {
namespace {

namespace fs = std::filesystem;
using namespace gnm::cells;

// What each kernel's inline PTX should become in SASS (Hopper, sm_90).
struct Expectation {
  const char* kernel;
  const char* ptx;      // the PTX instruction we wrote (or the compiler did)
  const char* sass;     // the SASS opcode it should become
  bool expect_present;  // false: must NOT appear (the plain load is not a read-only load)
};

constexpr Expectation kExpectations[] = {
    {kScaleNcKernel, "ld.global.nc.f32", "LDG.E.CONSTANT", true},
    {kScalePlainKernel, "ld.global.f32", "LDG.E.CONSTANT", false},
    {kWarpSumKernel, "shfl.sync.bfly.b32", "SHFL.BFLY", true},
    {kMmaKernel, "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32", "HMMA.1688.F32.TF32", true},
};

//! [read_sass]
// Runs cuobjdump on this very program (/proc/self/exe: the kernels' cubins are embedded in it)
// and checks that each PTX instruction became the SASS instruction it should.
Section sass_tables(const Config& /*cfg*/) {
  Section s;
  const auto tool = find_tool("cuobjdump", "GNM_CUOBJDUMP", GNM_CH07_CUOBJDUMP);
  if (!tool) {
    Table t("7.5 PTX to SASS", {"status"});
    t.add(
        {str("skipped: cuobjdump not found (the CUDA toolkit's cuobjdump component; PyPI "
             "nvidia-cuda-cuobjdump; set GNM_CUOBJDUMP to its path)")});
    s.add(t);
    return s;
  }
  const std::string exe = fs::read_symlink("/proc/self/exe").string();
  std::string names;
  for (const auto& e : kExpectations) names += (names.empty() ? "" : ",") + std::string(e.kernel);
  const ToolRun sass_run = run_tool({tool->string(), "-sass", "-fun", names, exe});
  const ToolRun ptx_run = run_tool({tool->string(), "-ptx", exe});
  std::printf("%s: SASS in %.0f ms, PTX in %.0f ms (exit codes %d, %d)\n", tool->c_str(),
              sass_run.elapsed_ms, ptx_run.elapsed_ms, sass_run.exit_code, ptx_run.exit_code);
  const auto functions = parse_sass(sass_run.output);
  const ToolRun version = run_tool({tool->string(), "--version"});
  Table which("7.5 cuobjdump", {"tool", "version"});
  std::string version_text = last_line(version.output);
  for (const auto& line : split_lines(version.output)) {
    if (line.find("release") != std::string::npos) version_text = trim(line);
  }
  which.add({str(tool->string()), str(version_text)});
  s.add(which);

  Table t("7.5 PTX to SASS",
          {"kernel", "PTX", "in PTX", "SASS", "in SASS", "expected", "verified"});
  for (const auto& e : kExpectations) {
    const auto it = functions.find(e.kernel);
    const int in_sass = it == functions.end() ? -1 : count_opcode(it->second, e.sass);
    const std::string body = ptx_function(ptx_run.output, e.kernel);
    const int in_ptx = body.empty() ? -1 : count_occurrences(body, std::string(e.ptx) + " ");
    const bool ok = in_sass >= 0 && (e.expect_present ? in_sass >= 1 : in_sass == 0);
    t.add({str(e.kernel), str(e.ptx), in_ptx < 0 ? str("-") : integer(in_ptx), str(e.sass),
           in_sass < 0 ? str("not found") : integer(in_sass), str(e.expect_present ? ">= 1" : "0"),
           flag(ok)});
    s.verified = s.verified && ok;
  }
  s.add(t);

  // The warp sum around its butterfly: the five shuffles, each followed by its add. (The rest of
  // the kernel is the 64-bit grid-stride loop's bookkeeping.)
  // The guard predicate gets its own column without cuobjdump's '@' ("@!P0 EXIT" → "!P0",
  // "EXIT"), which also keeps Doxygen from reading "@P0" in the book's table as a command.
  Table listing("7.5 SASS of gnm_ch07_warp_sum", {"offset", "guard", "instruction"});
  if (const auto it = functions.find(kWarpSumKernel); it != functions.end()) {
    const auto& code = it->second;
    std::size_t first = code.size(), last = 0;
    for (std::size_t i = 0; i < code.size(); ++i) {
      if (code[i].opcode.rfind("SHFL", 0) == 0) {
        first = std::min(first, i);
        last = i;
      }
    }
    if (first < code.size()) {
      const std::size_t from = first >= 2 ? first - 2 : 0;
      const std::size_t to = std::min(code.size(), last + 7);
      for (std::size_t i = from; i < to; ++i) {
        const auto& ins = code[i];
        const std::string guard = ins.predicate.empty() ? "" : ins.predicate.substr(1);
        const std::string text =
            ins.predicate.empty() ? ins.text : trim(ins.text.substr(ins.predicate.size()));
        listing.add({str(ins.offset), str(guard), str(text)});
      }
    }
  }
  s.add(listing);
  return s;
}
//! [read_sass]

double median_ms(int repeats, const std::function<void()>& launch) {
  gnm::cuda::Event start, stop;
  std::vector<double> ms;
  for (int r = -1; r < repeats; ++r) {  // r == -1: warm-up
    start.record();
    launch();
    stop.record();
    stop.synchronize();
    if (r >= 0) ms.push_back(gnm::cuda::Event::elapsed_ms(start, stop));
  }
  return gnm::summarize(ms).median_ms;
}

// ld.global.nc against a plain load: y = a x, exact to one rounding.
void run_scale(std::int64_t n, int repeats, Table& t, Section& s) {
  std::vector<float> x(static_cast<std::size_t>(n));
  gnm::fill_uniform(x, 501, -1.0f, 1.0f);
  const float a = 1.5f;
  std::vector<double> ref(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    ref[i] = static_cast<double>(a) * static_cast<double>(x[i]);
  gnm::cuda::DeviceBuffer<float> d_x(x.size()), d_y(x.size() + 1);
  d_x.copy_from_host(x);
  for (const bool nc : {true, false}) {
    const float poison = -777.0f;  // one element past the end: must survive
    std::vector<float> y(x.size() + 1, std::numeric_limits<float>::quiet_NaN());
    y[x.size()] = poison;
    d_y.copy_from_host(y);
    scale(nc, n, a, d_x.data(), d_y.data());
    GNM_CUDA_CHECK(cudaDeviceSynchronize());
    d_y.copy_to_host(y);
    // One rounding of a product: |err| <= u |a x| with u = eps / 2.
    const auto cmp = gnm::compare(std::span<const float>(y).first(x.size()), ref,
                                  gnm::Tolerance{0.0, gnm::kEpsF32 / 2});
    const bool ok = cmp.ok && y[x.size()] == poison;
    if (!ok) std::printf("7.5 scale (%s): %s\n", nc ? "nc" : "plain", cmp.report.c_str());
    const double ms = median_ms(repeats, [&] { scale(nc, n, a, d_x.data(), d_y.data()); });
    const double gbs = 8.0 * static_cast<double>(n) / (ms * 1e6);  // read x, write y
    t.add({str(nc ? kScaleNcKernel : kScalePlainKernel), str("n = " + std::to_string(n)),
           num(ms, 4), num(gbs, 4), str("-"), sci(cmp.max_abs_error), flag(ok)});
    s.verified = s.verified && ok;
    s.figures.emplace_back(std::string("7.5 ") + (nc ? "ld.global.nc" : "plain load") + " GB/s",
                           gbs);
  }
}

// The butterfly warp sums against per-warp double sums. Each thread adds m = ceil(n / threads)
// terms in order (|err| <= (m - 1) u mass) and the butterfly 5 more levels: (m + 5) u mass,
// doubled for safety margin against an unlucky order of the tree.
void run_warp_sum(std::int64_t n, int repeats, Table& t, Section& s) {
  std::vector<float> x(static_cast<std::size_t>(n));
  gnm::fill_uniform(x, 502, -1.0f, 1.0f);
  const WarpSumGrid grid = warp_sum_grid(n);
  std::vector<double> ref, mass;
  warp_sum_reference(x, grid, ref, mass);
  gnm::cuda::DeviceBuffer<float> d_x(x.size()), d_partials(ref.size() + 1);
  d_x.copy_from_host(x);
  const float poison = -777.0f;
  std::vector<float> partials(ref.size() + 1, std::numeric_limits<float>::quiet_NaN());
  partials[ref.size()] = poison;
  d_partials.copy_from_host(partials);
  warp_sum(n, d_x.data(), d_partials.data(), grid);
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  d_partials.copy_to_host(partials);
  const double m = std::ceil(static_cast<double>(n) / static_cast<double>(grid.threads()));
  bool ok = partials[ref.size()] == poison;
  double worst = 0.0;
  for (std::size_t w = 0; w < ref.size(); ++w) {
    const double err = std::fabs(static_cast<double>(partials[w]) - ref[w]);
    const double bound = (m + 5.0) * gnm::kEpsF32 * mass[w] + 1e-30;
    worst = std::max(worst, err);
    if (!(err <= bound)) {
      if (ok)
        std::printf("7.5 warp sum: warp %zu got %.9g, want %.9g\n", w,
                    static_cast<double>(partials[w]), ref[w]);
      ok = false;
    }
  }
  const double ms = median_ms(repeats, [&] { warp_sum(n, d_x.data(), d_partials.data(), grid); });
  const double gbs = 4.0 * static_cast<double>(n) / (ms * 1e6);
  t.add({str(kWarpSumKernel), str("n = " + std::to_string(n)), num(ms, 4), num(gbs, 4), str("-"),
         sci(worst), flag(ok)});
  s.verified = s.verified && ok;
  s.figures.emplace_back("7.5 warp sum GB/s", gbs);
}

// The tf32 mma GEMM against the double reference, element by element within mma_tf32_bound.
void run_mma(int M, int N, int K, int repeats, Table& t, Section& s) {
  std::vector<float> A(static_cast<std::size_t>(M) * K), B(static_cast<std::size_t>(K) * N);
  gnm::fill_uniform(A, 503, -1.0f, 1.0f);
  gnm::fill_uniform(B, 504, -1.0f, 1.0f);
  std::vector<double> ref(static_cast<std::size_t>(M) * N), mass(ref.size());
  gnm::cpu::sgemm_reference(M, N, K, A.data(), std::max(K, 1), B.data(), N, ref, mass);
  gnm::cuda::DeviceBuffer<float> d_a(A.size()), d_b(B.size()), d_c(ref.size() + 1);
  d_a.copy_from_host(A);
  d_b.copy_from_host(B);
  const float poison = -777.0f;
  std::vector<float> C(ref.size() + 1, std::numeric_limits<float>::quiet_NaN());
  C[ref.size()] = poison;
  d_c.copy_from_host(C);
  mma_tf32_gemm(M, N, K, d_a.data(), d_b.data(), d_c.data());
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  d_c.copy_to_host(C);
  bool ok = C[ref.size()] == poison;
  double worst = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double err = std::fabs(static_cast<double>(C[i]) - ref[i]);
    worst = std::max(worst, err);
    if (!(err <= mma_tf32_bound(K, mass[i]) + 1e-30)) {
      if (ok)
        std::printf("7.5 mma tf32 %dx%dx%d: C[%zu] = %.9g, want %.9g\n", M, N, K, i,
                    static_cast<double>(C[i]), ref[i]);
      ok = false;
    }
  }
  const double ms =
      median_ms(repeats, [&] { mma_tf32_gemm(M, N, K, d_a.data(), d_b.data(), d_c.data()); });
  const double gflops = 2.0 * M * N * static_cast<double>(K) / (ms * 1e6);
  t.add({str(kMmaKernel),
         str(std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K)), num(ms, 4),
         str("-"), num(gflops, 4), sci(worst), flag(ok)});
  s.verified = s.verified && ok;
  s.figures.emplace_back("7.5 mma.sync tf32 GFLOP/s " + std::to_string(M), gflops);
}

}  // namespace

Section run_ptx(const Config& cfg) {
  Section s = sass_tables(cfg);
  if (auto skip = skip_without_gpu("7.5 inline PTX on the device")) {
    merge(s, *skip);
  } else {
    Table t("7.5 inline PTX on the device",
            {"kernel", "size", "ms", "GB/s", "GFLOP/s", "max error", "verified"});
    const int repeats = cfg.repeats(20, 3);
    run_scale(cfg.quick ? (1 << 20) : (1 << 26), repeats, t, s);
    // Sizes that are not multiples of the grid, the warp or the tile.
    run_warp_sum(cfg.quick ? 1000003 : (std::int64_t{1} << 26) + 12345, repeats, t, s);
    run_mma(17, 9, 13, repeats, t, s);
    run_mma(cfg.quick ? 127 : 1024, cfg.quick ? 129 : 1024, cfg.quick ? 67 : 1024, repeats, t, s);
    s.add(t);
  }
  merge(s, run_wgmma(cfg));
  return s;
}

}  // namespace chapter07
