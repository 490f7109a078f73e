// Section 9.3: runs every op of op_cases.hpp in f32 on the CPU, compares it with its double
// reference in units of its error model, and times it.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gnm/core/timer.hpp"
#include "op_cases.hpp"
#include "sections.hpp"

namespace chapter9 {

namespace {

constexpr double kU = 0x1p-24;  // fp32 unit roundoff

struct Measured {
  double max_abs = 0.0;  // largest |got − ref|
  double units = 0.0;    // largest |got − ref| / (u · scale)
  bool ok = true;
};

Measured compare(const std::vector<double>& got, const RefResult& ref, double allowed) {
  Measured m;
  if (got.size() != ref.value.size() || ref.scale.size() != ref.value.size()) {
    m.ok = false;
    m.units = HUGE_VAL;
    return m;
  }
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(got[i] - ref.value[i]);
    if (std::isnan(err)) {  // a NaN result, or a reference that rejected the result
      m.ok = false;
      m.units = HUGE_VAL;
      continue;
    }
    m.max_abs = std::max(m.max_abs, err);
    const double units = err == 0.0 ? 0.0 : err / (kU * ref.scale[i]);  // err > 0, scale 0: inf
    m.units = std::max(m.units, units);
  }
  m.ok = m.ok && m.units <= allowed;
  return m;
}

// Median time of op(inputs): about `budget_ms` of runs, at least 3, at most 200.
double time_op(const OpCase& c, double budget_ms) {
  gnm::HostTimer first;
  (void)c.op(c.inputs);  // warm-up: first touch of the output's pages, thread pool start
  const double once = std::max(first.elapsed_ms(), 1e-3);
  const int repeat = std::clamp(static_cast<int>(budget_ms / once), 3, 200);
  return gnm::median_time_ms(repeat, [&] { (void)c.op(c.inputs); });
}

}  // namespace

Section run_op_table(const Sizes& sizes) {
  Section sec;
  std::printf("9.3 Ops: f32 against a double reference (errors in units of u·scale, u = 2^-24; "
              "see Note [Error units])\n\n");
  const std::vector<OpCase> cases = make_op_cases(sizes.rows, sizes.cols, sizes.gemm_n);
  Table table("9.3 ops", {"op", "inputs", "error model", "max |err|", "error (units)",
                          "allowed (units)", "ok", "ms", "GB/s", "GFLOP/s"});
  int passed = 0;
  for (const OpCase& c : cases) {
    //! [check_op]
    const gnm::Tensor out = c.op(c.inputs);
    HostInputs host;
    for (const gnm::Tensor& t : c.inputs) host.push_back(t.to_vector<double>());
    const std::vector<double> got = out.to_vector<double>();
    const Measured m = compare(got, c.reference(host, got), c.units);
    //! [check_op]
    double bytes = c.bytes;
    if (bytes == 0.0) {
      bytes = static_cast<double>(out.numel()) * static_cast<double>(out.element_size());
      for (const gnm::Tensor& t : c.inputs) {
        bytes += static_cast<double>(t.numel()) * static_cast<double>(t.element_size());
      }
    }
    const double ms = time_op(c, sizes.budget_ms);
    passed += m.ok ? 1 : 0;
    if (c.name == "matmul") sec.figures.emplace_back("matmul_gflops", c.flops / (ms * 1e6));
    sec.verified = sec.verified && m.ok;
    table.add({str(c.name), str(c.shapes), str(c.model), sci(m.max_abs), num(m.units),
               num(c.units), flag(m.ok), num(ms), num(bytes / (ms * 1e6)),
               c.flops > 0 ? num(c.flops / (ms * 1e6)) : num(std::nan(""))});
  }
  sec.add(table);
  Table summary("9.3 summary", {"ops checked", "within their error model"});
  summary.add({integer(static_cast<std::int64_t>(cases.size())), integer(passed)});
  sec.figures.emplace_back("ops_checked", static_cast<double>(cases.size()));
  sec.figures.emplace_back("ops_within_error_model", static_cast<double>(passed));
  sec.add(summary);
  return sec;
}

}  // namespace chapter9
