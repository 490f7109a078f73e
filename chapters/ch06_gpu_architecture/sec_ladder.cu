// 6.2 The memory hierarchy through the SGEMM ladder: nine kernels (solutions/ch06/sgemm_ladder.cu,
// exercises 6.1 and 6.2) and cuBLAS with TF32 off, on square problems at 1024 … 8192 and at sizes
// that are no multiple of any tile (1000, 4097; --quick: 256 and 257).
//
// Every kernel is verified before it is timed, with alpha = 1 and beta = 0 on a C filled with NaN
// (so a kernel that reads C when beta is 0, or misses an element, fails) followed by a poisoned
// tail (so a kernel that writes past C fails). The reference:
//   - up to ~1.1e9 multiply-adds (1000, 1024, the quick sizes): every element against a
//     double-precision CPU product, with each element's bound from the error model
//     (gnm::ch06::sgemm_error_bound, Note [SGEMM error bound]);
//   - above that a full CPU product takes minutes, so: (a) 16 rows — the first and last of the
//     tiles at both ends and in the middle, plus random ones — against the double CPU product, for
//     cuBLAS and every rung, all N columns each; and (b) every element against cuBLAS (itself
//     checked by (a)), with twice the bound (each side may err by one bound) and the bound's
//     Σ|a·b| computed on the GPU as |A| · |B| by cuBLAS. (a) ties everything to an independent
//     reference, (b) leaves no element of any rung unchecked.
// Then the median of --repeat runs (CUDA events, one warm-up), GFLOP/s = 2·M·N·K / time, and the
// ratio to cuBLAS measured in the same process on the same buffers.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gnm/core/philox.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "gpu_common.cuh"
#include "sections.hpp"
#include "sgemm_ladder.hpp"

namespace chapter06 {
namespace {

using namespace gnm::cells;
namespace ladder = gnm::ch06;

constexpr float kTailPoison = -777.0f;   // after C's M·N elements: must survive every kernel
constexpr std::size_t kTail = 256;       // poisoned floats after C
constexpr double kFullCheckMacs = 1.1e9;  // up to here every element is checked on the CPU
constexpr int kSampledRows = 16;

// The host and device data of one M × N × K problem.
struct Problem {
  std::int64_t M, N, K;
  std::vector<float> A, B;                     // (M, K), (K, N)
  gnm::cuda::DeviceBuffer<float> dA, dB, dC;   // dC: (M, N) then kTail poisoned floats
  Problem(std::int64_t m, std::int64_t n, std::int64_t k, std::uint64_t seed)
      : M(m), N(n), K(k),
        A(static_cast<std::size_t>(m * k)), B(static_cast<std::size_t>(k * n)),
        dA(A.size()), dB(B.size()), dC(static_cast<std::size_t>(m * n) + kTail) {
    gnm::fill_uniform(A, seed, -1.0f, 1.0f);
    gnm::fill_uniform(B, seed + 1, -1.0f, 1.0f);
    dA.copy_from_host(A);
    dB.copy_from_host(B);
  }
  std::size_t cells() const { return static_cast<std::size_t>(M * N); }
  double flops() const {
    return 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  }
  // C = NaN everywhere (beta = 0 must not read it), then the poisoned tail.
  void poison_c(cudaStream_t stream) {
    GNM_CUDA_CHECK(cudaMemsetAsync(dC.data(), 0xFF, cells() * sizeof(float), stream));  // NaN
    const std::vector<float> tail(kTail, kTailPoison);
    GNM_CUDA_CHECK(cudaMemcpyAsync(dC.data() + cells(), tail.data(), kTail * sizeof(float),
                                   cudaMemcpyHostToDevice, stream));
    GNM_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
};

// The rows of C checked against the CPU: all (empty list) for small problems, else the first and
// last rows of the edge and middle tiles of every rung (32, 64, 128) plus random ones.
std::vector<std::int64_t> rows_to_check(const Problem& p, std::uint64_t seed) {
  if (static_cast<double>(p.M) * static_cast<double>(p.N) * static_cast<double>(p.K) <=
      kFullCheckMacs) {
    return {};
  }
  std::set<std::int64_t> rows;
  for (std::int64_t r : {std::int64_t{0}, std::int64_t{31}, std::int64_t{64}, std::int64_t{127},
                         std::int64_t{128}, p.M / 2, p.M - 129, p.M - 1}) {
    if (r >= 0 && r < p.M) rows.insert(r);
  }
  const gnm::PhiloxRng rng(seed, 7);
  for (std::uint64_t i = 0; rows.size() < static_cast<std::size_t>(kSampledRows) && i < 1000; ++i) {
    rows.insert(std::min<std::int64_t>(p.M - 1, static_cast<std::int64_t>(
                                                    rng.uniform(i, 0.0f, static_cast<float>(p.M)))));
  }
  return {rows.begin(), rows.end()};
}

// Every element of `got` against cuBLAS's `want`: |got − want| ≤ 2 · bound(mass) (alpha 1, beta 0).
ladder::SgemmCheck cross_check(const std::vector<float>& got, const std::vector<float>& want,
                               const std::vector<float>& mass, const Problem& p) {
  ladder::SgemmCheck out;
  std::ostringstream first;
  for (std::size_t i = 0; i < p.cells(); ++i) {
    const double bound = 2.0 * ladder::sgemm_error_bound(p.K, 1.0f, 0.0f, mass[i], 0.0);
    const double err = std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
    ++out.checked;
    if (std::isfinite(got[i])) {
      out.max_abs_error = std::max(out.max_abs_error, err);
      if (bound > 0) out.max_error_ratio = std::max(out.max_error_ratio, err / bound);
    }
    if (!std::isfinite(got[i]) || err > bound) {
      if (out.mismatches < 5) {
        first << "\n  C[" << static_cast<std::int64_t>(i) / p.N << ", "
              << static_cast<std::int64_t>(i) % p.N << "] = " << got[i] << ", cuBLAS " << want[i]
              << ", bound " << bound;
      }
      ++out.mismatches;
    }
  }
  out.ok = out.mismatches == 0;
  out.report = out.ok ? std::string("ok")
                      : "MISMATCH against cuBLAS: " + std::to_string(out.mismatches) + " of " +
                            std::to_string(out.checked) + " elements outside twice the bound" +
                            first.str();
  return out;
}

// |A| · |B| in fp32 on the GPU: each element's Σ_k |a_ik · b_kj|, the scale of its error bound.
std::vector<float> mass_on_gpu(const Problem& p, const ladder::CublasSgemm& cublas,
                               cudaStream_t stream) {
  std::vector<float> absA(p.A.size()), absB(p.B.size());
  std::transform(p.A.begin(), p.A.end(), absA.begin(), [](float v) { return std::fabs(v); });
  std::transform(p.B.begin(), p.B.end(), absB.begin(), [](float v) { return std::fabs(v); });
  gnm::cuda::DeviceBuffer<float> dA(absA.size()), dB(absB.size()), dM(p.cells());
  dA.copy_from_host(absA, stream);
  dB.copy_from_host(absB, stream);
  cublas.run(p.M, p.N, p.K, 1.0f, dA.data(), dB.data(), 0.0f, dM.data(), stream);
  std::vector<float> mass(p.cells());
  dM.copy_to_host(mass, stream);
  return mass;
}

// One measured kernel: verification, then timing.
struct Outcome {
  bool verified = false;
  double ms = NAN;
  double error_ratio = NAN;  // max |error| / bound over the checked elements
};

template <class Launch>
Outcome verify_and_time(const char* name, Problem& p, const ladder::SgemmReference& ref,
                        const std::vector<float>* cublas_c, const std::vector<float>* mass,
                        std::vector<float>& c_out, cudaStream_t stream, int repeat,
                        Launch&& launch) {
  Outcome o;
  p.poison_c(stream);
  launch();
  GNM_CUDA_CHECK(cudaStreamSynchronize(stream));
  c_out.resize(p.cells() + kTail);
  p.dC.copy_to_host(c_out, stream);
  const ladder::SgemmCheck rows = ladder::check_sgemm(ref, c_out);
  bool ok = rows.ok;
  std::string report = rows.report;
  o.error_ratio = rows.max_error_ratio;
  if (ok && cublas_c != nullptr) {
    const ladder::SgemmCheck all = cross_check(c_out, *cublas_c, *mass, p);
    ok = all.ok;
    if (!ok) report = all.report;
  }
  for (std::size_t i = p.cells(); ok && i < c_out.size(); ++i) {
    if (c_out[i] != kTailPoison) {
      ok = false;
      report = "wrote past the end of C: element " + std::to_string(i) + " (C has M·N = " +
               std::to_string(p.cells()) + " elements)";
    }
  }
  if (!ok) {
    std::printf("6.2 VERIFICATION FAILED: %s at M = N = K = %lld: %s\n", name,
                static_cast<long long>(p.M), report.c_str());
    return o;
  }
  o.verified = true;
  o.ms = median_event_ms(stream, repeat, launch);
  return o;
}

// Global-memory FLOP per byte of a block tile: BM·BN / (2·(BM + BN)); 1-element rungs: 1/4.
double tile_intensity(const ladder::TiledConfig& c) {
  if (c.tile_k == 0) return 0.25;
  return static_cast<double>(c.tile_m) * c.tile_n / (2.0 * (c.tile_m + c.tile_n));
}

}  // namespace

//! [ladder section]
Section run_ladder(const Config& cfg) {
  if (auto skipped = skip_without_gpu(kLadderTitle)) return *skipped;
  const std::vector<std::int64_t> sizes =
      cfg.quick ? std::vector<std::int64_t>{256, 257}
                : std::vector<std::int64_t>{1000, 1024, 2048, 4096, 4097, 8192};
  const int repeat = repeats(cfg, 10, 2);
  const std::int64_t roofline_size = cfg.quick ? 256 : 4096;
  const DeviceBasics dev = device_basics();
  std::printf("6.2 on %s (%d SMs): alpha = 1, beta = 0, median of %d runs after a warm-up\n",
              dev.name.c_str(), dev.sm_count, repeat);

  Section s;
  Table table(kLadderTitle,
              {"kernel", "size", "ms", "GFLOP/s", "vs cuBLAS", "err/bound", "verified"});
  Table roof(std::string(kLadderTitle) + " on the roofline",
             {"kernel", "size", "FLOP/B", "tile FLOP/B", "GFLOP/s"});
  gnm::cuda::Stream stream;
  const ladder::CublasSgemm cublas;
  for (const std::int64_t n : sizes) {
    Problem p(n, n, n, /*seed=*/6200 + static_cast<std::uint64_t>(n));
    const std::vector<std::int64_t> rows = rows_to_check(p, 62 + static_cast<std::uint64_t>(n));
    const ladder::SgemmReference ref =
        ladder::sgemm_reference(p.M, p.N, p.K, 1.0f, p.A, p.B, 0.0f, {}, rows);
    // Compulsory traffic: A and B read once, C written once.
    const double intensity = p.flops() / (4.0 * static_cast<double>(p.M * p.K + p.K * p.N + p.M * p.N));
    const std::string size = std::to_string(n) + "³";
    auto add_row = [&](const std::string& kernel, const Outcome& o, double cublas_ms,
                       double tile_ai) {
      const double gflops = o.verified ? p.flops() / (o.ms * 1e6) : NAN;
      table.add({str(kernel), str(size), num(o.ms, 4), num(gflops, 4),
                 num(o.verified ? cublas_ms / o.ms : NAN, 3), num(o.error_ratio, 2),
                 flag(o.verified)});
      if (n == roofline_size && o.verified) {
        roof.add({str(kernel), str(size), num(intensity, 4), num(tile_ai, 3), num(gflops, 4)});
      }
      s.verified = s.verified && o.verified;
    };

    std::vector<float> c_out, cublas_c, mass;
    const Outcome base = verify_and_time(
        "cuBLAS", p, ref, nullptr, nullptr, c_out, stream.get(), repeat, [&] {
          cublas.run(p.M, p.N, p.K, 1.0f, p.dA.data(), p.dB.data(), 0.0f, p.dC.data(),
                     stream.get());
        });
    add_row("cuBLAS", base, base.ms, NAN);
    const bool cross = !rows.empty() && base.verified;  // big problem: check all against cuBLAS
    if (cross) {
      cublas_c.assign(c_out.begin(), c_out.begin() + static_cast<std::ptrdiff_t>(p.cells()));
      mass = mass_on_gpu(p, cublas, stream.get());
    }
    double best = 0;
    for (const ladder::Rung& r : ladder::ladder()) {
      const std::string kernel = std::to_string(r.number) + " " + r.name;
      const Outcome o = verify_and_time(
          kernel.c_str(), p, ref, cross ? &cublas_c : nullptr, cross ? &mass : nullptr, c_out,
          stream.get(), repeat, [&] {
            r.launch(p.M, p.N, p.K, 1.0f, p.dA.data(), p.dB.data(), 0.0f, p.dC.data(),
                     stream.get());
          });
      add_row(kernel, o, base.ms, tile_intensity(r.config(p.M, p.N, p.K)));
      if (o.verified && base.verified) best = std::max(best, base.ms / o.ms);
    }
    if (base.verified) {
      s.figures.emplace_back("cublas_sgemm_gflops_" + std::to_string(n), p.flops() / (base.ms * 1e6));
      s.figures.emplace_back("best_sgemm_vs_cublas_" + std::to_string(n), best);
    }
  }
  s.add(table);
  s.add(roof);
  return s;
}
//! [ladder section]

}  // namespace chapter06
