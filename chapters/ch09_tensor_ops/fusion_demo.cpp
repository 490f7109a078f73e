// Section 9.4: kernel fusion. Elementwise chains run op by op (each op a pass over memory, each
// intermediate written and read back) and fused (one pass: gnm::bias_act and the fused
// elementwise executor gnm::fused::evaluate). Operands are 16 MiB, beyond the last-level cache,
// so the time follows the bytes moved; the results must agree (bit for bit in f32 on the CPU,
// where both evaluate the same formulas in the same order).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "gnm/core/timer.hpp"
#include "gnm/tensor/fusion.hpp"
#include "gnm/tensor/ops.hpp"
#include "op_cases.hpp"
#include "sections.hpp"

namespace chapter9 {

namespace {

using gnm::Tensor;
namespace fx = gnm::fused;

constexpr double kU = 0x1p-24;

struct Chain {
  std::string name;
  int unfused_passes;  // full-size tensors read or written, op by op
  int fused_passes;    // inputs read once + the output written once
  std::function<Tensor()> unfused, fused;
};

double median_ms(const std::function<Tensor()>& f, double budget_ms) {
  gnm::HostTimer t;
  (void)f();  // warm-up
  const double once = std::max(t.elapsed_ms(), 1e-3);
  return gnm::median_time_ms(std::clamp(static_cast<int>(budget_ms / once), 3, 100),
                             [&] { (void)f(); });
}

}  // namespace

Section run_fusion(const Sizes& sizes) {
  Section sec;
  const std::int64_t R = sizes.fusion_rows, C = sizes.cols;
  const double n = static_cast<double>(R * C);
  std::printf("9.4 Kernel fusion: (%lld, %lld) f32 operands, %.1f MiB each\n\n",
              static_cast<long long>(R), static_cast<long long>(C), 4.0 * n / (1 << 20));
  const Tensor a = uniform_tensor({R, C}, 51, -2.0f, 2.0f);
  const Tensor b = uniform_tensor({R, C}, 52, -2.0f, 2.0f);
  const Tensor c = uniform_tensor({R, C}, 53, -2.0f, 2.0f);
  const Tensor bias = uniform_tensor({C}, 54, -1.0f, 1.0f);

  //! [fused_chain]
  // sigmoid(a·b + 1): three kernels and two intermediates unfused, one pass fused.
  const fx::Expr e1 = fx::sigmoid(fx::arg(0) * fx::arg(1) + 1.0);
  const fx::Program p1 = fx::compile(e1);
  // tanh(a)·b + 0.5·c: four kernels unfused.
  const fx::Program p2 = fx::compile(fx::tanh(fx::arg(0)) * fx::arg(1) + 0.5 * fx::arg(2));
  //! [fused_chain]
  const std::vector<Chain> chains = {
      {"sigmoid(a*b + 1)", 3 + 2 + 2, 3, [&] { return gnm::sigmoid(gnm::mul(a, b) + 1.0); },
       [&] { return fx::evaluate(p1, {a, b}); }},
      {"tanh(a)*b + 0.5*c", 2 + 3 + 2 + 3, 4, [&] { return gnm::tanh(a) * b + 0.5 * c; },
       [&] { return fx::evaluate(p2, {a, b, c}); }},
      {"relu(x + bias)", 2 + 2, 2, [&] { return gnm::relu(a + bias); },
       [&] { return gnm::bias_act(a, bias, gnm::Activation::relu); }},
      {"gelu(x + bias)", 2 + 2, 2, [&] { return gnm::gelu(a + bias); },
       [&] { return gnm::bias_act(a, bias, gnm::Activation::gelu); }},
      {"silu(x + bias)", 2 + 2, 2, [&] { return gnm::silu(a + bias); },
       [&] { return gnm::bias_act(a, bias, gnm::Activation::silu); }},
  };
  std::printf("fused program of sigmoid(a*b + 1): %s, %d instructions, stack depth %d\n\n",
              fx::to_string(e1).c_str(), p1.size, p1.max_depth);

  Table table("9.4 fused vs unfused",
              {"chain", "unfused ms", "fused ms", "speedup", "passes unfused", "passes fused",
               "GB/s unfused", "GB/s fused", "max |fused - unfused|", "bit-identical", "ok"});
  for (const Chain& ch : chains) {
    const std::vector<float> u = ch.unfused().to_vector<float>();
    const std::vector<float> f = ch.fused().to_vector<float>();
    double diff = 0.0, units = 0.0;
    bool identical = u.size() == f.size();
    for (std::size_t i = 0; identical && i < u.size(); ++i) {
      const double d = std::fabs(static_cast<double>(f[i]) - static_cast<double>(u[i]));
      diff = std::max(diff, d);
      units = std::max(units, d / (kU * (std::fabs(static_cast<double>(u[i])) + 1e-30)));
      identical = identical && std::memcmp(&u[i], &f[i], sizeof(float)) == 0;
    }
    // Same formulas, same order: expected identical. Allowed anyway: a few roundings apart
    // (4 units of |v|), for a compiler that contracts a·b + c into an FMA in one of them.
    const bool ok = u.size() == f.size() && std::isfinite(diff) && units <= 4.0;
    sec.verified = sec.verified && ok;
    const double tu = median_ms(ch.unfused, sizes.budget_ms);
    const double tf = median_ms(ch.fused, sizes.budget_ms);
    const double pass_bytes = 4.0 * n;
    if (ch.name == "relu(x + bias)") sec.figures.emplace_back("fusion_speedup_bias_relu", tu / tf);
    if (ch.name == "sigmoid(a*b + 1)") sec.figures.emplace_back("fusion_speedup_sigmoid", tu / tf);
    table.add({str(ch.name), num(tu), num(tf), num(tu / tf), integer(ch.unfused_passes),
               integer(ch.fused_passes), num(ch.unfused_passes * pass_bytes / (tu * 1e6)),
               num(ch.fused_passes * pass_bytes / (tf * 1e6)), sci(diff), flag(identical),
               flag(ok)});
  }
  sec.add(table);
  return sec;
}

}  // namespace chapter9
