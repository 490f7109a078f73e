// The occupancy calculator: host arithmetic only, no CUDA headers (it is in the CPU-only build).
//
// Sources of the numbers and rules:
//  - Limits per compute capability: CUDA C++ Programming Guide, "Features and Technical
//    Specifications", table "Technical Specifications per Compute Capability" (threads/SM,
//    blocks/SM, 64 K registers per SM and per block, 255 registers per thread, shared memory per
//    SM and per block, 48 KiB static shared memory per block).
//  - Allocation rules: the CUDA Occupancy Calculator as shipped in the toolkit (cuda_occupancy.h):
//    registers allocated per warp in units of 256, 4 SM sub-partitions since sm_70, shared memory
//    in units of 256 B (sm_7x) or 128 B (sm_8x, sm_9x), and cudaDeviceProp::reservedSharedMemPerBlock
//    (1 KiB since sm_80) added to every block's shared memory before rounding.
#include "gnm/cuda/occupancy.hpp"

#include <algorithm>
#include <climits>
#include <string>

#include "gnm/core/check.hpp"

namespace gnm::cuda {

namespace {

constexpr std::size_t kKiB = 1024;

int divide_round_up(int a, int b) { return (a + b - 1) / b; }
int round_up(int a, int unit) { return divide_round_up(a, unit) * unit; }
std::size_t round_up(std::size_t a, std::size_t unit) { return (a + unit - 1) / unit * unit; }

// The allocation rules of an architecture, which cudaDeviceProp does not report.
void set_allocation_rules(SmLimits& sm) {
  sm.warp_size = 32;
  sm.register_allocation_unit = 256;
  // cuda_occupancy.h checks numRegs against 256 on sm_70+, but ptxas never assigns more than 255
  // (Programming Guide table); 255 is the value a user can actually observe.
  sm.max_registers_per_thread = 255;
  sm.sub_partitions = 4;
  sm.shared_allocation_unit = sm.cc_major >= 8 ? 128 : 256;
  sm.shared_per_block_static = 48 * kKiB;
}

SmLimits published(int major, int minor, int threads_per_sm, int blocks_per_sm,
                   std::size_t shared_kib_per_sm, std::size_t optin_kib_per_block) {
  SmLimits sm;
  sm.cc_major = major;
  sm.cc_minor = minor;
  set_allocation_rules(sm);
  sm.max_threads_per_block = 1024;
  sm.max_threads_per_sm = threads_per_sm;
  sm.max_warps_per_sm = threads_per_sm / sm.warp_size;
  sm.max_blocks_per_sm = blocks_per_sm;
  sm.registers_per_sm = 64 * 1024;
  sm.registers_per_block = 64 * 1024;
  sm.shared_per_sm = shared_kib_per_sm * kKiB;
  sm.shared_per_block_optin = optin_kib_per_block * kKiB;
  // The driver keeps 1 KiB per block for itself since Ampere; this is why the H100 reports
  // 228 KiB per SM but at most 227 KiB per block: one maximal block plus its reservation fills
  // the SM exactly.
  sm.reserved_shared_per_block = major >= 8 ? kKiB : 0;
  return sm;
}

}  // namespace

SmLimits sm_limits_for(int major, int minor) {
  //! [published limits]
  //             cc      threads/SM  blocks/SM  shared/SM KiB  max shared/block KiB
  if (major == 7 && minor == 0) return published(7, 0, 2048, 32, 96, 96);     // V100
  if (major == 7 && minor == 5) return published(7, 5, 1024, 16, 64, 64);     // T4, RTX 20
  if (major == 8 && minor == 0) return published(8, 0, 2048, 32, 164, 163);   // A100
  if (major == 8 && minor == 6) return published(8, 6, 1536, 16, 100, 99);    // RTX 30, A10
  if (major == 8 && minor == 7) return published(8, 7, 1536, 16, 164, 163);   // Jetson Orin
  if (major == 8 && minor == 9) return published(8, 9, 1536, 24, 100, 99);    // L4, RTX 40
  if (major == 9 && minor == 0) return published(9, 0, 2048, 32, 228, 227);   // H100, H200
  //! [published limits]
  GNM_CHECK(false,
            "no published SM limits for this compute capability (known: 7.0 7.5 8.0 8.6 8.7 8.9 "
            "9.0); on a device use sm_limits_from(properties)",
            major, minor);
  return {};
}

SmLimits sm_limits_from(const DeviceOccupancyProperties& p) {
  GNM_CHECK(p.major >= 7, "the occupancy rules here start at Volta (sm_70)", p.major, p.minor);
  GNM_CHECK(p.warp_size == 32 && p.max_threads_per_block > 0 && p.max_threads_per_sm > 0 &&
                p.max_blocks_per_sm > 0 && p.registers_per_sm > 0 && p.registers_per_block > 0 &&
                p.shared_per_sm > 0 && p.shared_per_block > 0,
            "device properties must be positive (was cudaGetDeviceProperties called?)",
            p.warp_size, p.max_threads_per_block, p.max_threads_per_sm, p.max_blocks_per_sm,
            p.registers_per_sm, p.registers_per_block, p.shared_per_sm, p.shared_per_block);
  SmLimits sm;
  sm.cc_major = p.major;
  sm.cc_minor = p.minor;
  set_allocation_rules(sm);
  sm.max_threads_per_block = p.max_threads_per_block;
  sm.max_threads_per_sm = p.max_threads_per_sm;
  sm.max_warps_per_sm = p.max_threads_per_sm / p.warp_size;
  sm.max_blocks_per_sm = p.max_blocks_per_sm;
  sm.registers_per_sm = p.registers_per_sm;
  sm.registers_per_block = p.registers_per_block;
  sm.shared_per_sm = p.shared_per_sm;
  sm.shared_per_block_static = p.shared_per_block;
  sm.shared_per_block_optin = std::max(p.shared_per_block_optin, p.shared_per_block);
  sm.reserved_shared_per_block = p.reserved_shared_per_block;
  return sm;
}

const char* limiter_name(Limiter limiter) {
  switch (limiter) {
    case Limiter::warps: return "warps";
    case Limiter::blocks: return "blocks";
    case Limiter::registers: return "registers";
    case Limiter::shared_memory: return "shared_memory";
  }
  return "unknown";
}

bool Occupancy::limits(Limiter resource) const {
  switch (resource) {
    case Limiter::warps: return blocks_by_warps == blocks_per_sm;
    case Limiter::blocks: return blocks_by_blocks == blocks_per_sm;
    case Limiter::registers: return blocks_by_registers == blocks_per_sm;
    case Limiter::shared_memory: return blocks_by_shared == blocks_per_sm;
  }
  return false;
}

Occupancy occupancy(const SmLimits& sm, const KernelResources& k) {
  GNM_CHECK(sm.warp_size > 0 && sm.max_warps_per_sm > 0 && sm.max_blocks_per_sm > 0 &&
                sm.registers_per_sm > 0 && sm.sub_partitions > 0 &&
                sm.register_allocation_unit > 0 && sm.shared_allocation_unit > 0,
            "SmLimits are not filled in (use sm_limits_for or sm_limits_from)", sm.cc_major,
            sm.cc_minor, sm.max_warps_per_sm, sm.max_blocks_per_sm, sm.registers_per_sm);
  GNM_CHECK(k.block_threads >= 1 && k.block_threads <= sm.max_threads_per_block,
            "block size out of range", k.block_threads, sm.max_threads_per_block);
  GNM_CHECK(k.registers_per_thread >= 0 && k.registers_per_thread <= sm.max_registers_per_thread,
            "registers per thread out of range", k.registers_per_thread,
            sm.max_registers_per_thread);
  GNM_CHECK(k.static_shared_bytes <= sm.shared_per_block_static,
            "static shared memory above the per-block limit", k.static_shared_bytes,
            sm.shared_per_block_static);
  GNM_CHECK(k.dynamic_shared_bytes <= sm.shared_per_block_optin &&
                k.static_shared_bytes + k.dynamic_shared_bytes <= sm.shared_per_block_optin,
            "static + dynamic shared memory above the per-block limit (after opt-in)",
            k.static_shared_bytes, k.dynamic_shared_bytes, sm.shared_per_block_optin);

  Occupancy occ;
  //! [occupancy rules]
  // Warps: a partial warp still occupies a whole warp slot (33 threads = 2 warps).
  occ.warps_per_block = divide_round_up(k.block_threads, sm.warp_size);
  occ.blocks_by_warps = sm.max_warps_per_sm / occ.warps_per_block;
  occ.blocks_by_blocks = sm.max_blocks_per_sm;

  // Registers: allocated per warp, rounded up to 256 (so 33..40 registers per thread cost the
  // same). The register file is split over the 4 sub-partitions (the warp schedulers), each
  // holding whole warps: 64 K registers / 4 = 16 K per sub-partition.
  occ.registers_per_warp = round_up(k.registers_per_thread * sm.warp_size,
                                    sm.register_allocation_unit);
  // The launch check rounds the block's warps up to a multiple of the sub-partitions, as if each
  // sub-partition received the same number of warps (1000 threads = 32 warps; 33 = 2, checked as 4).
  const int warps_checked = round_up(occ.warps_per_block, sm.sub_partitions);
  const long long regs_checked = static_cast<long long>(occ.registers_per_warp) * warps_checked;
  GNM_CHECK(regs_checked <= sm.registers_per_block,
            "the block needs more registers than one block may use (cannot launch)",
            k.block_threads, k.registers_per_thread, occ.registers_per_warp, warps_checked,
            regs_checked, sm.registers_per_block);
  if (occ.registers_per_warp == 0) {
    occ.blocks_by_registers = INT_MAX;
  } else {
    const int warps_per_sub_partition =
        (sm.registers_per_sm / sm.sub_partitions) / occ.registers_per_warp;
    occ.blocks_by_registers = warps_per_sub_partition * sm.sub_partitions / occ.warps_per_block;
  }

  // Shared memory: the driver's reservation is part of every block, then round up.
  occ.shared_per_block = round_up(k.static_shared_bytes + k.dynamic_shared_bytes +
                                      sm.reserved_shared_per_block,
                                  sm.shared_allocation_unit);
  occ.blocks_by_shared =
      occ.shared_per_block == 0
          ? INT_MAX
          : static_cast<int>(std::min<std::size_t>(sm.shared_per_sm / occ.shared_per_block,
                                                   INT_MAX));

  occ.blocks_per_sm = std::min({occ.blocks_by_warps, occ.blocks_by_blocks,
                                occ.blocks_by_registers, occ.blocks_by_shared});
  //! [occupancy rules]
  // Every check above passed, so at least one block fits: registers_per_block <= registers_per_sm
  // and shared_per_block_optin + reservation <= shared_per_sm on every architecture listed; a
  // device whose properties break that is reported rather than given 0 blocks silently.
  GNM_CHECK(occ.blocks_per_sm >= 1, "no block fits on an SM with these limits",
            occ.blocks_by_warps, occ.blocks_by_registers, occ.blocks_by_shared,
            occ.shared_per_block, sm.shared_per_sm);
  occ.active_warps = occ.blocks_per_sm * occ.warps_per_block;
  occ.fraction = static_cast<double>(occ.active_warps) / static_cast<double>(sm.max_warps_per_sm);
  for (Limiter l : {Limiter::warps, Limiter::blocks, Limiter::registers, Limiter::shared_memory}) {
    if (occ.limits(l)) {
      occ.limiter = l;
      break;
    }
  }
  return occ;
}

std::vector<SweepPoint> occupancy_sweep(const SmLimits& sm, const KernelResources& kernel,
                                        const SweepRange& range) {
  GNM_CHECK(range.step > 0 && range.first >= 1 && range.first <= range.last,
            "sweep range must be non-empty with a positive step", range.first, range.last,
            range.step);
  std::vector<SweepPoint> points;
  points.reserve(static_cast<std::size_t>((range.last - range.first) / range.step + 1));
  for (int threads = range.first; threads <= range.last; threads += range.step) {
    SweepPoint point;
    point.block_threads = threads;
    KernelResources k = kernel;
    k.block_threads = threads;
    k.dynamic_shared_bytes += range.dynamic_shared_per_thread * static_cast<std::size_t>(threads);
    try {
      point.occupancy = occupancy(sm, k);
      point.launchable = true;
    } catch (const gnm::Error& e) {
      point.why = e.what();
    }
    points.push_back(std::move(point));
    if (threads > range.last - range.step) break;  // no signed overflow near INT_MAX
  }
  return points;
}

}  // namespace gnm::cuda
