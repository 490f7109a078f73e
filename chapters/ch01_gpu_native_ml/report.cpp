// Printed tables of sections 1.2 and 1.3.
#include "report.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

#include "gnm/core/host_info.hpp"
#include "limits.hpp"

namespace gnm::ch01 {
namespace {

std::string cut(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : s.substr(0, n - 1) + "~";
}

std::string threads_text(int t) { return std::to_string(t) + (t == 1 ? " thread" : " threads"); }

double nan_if_negative(std::int64_t v) {
  return v < 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(v);
}

}  // namespace

void print_op_table(const std::vector<OpCost>& ops, const Roofline& roof) {
  roof.validate();
  std::printf("  %-13s %-13s %-34s %4s %10s %9s %7s %-7s %9s %9s\n", "op", "kind", "shape", "x",
              "MFLOP", "MB", "FLOP/B", "bound", "GFLOP/s", "time ms");
  for (const OpCost& op : ops) {
    const double ai = op.intensity();
    std::printf("  %-13s %-13s %-34s %4d %10.1f %9.2f %7.2f %-7s %9.1f %9.3f\n",
                cut(op.name, 13).c_str(), op_kind_name(op.kind), cut(op.shape, 34).c_str(),
                op.count, op.flops / 1e6, op.bytes / 1e6, ai,
                roof.memory_bound(ai) ? "memory" : "compute", roof.attainable_gflops(ai),
                1e3 * op.count * roof.seconds(op));
  }
  const ModelTotals t = model_totals(ops, roof);
  std::printf("\n  %-22s %12s %8s %12s %8s   (time = roofline lower bound)\n", "group", "GFLOP",
              "share", "time ms", "share");
  for (int g = 0; g < 3; ++g) {
    std::printf("  %-22s %12.3f %7.1f%% %12.3f %7.1f%%\n", op_group_name(static_cast<OpGroup>(g)),
                t.flops[g] / 1e9, 100 * t.flops[g] / t.total_flops(), 1e3 * t.seconds[g],
                100 * t.seconds[g] / t.total_seconds());
  }
  std::printf("  %-22s %12.3f %8s %12.3f %8s   %.4g MB moved, %.1f FLOP/byte overall\n", "total",
              t.total_flops() / 1e9, "", 1e3 * t.total_seconds(), "", t.total_bytes() / 1e6,
              t.total_flops() / t.total_bytes());
  int matmuls = 0, slow_matmuls = 0, others = 0, slow_others = 0;
  for (const OpCost& op : ops) {
    const bool is_matmul = op_group(op.kind) == OpGroup::matmul;
    const bool slow = roof.memory_bound(op.intensity());
    (is_matmul ? matmuls : others) += 1;
    (is_matmul ? slow_matmuls : slow_others) += slow ? 1 : 0;
  }
  std::printf("  GEMM/conv does %.1f%% of the FLOPs and takes %.1f%% of the time.",
              100 * t.flops[0] / t.total_flops(), 100 * t.seconds[0] / t.total_seconds());
  if (others > 0) {
    std::printf(" %d of the %d other ops are memory-bound: their bytes, not their FLOPs, set "
                "their cost.", slow_others, others);
  }
  if (slow_matmuls > 0) {
    std::printf(" %d of the %d GEMM/conv ops are memory-bound too.", slow_matmuls, matmuls);
  }
  std::printf("\n");
}

LimitsSummary run_limits(const Options& o) {
  LimitsSummary s;
  const int p = o.threads;
  const int spawn_reps = o.quick ? 50 : 300;
  const double spawn1 = measure_spawn_join_us(1, spawn_reps);
  const double spawn_p = p > 1 ? measure_spawn_join_us(p, spawn_reps) : spawn1;
  std::printf("  thread start-up  std::thread spawn + join, median of %d: 1 thread %.1f us",
              spawn_reps, spawn1);
  if (p > 1) std::printf(", %d threads %.1f us", p, spawn_p);
  std::printf("\n");
  s.figures.emplace_back("spawn_join_us", spawn_p);
  if (p == 1) {
    std::printf("  scaling          --threads 1: nothing to compare (use --threads 2 or more)\n");
    s.checks.emplace_back("thread start-up time is positive", spawn1 > 0);
    return s;
  }
  const double dispatch = measure_pool_dispatch_us(p, o.quick ? 200 : 2000);
  std::printf("  pool dispatch    gnm::ThreadPool(%d).run_on_all(empty job): %.2f us (threads "
              "already running: only wake-up and completion are left)\n", p, dispatch);
  s.figures.emplace_back("pool_dispatch_us", dispatch);

  // Up to 2^20 floats (4 MiB per array): large enough to amortise any start-up, small enough to
  // stay compute-bound in the shared last-level cache rather than contend for DRAM bandwidth.
  const std::int64_t max_n = o.quick ? (std::int64_t{1} << 16) : (std::int64_t{1} << 20);
  const auto rows = measure_scaling(p, max_n, o.quick ? 0.005 : 0.04);
  std::printf("  scaling          y[i] = p(x[i]), %g FLOP per element, 1 thread vs %s, best "
              "of the runs\n", kPolyFlops, threads_text(p).c_str());
  std::printf("  %10s %12s %12s %8s %12s %8s %10s\n", "n", "1 thread", "spawned", "speed-up",
              "pooled", "speed-up", "serial f");
  bool identical = true;
  for (const ScalingRow& r : rows) {
    const double sp = r.serial_us / r.pool_us;
    // The serial fraction means something only where the threads help at all.
    const double f = karp_flatt(sp, p);
    char fraction[32] = "-";
    if (f < 1) std::snprintf(fraction, sizeof fraction, "%.1f%%", 100 * f);
    std::printf("  %10lld %9.1f us %9.1f us %7.2fx %9.1f us %7.2fx %10s\n",
                static_cast<long long>(r.n), r.serial_us, r.spawn_us, r.serial_us / r.spawn_us,
                r.pool_us, sp, fraction);
    identical = identical && r.identical;
  }
  const std::int64_t cross_spawn = crossover_n(rows, false);
  const std::int64_t cross_pool = crossover_n(rows, true);
  auto text = [](std::int64_t n) {
    return n < 0 ? std::string("no size in the sweep") : "n = " + std::to_string(n);
  };
  std::printf("  crossover        %s beat 1 from %s with threads spawned per call, from %s with "
              "the pool\n", threads_text(p).c_str(), text(cross_spawn).c_str(),
              text(cross_pool).c_str());
  s.figures.emplace_back("crossover_n_spawn", nan_if_negative(cross_spawn));
  s.figures.emplace_back("crossover_n_pool", nan_if_negative(cross_pool));

  //! [amdahl]
  // The largest size: start-up is amortised; what is left of the serial fraction is imbalance,
  // the shared memory system, and the other processes on this machine.
  const ScalingRow& big = rows.back();
  const double speedup = big.serial_us / big.pool_us;
  const double f = karp_flatt(speedup, p);
  std::printf("  Amdahl           at n = %lld the pool's speed-up on %d threads is %.2fx: serial "
              "fraction f = %.1f%%\n", static_cast<long long>(big.n), p, speedup, 100 * f);
  if (f >= 1) {
    std::printf("                   the threads do not help at this size: nothing to "
                "extrapolate\n");
  } else if (f > 0) {
    std::printf("                   bound 1/(f + (1-f)/p): p = 4: %.1fx, 16: %.1fx, 64: %.1fx, "
                "1024: %.1fx, infinity: 1/f = %.0fx\n", amdahl_speedup(f, 4),
                amdahl_speedup(f, 16), amdahl_speedup(f, 64), amdahl_speedup(f, 1024), 1 / f);
  } else {
    std::printf("                   no measurable serial part at this size (noise makes f <= 0)\n");
  }
  //! [amdahl]
  s.figures.emplace_back("serial_fraction", f);
  s.checks.emplace_back("parallel results equal the serial result bit for bit", identical);
  s.checks.emplace_back("thread start-up and dispatch times are positive",
                        spawn_p > 0 && dispatch > 0);
  return s;
}

void print_gpu_overheads(const GpuOverheads& g) {
  std::printf("  GPU launch       empty kernel: %.2f us per launch back to back, %.2f us for "
              "launch + synchronize\n", g.launch_us, g.launch_sync_us);
  std::printf("                   a 10 us kernel waited for each time spends %.0f%% of its "
              "time on the round trip; fusing or CUDA graphs remove it\n",
              100 * g.launch_sync_us / (g.launch_sync_us + 10));
  std::printf("  GPU transfers    pinned host memory, median\n");
  std::printf("  %12s %10s %9s %10s %9s\n", "bytes", "H2D us", "GB/s", "D2H us", "GB/s");
  for (const TransferRow& t : g.transfers) {
    const double b = static_cast<double>(t.bytes);
    std::printf("  %12s %10.1f %9.2f %10.1f %9.2f\n", format_bytes(b).c_str(), t.h2d_us,
                b / t.h2d_us / 1e3, t.d2h_us, b / t.d2h_us / 1e3);
  }
}

}  // namespace gnm::ch01
