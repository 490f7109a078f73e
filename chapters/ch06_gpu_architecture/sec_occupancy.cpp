// 6.5 Occupancy and resource limits, the part that runs on the CPU: the calculator applied to the
// H100's published limits (sm_limits_for(9, 0)), the four limits of a few kernels worked out, a
// staircase figure of occupancy against registers, and exercise 6.3 against the engine. On a
// device, sec_occupancy_gpu.cu adds the comparison with the CUDA runtime and a bandwidth sweep.
#include <cstdio>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"
#include "gnm/core/svg_plot.hpp"
#include "gnm/cuda/occupancy.hpp"
#include "occupancy_formula.hpp"
#include "sections.hpp"

namespace chapter06 {
namespace {

using namespace gnm::cells;
using gnm::cuda::KernelResources;
using gnm::cuda::SmLimits;
constexpr std::size_t kKiB = 1024;

// 0.125 -> "12.5 %", 0.5 -> "50 %".
std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g %%", 100.0 * fraction);
  return buf;
}

// "6 (75 %, registers)" or "cannot launch".
std::string occupancy_cell(const SmLimits& sm, const KernelResources& k) {
  try {
    const auto occ = gnm::cuda::occupancy(sm, k);
    return std::to_string(occ.blocks_per_sm) + " (" + percent(occ.fraction) + ", " +
           gnm::cuda::limiter_name(occ.limiter) + ")";
  } catch (const gnm::Error&) {
    return "cannot launch";
  }
}

Table h100_table(const SmLimits& sm) {
  const std::size_t smem[] = {0, 16 * kKiB, 48 * kKiB, 100 * kKiB};
  Table t(std::string(kOccupancyTitle) + ": H100 blocks per SM (published limits)",
          {"threads/block", "registers/thread", "smem 0", "smem 16 KiB", "smem 48 KiB",
           "smem 100 KiB"});
  for (const int block : {64, 128, 256, 512, 1024}) {
    for (const int regs : {32, 64, 128, 255}) {
      std::vector<gnm::ReportCell> row = {integer(block), integer(regs)};
      // Up to 48 KiB as static __shared__ arrays; 100 KiB must be dynamic (after opt-in).
      for (const std::size_t bytes : smem) {
        const KernelResources k = bytes <= 48 * kKiB ? KernelResources{block, regs, bytes, 0}
                                                      : KernelResources{block, regs, 0, bytes};
        row.push_back(str(occupancy_cell(sm, k)));
      }
      t.add(std::move(row));
    }
  }
  return t;
}

//! [worked limits]
// The four limits of a few kernels, from exercise 6.3 (the solution, or yours with
// -DGNM_LEARNER=ON), each checked against the engine.
bool add_worked_limits(const SmLimits& sm, Section& s) {
  struct Case {
    const char* kernel;
    KernelResources resources;
  };
  const Case cases[] = {
      {"elementwise, 256 threads", {256, 16, 0, 0}},
      {"64 registers", {256, 64, 0, 0}},
      {"33 registers (rounded up)", {256, 33, 0, 0}},
      {"3-warp blocks, 40 registers", {96, 40, 0, 0}},
      {"tiled GEMM 128 threads, 48 KiB", {128, 64, 48 * kKiB, 0}},
      {"small blocks", {32, 32, 0, 0}},
      {"100 KiB dynamic smem", {256, 32, 0, 100 * kKiB}},
  };
  Table t(std::string(kOccupancyTitle) + ": the four limits (exercise 6.3)",
          {"kernel", "threads", "regs", "smem bytes", "by warps", "by blocks", "by registers",
           "by smem", "blocks/SM", "occupancy", "limiter", "= engine"});
  bool ok = true;
  for (const Case& c : cases) {
    const KernelResources& k = c.resources;
    const auto mine = gnm::ch06::blocks_per_sm(sm, k);
    const auto engine = gnm::cuda::occupancy(sm, k);
    const bool same = mine.blocks == engine.blocks_per_sm && mine.limiter == engine.limiter &&
                      mine.by_registers == engine.blocks_by_registers &&
                      mine.by_shared == engine.blocks_by_shared;
    ok = ok && same;
    const int warps = (k.block_threads + 31) / 32;
    t.add({str(c.kernel), integer(k.block_threads), integer(k.registers_per_thread),
           integer(static_cast<std::int64_t>(k.static_shared_bytes + k.dynamic_shared_bytes)),
           integer(mine.by_warps), integer(mine.by_blocks), integer(mine.by_registers),
           integer(mine.by_shared), integer(mine.blocks),
           str(percent(static_cast<double>(mine.blocks * warps) / sm.max_warps_per_sm)),
           str(gnm::cuda::limiter_name(mine.limiter)), flag(same)});
  }
  s.add(t);
  return ok;
}
//! [worked limits]

// Exercise 6.3 against the engine on every configuration of the sweep below.
bool add_exercise_check(Section& s) {
  long agree = 0, differ = 0, rejected = 0;
  const int ccs[][2] = {{7, 0}, {7, 5}, {8, 0}, {8, 6}, {8, 9}, {9, 0}};
  for (const auto& cc : ccs) {
    const SmLimits sm = gnm::cuda::sm_limits_for(cc[0], cc[1]);
    for (int block = 32; block <= 1024; block += 32) {
      for (int regs = 0; regs <= 255; regs += 5) {
        for (const std::size_t smem : {std::size_t{0}, 6 * kKiB, 40 * kKiB, 90 * kKiB}) {
          const KernelResources k{block, regs, 0, smem};
          bool engine_ok = true;
          gnm::cuda::Occupancy want;
          try {
            want = gnm::cuda::occupancy(sm, k);
          } catch (const gnm::Error&) {
            engine_ok = false;
          }
          try {
            const auto got = gnm::ch06::blocks_per_sm(sm, k);
            if (engine_ok && got.blocks == want.blocks_per_sm && got.limiter == want.limiter) {
              ++agree;
            } else {
              ++differ;
            }
          } catch (const gnm::NotImplemented&) {
            throw;
          } catch (const gnm::Error&) {
            if (engine_ok) {
              ++differ;
            } else {
              ++rejected;
            }
          }
        }
      }
    }
  }
  Table t(std::string(kOccupancyTitle) + ": exercise 6.3 vs gnm::cuda::occupancy",
          {"configurations", "same blocks and limiter", "rejected by both", "different"});
  t.add({integer(agree + differ + rejected), integer(agree), integer(rejected), integer(differ)});
  s.add(t);
  return differ == 0;
}

//! [staircase]
// Occupancy against registers per thread: flat steps, because registers are allocated per warp
// in units of 256 and each sub-partition holds whole warps.
void write_staircase(const Config& cfg, const SmLimits& sm) {
  gnm::SvgPlot plot("Occupancy vs registers per thread, H100 (published limits)",
                    {"registers per thread", gnm::AxisScale::linear, 0.0, 256.0},
                    {"occupancy (% of 64 warps)", gnm::AxisScale::linear, 0.0, 105.0});
  for (const int block : {128, 256, 512, 1024}) {
    gnm::PlotSeries series{std::to_string(block) + " threads/block", {}, {},
                           gnm::SeriesStyle::line};
    for (int regs = 1; regs <= 255; ++regs) {
      try {
        const auto occ = gnm::cuda::occupancy(sm, {block, regs, 0, 0});
        series.x.push_back(regs);
        series.y.push_back(100.0 * occ.fraction);
      } catch (const gnm::Error&) {
        break;  // from here on the block cannot launch at all
      }
    }
    plot.add_series(std::move(series));
  }
  std::filesystem::create_directories(cfg.figures_dir);
  const auto path = cfg.figures_dir / "ch06_occupancy.svg";
  gnm::write_file_atomic(path, plot.render());
  std::printf("  figure written to %s\n", path.string().c_str());
}
//! [staircase]

}  // namespace

Section run_occupancy(const Config& cfg) {
  Section s;
  const SmLimits sm = gnm::cuda::sm_limits_for(9, 0);
  std::printf("H100 (sm_90) published limits: %d warps, %d blocks, %d registers, %zu KiB shared "
              "per SM; %zu KiB per block after opt-in, 1 KiB reserved per block\n",
              sm.max_warps_per_sm, sm.max_blocks_per_sm, sm.registers_per_sm,
              sm.shared_per_sm / kKiB, sm.shared_per_block_optin / kKiB);
  s.add(h100_table(sm));
  try {
    const bool worked = add_worked_limits(sm, s);
    const bool swept = add_exercise_check(s);
    s.verified = worked && swept;
  } catch (const gnm::NotImplemented& e) {
    std::printf("  exercise 6.3 is not done yet: %s\n", e.what());
    s.verified = false;
  }
  write_staircase(cfg, sm);
  run_occupancy_device(cfg, s);
  return s;
}

}  // namespace chapter06
