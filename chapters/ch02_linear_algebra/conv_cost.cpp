// Section 2.2 — direct convolution versus im2col + GEMM (see conv_cost.hpp).
#include "conv_cost.hpp"

#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>

#include "gnm/core/host_info.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/thread_pool.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/core/verify.hpp"

namespace chapter2 {
namespace {

ConvCostRow measure(const std::string& name, const gnm::cpu::Conv2dParams& p, int repeat,
                    gnm::ThreadPool& pool) {
  ConvCostRow r;
  r.name = name;
  r.params = p;
  r.out = gnm::cpu::conv2d_output_shape(p);
  r.cost = gnm::cpu::conv2d_cost(p);
  std::vector<float> x(static_cast<std::size_t>(gnm::cpu::conv2d_input_size(p)));
  std::vector<float> w(static_cast<std::size_t>(gnm::cpu::conv2d_weight_size(p)));
  gnm::fill_uniform(x, 1, -1.0f, 1.0f);
  gnm::fill_uniform(w, 2, -1.0f, 1.0f);
  const auto out_size = static_cast<std::size_t>(gnm::cpu::conv2d_output_size(p));
  std::vector<float> direct(out_size, std::nanf("")), gemm(out_size, std::nanf(""));

  //! [conv_measure]
  r.direct_ms = gnm::median_time_ms(repeat, [&] { gnm::cpu::conv2d_direct(p, x, w, direct); });
  r.im2col_ms = gnm::median_time_ms(repeat, [&] { gnm::cpu::conv2d_im2col(p, x, w, gemm, &pool); });
  if (r.cost.im2col_extra_bytes > 0) {  // a pointwise convolution skips im2col: 0 ms
    std::vector<float> columns(static_cast<std::size_t>(gnm::cpu::im2col_size(p)));
    r.im2col_only_ms = gnm::median_time_ms(repeat, [&] {
      for (std::int64_t n = 0; n < p.n; ++n) gnm::cpu::im2col(p, x, n, columns);
    });
  }
  //! [conv_measure]
  r.direct_gflops = r.cost.flops / (r.direct_ms * 1e6);
  r.im2col_gflops = r.cost.flops / (r.im2col_ms * 1e6);

  // Note [Convolution tolerance] (tests/common/test_conv.cpp): each result is within
  // L·eps·Σ|w·x| of the exact sum, L = C·KH·KW, so the two differ by at most twice that. The
  // mass Σ|w·x| comes from the same convolution on |x| and |w|; summing non-negative terms in
  // fp32 can only underestimate it by a factor (1 − L·eps), which the bound divides out.
  std::vector<float> ax(x.size()), aw(w.size()), mass(out_size);
  for (std::size_t i = 0; i < x.size(); ++i) ax[i] = std::fabs(x[i]);
  for (std::size_t i = 0; i < w.size(); ++i) aw[i] = std::fabs(w[i]);
  gnm::cpu::conv2d_im2col(p, ax, aw, mass, &pool);
  const double l_eps = static_cast<double>(r.cost.gemm_k) * gnm::kEpsF32;
  for (std::size_t i = 0; i < out_size; ++i) {
    const double bound = 2 * l_eps * static_cast<double>(mass[i]) / (1 - l_eps);
    const double diff = std::fabs(static_cast<double>(direct[i]) - static_cast<double>(gemm[i]));
    const double ratio = bound > 0 ? diff / bound : (diff > 0 ? HUGE_VAL : 0.0);
    r.diff_ratio = std::isnan(ratio) ? HUGE_VAL : std::max(r.diff_ratio, ratio);
  }
  r.ok = r.diff_ratio <= 1.0;
  return r;
}

}  // namespace

ConvCostTable run_conv_cost(bool quick, int threads, int repeat) {
  ConvCostTable t;
  t.threads = threads;
  gnm::ThreadPool pool(threads);
  const std::int64_t s = quick ? 4 : 1;  // spatial shrink for smoke tests
  //                                 n  c    h         w         k   kh kw s  p  d
  t.rows.push_back(measure("3x3 conv 64->64 (ResNet stage 1)",
                           {1, 64, 56 / s, 56 / s, 64, 3, 3, 1, 1, 1}, repeat, pool));
  t.rows.push_back(measure("1x1 conv 256->64 (bottleneck)",
                           {1, 256, 56 / s, 56 / s, 64, 1, 1, 1, 0, 1}, repeat, pool));
  t.rows.push_back(measure("7x7/2 conv 3->64 (first layer)",
                           {1, 3, 224 / s, 224 / s, 64, 7, 7, 2, 3, 1}, repeat, pool));
  t.verified = true;
  for (const auto& r : t.rows) t.verified = t.verified && r.ok;
  return t;
}

void print(const ConvCostTable& t) {
  std::printf("\n== 2.2 Convolution: direct loops vs im2col + GEMM (batch 1, GEMM on %d "
              "thread%s) ==\n",
              t.threads, t.threads == 1 ? "" : "s");
  for (const auto& r : t.rows) {
    const auto& c = r.cost;
    std::printf("  %s: %s -> %lldx%lld\n", r.name.c_str(), r.params.to_string().c_str(),
                static_cast<long long>(r.out.oh), static_cast<long long>(r.out.ow));
    std::printf("    work    %.3g GFLOP; as a GEMM: M = %lld, N = %lld, K = %lld\n",
                c.flops * 1e-9, static_cast<long long>(c.gemm_m),
                static_cast<long long>(c.gemm_n), static_cast<long long>(c.gemm_k));
    std::printf("    bytes   direct %s (%.1f FLOP/B), im2col + GEMM %s (%.1f FLOP/B), "
                "im2col workspace %s\n",
                gnm::format_bytes(c.direct_bytes).c_str(), c.flops / c.direct_bytes,
                gnm::format_bytes(c.im2col_bytes).c_str(), c.flops / c.im2col_bytes,
                gnm::format_bytes(c.im2col_extra_bytes).c_str());
    std::printf("    time    direct %.2f ms (%.2f GFLOP/s), im2col + GEMM %.2f ms (%.2f GFLOP/s, "
                "of which im2col %.2f ms): %.1fx\n",
                r.direct_ms, r.direct_gflops, r.im2col_ms, r.im2col_gflops, r.im2col_only_ms,
                r.direct_ms / r.im2col_ms);
    std::printf("    check   max |direct - im2col| / bound = %.2g: %s\n", r.diff_ratio,
                r.ok ? "ok" : "FAILED");
  }
}

std::string to_json(const ConvCostTable& t) {
  using gnm::json_number;
  using gnm::json_quote;
  std::ostringstream j;
  j << "{\"threads\": " << t.threads << ", \"rows\": [";
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    const auto& c = r.cost;
    j << (i ? ", " : "") << "{\"name\": " << json_quote(r.name)
      << ", \"shape\": " << json_quote(r.params.to_string()) << ", \"oh\": " << r.out.oh
      << ", \"ow\": " << r.out.ow << ", \"gflop\": " << json_number(c.flops * 1e-9)
      << ", \"gemm_mnk\": [" << c.gemm_m << ", " << c.gemm_n << ", " << c.gemm_k << "]"
      << ", \"direct_bytes\": " << json_number(c.direct_bytes)
      << ", \"im2col_bytes\": " << json_number(c.im2col_bytes)
      << ", \"im2col_extra_bytes\": " << json_number(c.im2col_extra_bytes)
      << ", \"direct_ms\": " << json_number(r.direct_ms)
      << ", \"im2col_ms\": " << json_number(r.im2col_ms)
      << ", \"im2col_only_ms\": " << json_number(r.im2col_only_ms)
      << ", \"direct_gflops\": " << json_number(r.direct_gflops)
      << ", \"im2col_gflops\": " << json_number(r.im2col_gflops)
      << ", \"diff_ratio\": " << json_number(r.diff_ratio)
      << ", \"ok\": " << (r.ok ? "true" : "false") << "}";
  }
  j << "], \"verified\": " << (t.verified ? "true" : "false") << "}";
  return j.str();
}

}  // namespace chapter2
