// Exercise 6.3 — the occupancy formula: how many blocks of a kernel one SM holds, and why.
//
// An SM keeps a block resident only while it has room for all of the block's warps, registers
// and shared memory, and fewer than its maximum number of blocks. Write, in
// exercises/ch06/occupancy_formula.cpp, the four limits and their minimum (the rules are those of
// CUDA's occupancy calculator; chapter 6.5 of the book works through them):
//   (a) warp_limit:      blocks that fit by warp slots;
//   (b) register_limit:  blocks that fit in the register file (per-warp allocation in units of
//                        256 registers, four sub-partitions that each hold whole warps);
//   (c) shared_limit:    blocks that fit in shared memory (the driver's 1 KiB per block on sm_80+,
//                        then rounded up to the allocation unit);
//   (d) blocks_per_sm:   the minimum, the limiter, and the checks that reject what cannot launch.
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch06
// The tests compare your answers with gnm::cuda::occupancy on a sweep of every published
// architecture and with hand-worked H100 cases. Everything runs on the CPU.
#pragma once

#include <cstddef>

#include "gnm/cuda/occupancy.hpp"

namespace gnm::ch06 {

/// Blocks that one resource allows, when the resource is not used at all (a kernel with no
/// registers or no shared memory): "no limit".
inline constexpr int kNoLimit = 2147483647;

/// Ex 6.3a. Blocks of `block_threads` threads that fit by warp slots: a block occupies
/// ceil(block_threads / warp_size) warps (a partial warp takes a whole slot) out of
/// sm.max_warps_per_sm.
int warp_limit(const gnm::cuda::SmLimits& sm, int block_threads);

/// Ex 6.3b. Blocks that fit in the register file. Registers are allocated per warp:
/// registers_per_thread × warp_size, rounded up to sm.register_allocation_unit. The file is split
/// into sm.sub_partitions equal parts, each holding a whole number of warps; the blocks are the
/// warps all parts hold together, divided by the block's warps. kNoLimit for 0 registers.
int register_limit(const gnm::cuda::SmLimits& sm, int block_threads, int registers_per_thread);

/// Ex 6.3c. Blocks that fit in shared memory: a block takes its static + dynamic bytes plus
/// sm.reserved_shared_per_block, rounded up to sm.shared_allocation_unit, out of
/// sm.shared_per_sm. kNoLimit when that comes to 0 bytes.
int shared_limit(const gnm::cuda::SmLimits& sm, std::size_t static_shared_bytes,
                 std::size_t dynamic_shared_bytes);

/// The answer of ex 6.3d.
struct BlocksPerSm {
  int blocks = 0;        ///< Resident blocks per SM: the minimum of the four limits.
  int by_warps = 0;      ///< warp_limit().
  int by_blocks = 0;     ///< sm.max_blocks_per_sm.
  int by_registers = 0;  ///< register_limit().
  int by_shared = 0;     ///< shared_limit().
  /// The first resource, in the order warps, blocks, registers, shared memory, whose limit equals
  /// `blocks`.
  gnm::cuda::Limiter limiter = gnm::cuda::Limiter::warps;
};

/// Ex 6.3d. The occupancy of `kernel` on an SM with limits `sm`. Throws gnm::Error, naming the
/// values, for a configuration that cannot launch:
/// - block_threads outside 1..sm.max_threads_per_block;
/// - registers_per_thread outside 0..sm.max_registers_per_thread;
/// - static shared memory above sm.shared_per_block_static, or static + dynamic above
///   sm.shared_per_block_optin;
/// - a block whose registers exceed sm.registers_per_block, counted as the launch check does:
///   registers per warp (rounded as in 6.3b) × the block's warps rounded up to a multiple of
///   sm.sub_partitions.
BlocksPerSm blocks_per_sm(const gnm::cuda::SmLimits& sm, const gnm::cuda::KernelResources& kernel);

}  // namespace gnm::ch06
