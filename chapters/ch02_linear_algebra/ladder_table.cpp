#include "ladder_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>

#include "gemm_ladder.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/gemm.hpp"

#if GNM_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace chapter2 {
namespace {

using Gemm = std::function<void(float* C)>;  // computes C = A · B into a zeroed C

// Worst-case bound of a K-term fp32 dot product accumulated in any order:
// |c − ĉ| ≤ γ_K Σ_k |a_ik b_kj| with γ_K = K·eps / (1 − K·eps) ≈ K·eps (Higham, Thm 3.1).
// The reference also gives Σ|a||b| per element, so the bound adapts to each element.
LadderRow measure(const std::string& version, int threads, std::int64_t n, const Gemm& gemm,
                  const std::vector<double>& ref, const std::vector<double>& abs_sum) {
  LadderRow row;
  row.version = version;
  row.threads = threads;
  std::vector<float> c(static_cast<std::size_t>(n * n));
  std::fill(c.begin(), c.end(), 0.0f);
  gemm(c.data());
  const double gamma = static_cast<double>(n) * gnm::kEpsF32;
  double worst = 0;
  bool finite = true;
  for (std::size_t i = 0; i < c.size(); ++i) {
    const double bound = gamma * abs_sum[i] + 1e-30;
    const double err = std::fabs(static_cast<double>(c[i]) - ref[i]);
    finite = finite && std::isfinite(err);
    worst = std::max(worst, err / bound);
  }
  row.error_ratio = worst;
  row.ok = finite && worst <= 1.0;

  // Time: enough repetitions for ~0.3 s per version, at least 3; report the median.
  const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  std::vector<double> samples;
  gnm::HostTimer total;
  while (samples.size() < 3 || (total.elapsed_ms() < 300.0 && samples.size() < 50)) {
    std::fill(c.begin(), c.end(), 0.0f);
    gnm::HostTimer t;
    gemm(c.data());
    samples.push_back(t.elapsed_ms());
  }
  row.ms = gnm::summarize(samples).median_ms;
  row.gflops = flops / (row.ms * 1e6);
  return row;
}

}  // namespace

LadderTable run_ladder(std::int64_t n, gnm::ThreadPool& pool) {
  LadderTable t;
  t.n = n;
  const auto sz = static_cast<std::size_t>(n * n);
  std::vector<float> a(sz), b(sz);
  gnm::fill_uniform(a, /*seed=*/21, -1.0f, 1.0f);
  gnm::fill_uniform(b, /*seed=*/22, -1.0f, 1.0f);

  // Double-precision reference and Σ_k |a_ik b_kj| for the per-element bound.
  std::vector<double> ref(sz), abs_sum(sz);
  gnm::cpu::sgemm_reference(n, n, n, a.data(), n, b.data(), n, ref, abs_sum);

  using namespace gnm::ch02;
  const float* A = a.data();
  const float* B = b.data();
  auto add = [&](const std::string& v, int threads, const Gemm& g) {
    t.rows.push_back(measure(v, threads, n, g, ref, abs_sum));
  };
  if (n <= 1024) {
    add("v1 naive (ijk)", 1, [&](float* C) { sgemm_naive(n, n, n, A, n, B, n, C, n); });
    add("v2' jki (worst order)", 1, [&](float* C) { sgemm_jki(n, n, n, A, n, B, n, C, n); });
  }
  add("v2 ikj", 1, [&](float* C) { sgemm_ikj(n, n, n, A, n, B, n, C, n); });
  add("v3 blocked", 1, [&](float* C) { sgemm_blocked(n, n, n, A, n, B, n, C, n); });
  add("v4 packed", 1, [&](float* C) { sgemm_packed(n, n, n, A, n, B, n, C, n); });
  add("v5 threaded", pool.size(),
      [&](float* C) { sgemm_threaded(n, n, n, A, n, B, n, C, n, pool); });

  gnm::ThreadPool one(1);
  using gnm::cpu::Transpose;
  const std::string engine = std::string("engine sgemm (") + gnm::cpu::sgemm_config().kernel + ")";
  for (gnm::ThreadPool* p : {&one, &pool}) {
    add(engine, p->size(), [&, p](float* C) {
      gnm::cpu::sgemm_engine(Transpose::No, Transpose::No, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n, p);
    });
  }
#if GNM_HAVE_OPENBLAS
  const int saved = openblas_get_num_threads();
  for (int threads : {1, pool.size()}) {
    openblas_set_num_threads(threads);
    add("OpenBLAS cblas_sgemm", threads, [&](float* C) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n),
                  static_cast<int>(n), static_cast<int>(n), 1.0f, A, static_cast<int>(n), B,
                  static_cast<int>(n), 0.0f, C, static_cast<int>(n));
    });
  }
  openblas_set_num_threads(saved);
#endif
  t.verified = std::all_of(t.rows.begin(), t.rows.end(), [](const LadderRow& r) { return r.ok; });
  return t;
}

void print(const LadderTable& t) {
  std::printf("== The GEMM ladder, n = %lld (C = A·B, %lld×%lld) ==\n",
              static_cast<long long>(t.n), static_cast<long long>(t.n), static_cast<long long>(t.n));
  std::printf("  %-24s %7s %10s %9s %12s\n", "version", "threads", "ms", "GFLOP/s", "err/bound");
  for (const auto& r : t.rows) {
    std::printf("  %-24s %7d %10.3f %9.2f %12.3g%s\n", r.version.c_str(), r.threads, r.ms,
                r.gflops, r.error_ratio, r.ok ? "" : "  FAILED");
  }
  std::printf("  ladder: %s\n\n", t.verified ? "ok" : "FAILED");
}

std::string to_json(const LadderTable& t) {
  std::ostringstream j;
  j << "{\"n\": " << t.n << ", \"rows\": [";
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    j << (i ? ", " : "") << "{\"version\": " << gnm::json_quote(r.version)
      << ", \"threads\": " << r.threads << ", \"ms\": " << gnm::json_number(r.ms)
      << ", \"GFLOP/s\": " << gnm::json_number(r.gflops)
      << ", \"error/bound\": " << gnm::json_number(r.error_ratio)
      << ", \"ok\": " << (r.ok ? "true" : "false") << "}";
  }
  j << "], \"verified\": " << (t.verified ? "true" : "false") << "}";
  return j.str();
}

}  // namespace chapter2
