// Section 4.5: zero-cost abstraction. d = a·x + b·y + c by a hand loop, by expression templates
// and by naive operator overloading (ch04_bench sweeps the same with Google Benchmark, and Eigen's
// expression templates beside them); then constexpr shape maths, at compile time and at run time.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/core/verify.hpp"
#include "lazy_expr.hpp"
#include "sections.hpp"
#include "shape_math.hpp"

namespace ch04 {
namespace {

constexpr float kA = 0.5f, kB = -1.25f, kC = 0.125f;

// Note [axpbyc tolerance]: ((a·x + b·y) + c) rounds four times (two products, two sums), each
// by at most u = eps/2 relative to its own result, so |error| ≤ 2u·(|ax| + |by|) + u·(|ax| + |by| +
// |c|) ≤ 1.5·eps·(|ax| + |by| + |c|). 2·eps·mass keeps a margin; fused multiply-adds only remove
// roundings. The naive version computes the same operations, so the same bound holds.
bool check_axpbyc(std::span<const float> x, std::span<const float> y, std::span<const float> d) {
  for (std::size_t i = 0; i < d.size(); ++i) {
    const double ax = double(kA) * double(x[i]), by = double(kB) * double(y[i]);
    const double ref = ax + by + double(kC);
    const double bound = 2.0 * gnm::kEpsF32 * (std::fabs(ax) + std::fabs(by) + std::fabs(double(kC)));
    if (!(std::fabs(double(d[i]) - ref) <= bound)) return false;
  }
  return true;
}

struct Timing {
  std::size_t n = 0;
  double hand_ms = 0, lazy_ms = 0, naive_ms = 0;
  double naive_allocations = 0;  // per evaluation
  bool ok = false;
};

// Milliseconds per call of each function, timed in turn (hand, lazy, naive, hand, …) so that a
// burst of load on a shared machine hits all of them alike; each sample is long enough (~2 ms) to
// time reliably, and the median over `reps` samples is reported.
std::vector<double> ms_per_call(int reps, std::size_t n,
                                const std::vector<std::function<void()>>& fns) {
  const std::size_t calls = std::max<std::size_t>(1, 2000000 / std::max<std::size_t>(n, 1));
  std::vector<std::vector<double>> samples(fns.size());
  for (int r = -1; r < reps; ++r) {  // r = −1: warm-up, not recorded
    for (std::size_t f = 0; f < fns.size(); ++f) {
      const gnm::HostTimer timer;
      for (std::size_t k = 0; k < calls; ++k) fns[f]();
      if (r >= 0) samples[f].push_back(timer.elapsed_ms() / double(calls));
    }
  }
  std::vector<double> medians;
  for (auto& s : samples) medians.push_back(gnm::summarize(std::move(s)).median_ms);
  return medians;
}

Timing time_variants(const Options& opt, std::size_t n) {
  std::vector<float> x(n), y(n), d_hand(n, NAN), d_lazy(n, NAN);
  gnm::fill_uniform(x, 1, -1.0f, 1.0f);
  gnm::fill_uniform(y, 2, -1.0f, 1.0f);
  const gnm::ch04::NaiveVec nx(x), ny(y);
  using namespace gnm::ch04;

  Timing t;
  t.n = n;
  axpbyc_hand(kA, x, kB, y, kC, d_hand);
  axpbyc_lazy(kA, x, kB, y, kC, d_lazy);
  const std::int64_t before = NaiveVec::allocations();
  NaiveVec d_naive = axpbyc_naive(kA, nx, kB, ny, kC);
  t.naive_allocations = double(NaiveVec::allocations() - before);
  t.ok = check_axpbyc(x, y, d_hand) && check_axpbyc(x, y, d_lazy) &&
         check_axpbyc(x, y, d_naive.span());

  const int reps = opt.quick ? 3 : opt.reps;
  const auto ms = ms_per_call(reps, n, {
      [&] { axpbyc_hand(kA, x, kB, y, kC, d_hand); keep(d_hand[0]); },
      [&] { axpbyc_lazy(kA, x, kB, y, kC, d_lazy); keep(d_lazy[0]); },
      [&] {
        d_naive = axpbyc_naive(kA, nx, kB, ny, kC);  // the old result is freed, a new one made
        keep(d_naive[0]);
      }});
  t.hand_ms = ms[0];
  t.lazy_ms = ms[1];
  t.naive_ms = ms[2];
  return t;
}

struct ShapeCase {
  std::string expression, compile_time, run_time;
  bool equal = false;
};

std::string text(std::span<const std::int64_t> s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + ")";
}

// The same constexpr functions with values the compiler cannot know (read through a volatile).
std::vector<ShapeCase> shape_cases() {
  using namespace shape;
  volatile std::int64_t seven = 7, two = 2, three = 3, four = 4;
  std::vector<ShapeCase> cases;
  {
    constexpr auto ct = broadcast(Shape<4>{8, 1, 6, 1}, Shape<3>{7, 1, 5});
    const auto rt = broadcast(Shape<4>{8, 1, 6, 1}, Shape<3>{seven, 1, 5});
    cases.push_back({"broadcast((8,1,6,1), (7,1,5))", text(ct), text(rt), ct == rt});
  }
  {
    constexpr auto ct = row_major_strides(Shape<3>{2, 3, 4});
    const auto rt = row_major_strides(Shape<3>{two, three, four});
    cases.push_back({"row_major_strides((2,3,4))", text(ct), text(rt), ct == rt});
  }
  {
    constexpr auto ct = conv_output_size(224, 7, 2, 3);
    const auto rt = conv_output_size(224, seven, two, three);
    cases.push_back({"conv_output_size(224, k=7, s=2, p=3)", std::to_string(ct),
                     std::to_string(rt), ct == rt});
  }
  {
    std::string thrown;
    try {
      (void)broadcast(Shape<1>{three}, Shape<1>{four});
    } catch (const gnm::ShapeError& e) {
      thrown = std::string("ShapeError: ") + e.what();
    }
    cases.push_back({"broadcast((3), (4))", "does not compile", thrown, !thrown.empty()});
  }
  return cases;
}

}  // namespace

SectionResult run_zero_cost(const Options& opt) {
  std::printf("== 4.5 Zero-cost abstraction: d = a*x + b*y + c ==\n");
  bool ok = true;
  std::vector<Timing> rows;
  const std::vector<std::size_t> sizes = opt.quick
                                             ? std::vector<std::size_t>{1000, 100000}
                                             : std::vector<std::size_t>{1000, 10000, 100000,
                                                                        1000000, 10000000};
  std::printf("  %9s %10s %10s %10s %11s %11s %12s\n", "n", "hand ms", "lazy ms", "naive ms",
              "lazy/hand", "naive/hand", "naive allocs");
  for (const std::size_t n : sizes) {
    const Timing t = time_variants(opt, n);
    ok = ok && t.ok && t.naive_allocations == 4;
    rows.push_back(t);
    std::printf("  %9zu %10.4f %10.4f %10.4f %11.2f %11.2f %12.0f%s\n", n, t.hand_ms, t.lazy_ms,
                t.naive_ms, t.lazy_ms / t.hand_ms, t.naive_ms / t.hand_ms, t.naive_allocations,
                t.ok ? "" : "  WRONG RESULT");
  }
  // Napkin math: hand and lazy move 12 bytes per element (read x, y; write d); naive moves 36
  // (a·x: 4+4, b·y: 4+4, sum: 8+4, +c: 4+4) and touches four fresh allocations.
  std::printf("  bytes per element: hand 12, lazy 12, naive 36 (+ 4 allocations)\n");

  std::printf("  constexpr shape maths, at compile time and at run time:\n");
  const auto cases = shape_cases();
  for (const auto& c : cases) {
    ok = ok && c.equal;
    std::printf("    %-38s compile time %-16s run time %s\n", c.expression.c_str(),
                c.compile_time.c_str(), c.run_time.c_str());
  }
  std::printf("  zero cost: %s\n\n", ok ? "ok" : "FAILED");

  std::ostringstream j;
  j << "{\"expression\": \"d = a*x + b*y + c\", \"bytes_per_element\": {\"hand\": 12, \"lazy\": 12, "
       "\"naive\": 36}, \"rows\": [";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Timing& t = rows[i];
    j << (i ? ", " : "") << "{\"n\": " << t.n << ", \"hand_ms\": " << gnm::json_number(t.hand_ms)
      << ", \"lazy_ms\": " << gnm::json_number(t.lazy_ms)
      << ", \"naive_ms\": " << gnm::json_number(t.naive_ms)
      << ", \"lazy_over_hand\": " << gnm::json_number(t.lazy_ms / t.hand_ms)
      << ", \"naive_over_hand\": " << gnm::json_number(t.naive_ms / t.hand_ms)
      << ", \"hand_gbs\": " << gnm::json_number(12.0 * double(t.n) / (t.hand_ms * 1e-3) * 1e-9)
      << ", \"naive_allocations\": " << gnm::json_number(t.naive_allocations)
      << ", \"verified\": " << (t.ok ? "true" : "false") << "}";
  }
  j << "], \"shapes\": [";
  for (std::size_t i = 0; i < cases.size(); ++i) {
    j << (i ? ", " : "") << "{\"expression\": " << gnm::json_quote(cases[i].expression)
      << ", \"compile_time\": " << gnm::json_quote(cases[i].compile_time)
      << ", \"run_time\": " << gnm::json_quote(cases[i].run_time) << "}";
  }
  j << "], \"verified\": " << (ok ? "true" : "false") << "}";
  return {ok, j.str()};
}

}  // namespace ch04
