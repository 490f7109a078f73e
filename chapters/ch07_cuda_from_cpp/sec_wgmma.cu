// 7.5 (second half): the Hopper bf16 GEMM (wgmma + TMA, wgmma_gemm.cu) against cuBLAS bf16.
//
// For each size M = N = K (4096 and 8192; 256 and 512 with --quick): random bf16 A and B, the
// product by wgmma_gemm_bf16, by cuBLAS (cublasGemmEx, fp32 accumulation) and by the naive
// one-thread-per-element kernel; every element of the wgmma result is compared with the other two
// and 256 sampled elements with a double-precision CPU dot product. Then the median time of each
// GEMM (CUDA events, after a warm-up) as TFLOP/s and as a fraction of cuBLAS.
//
// Tolerance (gemm_bf16_error_bound, wgmma_gemm.hpp): bf16 products are exact in fp32 and the K
// fp32 additions err by at most 2^-22 of the magnitudes added (tensor cores truncate after
// aligning to the largest exponent), so |C_ij − exact| <= K · 2^-22 · ‖a_i‖ ‖b_j‖ for each GPU
// result; two GPU results may differ by twice that. No output rounding: C is fp32. The bound is
// a worst case (at 8192 with uniform [-1, 1) inputs: ~5, against typical errors ~1e-3 and an
// element ~30 in size), so it catches indexing and synchronization bugs (errors the size of the
// elements) at full size; the GPU tests check tighter cases at small K.
//
// The host's time is spent in filling 2 · 8192² random numbers and comparing 3 · 8192² results.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/device.hpp"
#include "gnm/cuda/stream.hpp"
#include "sections.hpp"
#include "wgmma_gemm.hpp"

namespace chapter07 {
namespace {

using namespace gnm::cells;
using bf16 = __nv_bfloat16;

constexpr const char* kTitle = "7.5 wgmma GEMM";
constexpr int kSamples = 256;  // elements checked against the CPU per size

std::vector<bf16> random_bf16(std::size_t n, std::uint64_t seed) {
  std::vector<float> f(n);
  gnm::fill_uniform(f, seed, -1.0f, 1.0f);
  std::vector<bf16> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = __float2bfloat16_rn(f[i]);
  return out;
}

// Largest |x − y| over all elements; infinity when either holds a NaN (an unwritten element).
double max_abs_diff(const std::vector<float>& x, const std::vector<float>& y) {
  double worst = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double d = std::fabs(static_cast<double>(x[i]) - static_cast<double>(y[i]));
    if (std::isnan(d)) return INFINITY;
    worst = std::max(worst, d);
  }
  return worst;
}

// Median milliseconds of `repeats` timed calls of `gemm` after one untimed warm-up call.
double median_ms(const std::function<void()>& gemm, int repeats) {
  gemm();
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  gnm::cuda::EventTimer timer;
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    timer.start();
    gemm();
    ms.push_back(static_cast<double>(timer.stop()));
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

Section unsupported_device() {
  int device = 0;
  GNM_CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  GNM_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  const std::string why = "needs a compute capability 9.0 device (H100/H200: wgmma and TMA are "
                          "sm_90a instructions); device " + std::to_string(device) + " is " +
                          prop.name + ", compute capability " + std::to_string(prop.major) + "." +
                          std::to_string(prop.minor);
  std::printf("%s skipped: %s\n", kTitle, why.c_str());
  Table t(kTitle, {"status"});
  t.add({str("skipped: " + why)});
  Section s;
  s.json = t.json_member();
  return s;
}

}  // namespace

Section run_wgmma(const Config& cfg) {
  if (auto skipped = skip_without_gpu(kTitle)) return *skipped;
  if (!gnm::ch07::wgmma_device_supported()) return unsupported_device();

  const std::vector<int> sizes =
      cfg.quick ? std::vector<int>{256, 512} : std::vector<int>{4096, 8192};
  const int repeats = cfg.repeats(/*full_default=*/20, /*quick_default=*/3);
  Table check(std::string(kTitle) + ": correctness",
              {"M=N=K", "against", "max |diff|", "bound", "ok"});
  Table timing(std::string(kTitle) + " vs cuBLAS bf16",
               {"M=N=K", "GEMM", "ms (median)", "TFLOP/s", "of cuBLAS"});
  Section s;
  for (const int n : sizes) {
    const std::size_t elems = static_cast<std::size_t>(n) * n;
    const std::vector<bf16> a = random_bf16(elems, 7500 + static_cast<std::uint64_t>(n));
    const std::vector<bf16> b = random_bf16(elems, 7600 + static_cast<std::uint64_t>(n));
    const double bound = gnm::ch07::gemm_bf16_error_bound(
        n, gnm::ch07::max_row_norm(a.data(), n, n), gnm::ch07::max_row_norm(b.data(), n, n));
    gnm::cuda::DeviceBuffer<bf16> d_a(elems), d_b(elems);
    d_a.copy_from_host(a);
    d_b.copy_from_host(b);
    gnm::cuda::DeviceBuffer<float> d_w(elems), d_c(elems), d_n(elems);
    for (float* p : {d_w.data(), d_c.data(), d_n.data()}) {  // NaN: unwritten elements show
      GNM_CUDA_CHECK(cudaMemset(p, 0xFF, elems * sizeof(float)));
    }

    //! [wgmma_run]
    auto wgmma = [&] { gnm::ch07::wgmma_gemm_bf16(d_a.data(), d_b.data(), d_w.data(), n, n, n); };
    auto cublas = [&] { gnm::ch07::cublas_gemm_bf16(d_a.data(), d_b.data(), d_c.data(), n, n, n); };
    wgmma();
    cublas();
    gnm::ch07::naive_gemm_bf16(d_a.data(), d_b.data(), d_n.data(), n, n, n);
    GNM_CUDA_CHECK(cudaDeviceSynchronize());
    //! [wgmma_run]
    std::vector<float> w(elems), c(elems), nv(elems);
    d_w.copy_to_host(w);
    d_c.copy_to_host(c);
    d_n.copy_to_host(nv);

    // Sampled elements against exact dot products (double sums of exact products).
    double worst_cpu = 0.0;
    std::uint64_t state = 0x9E3779B97F4A7C15ull ^ static_cast<std::uint64_t>(n);
    for (int i = 0; i < kSamples; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;  // an LCG picks (row, col)
      const std::size_t row = (state >> 33) % static_cast<std::size_t>(n);
      const std::size_t col = (state >> 11) % static_cast<std::size_t>(n);
      double exact = 0.0;
      for (std::size_t k = 0; k < static_cast<std::size_t>(n); ++k) {
        exact += static_cast<double>(__bfloat162float(a[row * n + k])) *
                 static_cast<double>(__bfloat162float(b[col * n + k]));
      }
      const double d = std::fabs(static_cast<double>(w[row * n + col]) - exact);
      worst_cpu = std::isnan(d) ? INFINITY : std::max(worst_cpu, d);
    }
    const double worst_naive = max_abs_diff(w, nv);
    const double worst_cublas = max_abs_diff(w, c);
    const bool ok_cpu = worst_cpu <= bound;
    const bool ok_naive = worst_naive <= 2 * bound;
    const bool ok_cublas = worst_cublas <= 2 * bound;
    s.verified = s.verified && ok_cpu && ok_naive && ok_cublas;
    check.add({integer(n), str("CPU double (256 samples)"), sci(worst_cpu), sci(bound),
               flag(ok_cpu)});
    check.add({integer(n), str("naive kernel"), sci(worst_naive), sci(2 * bound), flag(ok_naive)});
    check.add({integer(n), str("cuBLAS"), sci(worst_cublas), sci(2 * bound), flag(ok_cublas)});

    const double flop = 2.0 * static_cast<double>(n) * n * n;
    const double ms_wgmma = median_ms(wgmma, repeats);
    const double ms_cublas = median_ms(cublas, repeats);
    const double tflops_wgmma = flop / (ms_wgmma * 1e-3) / 1e12;
    const double tflops_cublas = flop / (ms_cublas * 1e-3) / 1e12;
    timing.add({integer(n), str("wgmma (ours)"), num(ms_wgmma), num(tflops_wgmma),
                num(ms_cublas / ms_wgmma)});
    timing.add({integer(n), str("cuBLAS bf16"), num(ms_cublas), num(tflops_cublas), num(1.0)});
    if (n == sizes.back()) {
      const std::string tag = std::to_string(n);
      s.figures.emplace_back("wgmma_vs_cublas_" + tag, ms_cublas / ms_wgmma);
      s.figures.emplace_back("wgmma_tflops_" + tag, tflops_wgmma);
      s.figures.emplace_back("cublas_bf16_tflops_" + tag, tflops_cublas);
    }
  }
  s.add(check);
  s.add(timing);
  return s;
}

}  // namespace chapter07
