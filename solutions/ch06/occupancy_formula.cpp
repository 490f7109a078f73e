// Exercise 6.3: the occupancy formula (see exercises/ch06/occupancy_formula.hpp).
//
// A worked H100 case (sm_limits_for(9, 0): 64 warps, 32 blocks, 64 K registers, 228 KiB shared
// per SM): 256 threads, 40 registers, 20 KiB of shared memory per block.
//   warps:     256 / 32 = 8 warps per block, 64 / 8                         = 8 blocks
//   registers: 40 * 32 = 1280 per warp (a multiple of 256 already); 64 K / 4 = 16 K per
//              sub-partition holds 12 warps, 4 × 12 = 48 warps, 48 / 8          = 6 blocks
//   shared:    20 KiB + 1 KiB reserved = 21504 B (a multiple of 128); 233472 / 21504 = 10 blocks
//   blocks:                                                                  = 32 blocks
// → 6 blocks per SM, 48 of 64 warps (75 %), limited by registers.
#include "occupancy_formula.hpp"

#include <algorithm>

#include "gnm/core/check.hpp"

namespace gnm::ch06 {

int warp_limit(const gnm::cuda::SmLimits& sm, int block_threads) {
  // BEGIN SOLUTION("ex 6.3", "warps per block = ceil(block_threads / sm.warp_size); return sm.max_warps_per_sm / that")
  const int warps = (block_threads + sm.warp_size - 1) / sm.warp_size;
  return sm.max_warps_per_sm / warps;
  // END SOLUTION
}

int register_limit(const gnm::cuda::SmLimits& sm, int block_threads, int registers_per_thread) {
  // BEGIN SOLUTION("ex 6.3", "per warp: registers_per_thread * warp_size rounded up to register_allocation_unit (kNoLimit if 0); warps one sub-partition holds = (registers_per_sm / sub_partitions) / that; blocks = warps * sub_partitions / warps per block")
  const int unit = sm.register_allocation_unit;
  const int per_warp = (registers_per_thread * sm.warp_size + unit - 1) / unit * unit;
  if (per_warp == 0) return kNoLimit;
  const int warps_per_part = (sm.registers_per_sm / sm.sub_partitions) / per_warp;
  const int warps_per_block = (block_threads + sm.warp_size - 1) / sm.warp_size;
  return warps_per_part * sm.sub_partitions / warps_per_block;
  // END SOLUTION
}

int shared_limit(const gnm::cuda::SmLimits& sm, std::size_t static_shared_bytes,
                 std::size_t dynamic_shared_bytes) {
  // BEGIN SOLUTION("ex 6.3", "bytes = static + dynamic + sm.reserved_shared_per_block, rounded up to sm.shared_allocation_unit; kNoLimit if 0, else sm.shared_per_sm / bytes")
  const std::size_t unit = sm.shared_allocation_unit;
  const std::size_t bytes =
      (static_shared_bytes + dynamic_shared_bytes + sm.reserved_shared_per_block + unit - 1) /
      unit * unit;
  if (bytes == 0) return kNoLimit;
  return static_cast<int>(std::min<std::size_t>(sm.shared_per_sm / bytes, kNoLimit));
  // END SOLUTION
}

BlocksPerSm blocks_per_sm(const gnm::cuda::SmLimits& sm, const gnm::cuda::KernelResources& k) {
  // BEGIN SOLUTION("ex 6.3", "GNM_CHECK each launch rule of the header (block size, registers per thread, static and total shared memory, registers per block with the warps rounded up to sub_partitions); fill the four limits; blocks = their minimum; limiter = the first that equals it")
  GNM_CHECK(k.block_threads >= 1 && k.block_threads <= sm.max_threads_per_block,
            "block size out of range", k.block_threads, sm.max_threads_per_block);
  GNM_CHECK(k.registers_per_thread >= 0 && k.registers_per_thread <= sm.max_registers_per_thread,
            "registers per thread out of range", k.registers_per_thread,
            sm.max_registers_per_thread);
  GNM_CHECK(k.static_shared_bytes <= sm.shared_per_block_static,
            "static shared memory above the per-block limit", k.static_shared_bytes,
            sm.shared_per_block_static);
  GNM_CHECK(k.static_shared_bytes + k.dynamic_shared_bytes <= sm.shared_per_block_optin &&
                k.dynamic_shared_bytes <= sm.shared_per_block_optin,
            "static + dynamic shared memory above the per-block limit", k.static_shared_bytes,
            k.dynamic_shared_bytes, sm.shared_per_block_optin);
  const int unit = sm.register_allocation_unit;
  const long long per_warp = (k.registers_per_thread * sm.warp_size + unit - 1) / unit * unit;
  const int warps = (k.block_threads + sm.warp_size - 1) / sm.warp_size;
  const int warps_checked = (warps + sm.sub_partitions - 1) / sm.sub_partitions * sm.sub_partitions;
  GNM_CHECK(per_warp * warps_checked <= sm.registers_per_block,
            "the block needs more registers than one block may use", k.block_threads,
            k.registers_per_thread, per_warp * warps_checked, sm.registers_per_block);

  BlocksPerSm r;
  r.by_warps = warp_limit(sm, k.block_threads);
  r.by_blocks = sm.max_blocks_per_sm;
  r.by_registers = register_limit(sm, k.block_threads, k.registers_per_thread);
  r.by_shared = shared_limit(sm, k.static_shared_bytes, k.dynamic_shared_bytes);
  r.blocks = std::min({r.by_warps, r.by_blocks, r.by_registers, r.by_shared});
  using gnm::cuda::Limiter;
  r.limiter = r.by_warps == r.blocks       ? Limiter::warps
              : r.by_blocks == r.blocks    ? Limiter::blocks
              : r.by_registers == r.blocks ? Limiter::registers
                                           : Limiter::shared_memory;
  return r;
  // END SOLUTION
}

}  // namespace gnm::ch06
