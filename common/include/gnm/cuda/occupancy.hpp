/// \file
/// Occupancy calculator: how many blocks of a kernel fit on one SM, and which resource stops more.
///
/// Plain host code with no CUDA headers, so it builds and is tested in the CPU-only build too; on a
/// device, fill DeviceOccupancyProperties from cudaDeviceProp and compare with
/// cudaOccupancyMaxActiveBlocksPerMultiprocessor (tests/gpu/test_occupancy_gpu.cu does).
///
/// The rules are those of the CUDA Occupancy Calculator (cuda_occupancy.h in the toolkit) for the
/// default shared-memory carveout and a kernel that has opted in to large dynamic shared memory:
///  - warps:     a block takes ceil(threads / 32) warp slots of the SM's max_warps_per_sm;
///  - blocks:    at most max_blocks_per_sm resident blocks;
///  - registers: each warp gets registers_per_thread * 32 rounded up to 256; the register file is
///               split into 4 sub-partitions, each holding a whole number of warps;
///  - shared:    a block takes static + dynamic + 1 KiB (reserved by the driver on sm_80+), rounded
///               up to 128 bytes (256 before sm_80), out of shared_per_sm.
///
/// \code
/// const auto sm = gnm::cuda::sm_limits_for(9, 0);  // H100
/// const auto occ = gnm::cuda::occupancy(sm, {.block_threads = 256, .registers_per_thread = 64});
/// // occ.blocks_per_sm == 4, occ.fraction == 0.5, occ.limiter == Limiter::registers
/// \endcode
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace gnm::cuda {

/// What one SM of a given compute capability can hold (the inputs of the occupancy calculation).
struct SmLimits {
  int cc_major = 0;                          ///< Compute capability, major (9 for Hopper).
  int cc_minor = 0;                          ///< Compute capability, minor.
  int warp_size = 32;                        ///< Threads per warp.
  int max_threads_per_block = 1024;          ///< Largest block a launch accepts.
  int max_threads_per_sm = 0;                ///< Resident threads per SM.
  int max_warps_per_sm = 0;                  ///< Resident warps per SM (max_threads_per_sm / 32).
  int max_blocks_per_sm = 0;                 ///< Resident blocks per SM.
  int registers_per_sm = 0;                  ///< 32-bit registers per SM.
  int registers_per_block = 0;               ///< 32-bit registers one block may use.
  int register_allocation_unit = 256;        ///< Registers per warp are rounded up to this.
  int max_registers_per_thread = 255;        ///< Most registers ptxas gives one thread.
  int sub_partitions = 4;                    ///< SM sub-partitions; each owns 1/4 of the registers.
  std::size_t shared_per_sm = 0;             ///< Shared memory per SM in bytes (max carveout).
  std::size_t shared_per_block_static = 0;   ///< Static (__shared__) limit per block in bytes.
  std::size_t shared_per_block_optin = 0;    ///< Static + dynamic limit per block after opt-in.
  std::size_t shared_allocation_unit = 0;    ///< A block's shared memory is rounded up to this.
  std::size_t reserved_shared_per_block = 0; ///< Driver's per-block reservation (1 KiB on sm_80+).
};

/// The subset of cudaDeviceProp the calculator needs, so that host code can build SmLimits for
/// the device it runs on without CUDA headers (copy the fields named in each comment).
struct DeviceOccupancyProperties {
  int major = 0;                              ///< cudaDeviceProp::major.
  int minor = 0;                              ///< cudaDeviceProp::minor.
  int warp_size = 0;                          ///< cudaDeviceProp::warpSize.
  int max_threads_per_block = 0;              ///< cudaDeviceProp::maxThreadsPerBlock.
  int max_threads_per_sm = 0;                 ///< cudaDeviceProp::maxThreadsPerMultiProcessor.
  int max_blocks_per_sm = 0;                  ///< cudaDeviceProp::maxBlocksPerMultiProcessor.
  int registers_per_sm = 0;                   ///< cudaDeviceProp::regsPerMultiprocessor.
  int registers_per_block = 0;                ///< cudaDeviceProp::regsPerBlock.
  std::size_t shared_per_sm = 0;              ///< cudaDeviceProp::sharedMemPerMultiprocessor.
  std::size_t shared_per_block = 0;           ///< cudaDeviceProp::sharedMemPerBlock.
  std::size_t shared_per_block_optin = 0;     ///< cudaDeviceProp::sharedMemPerBlockOptin.
  std::size_t reserved_shared_per_block = 0;  ///< cudaDeviceProp::reservedSharedMemPerBlock.
};

/// Published limits of one SM for compute capability major.minor: 7.0, 7.5, 8.0, 8.6, 8.7, 8.9
/// or 9.0 (H100). Throws gnm::Error naming the capability for any other.
SmLimits sm_limits_for(int major, int minor);

/// SmLimits of a real device: the sizes from its properties, the allocation rules (units,
/// sub-partitions, register cap) from its architecture. Throws gnm::Error for inconsistent
/// properties (any count not positive) or an architecture older than sm_70.
SmLimits sm_limits_from(const DeviceOccupancyProperties& props);

/// SmLimits of CUDA device `device`, from cudaGetDeviceProperties through sm_limits_from. Defined
/// only in builds with CUDA (GNM_HAVE_CUDA = 1); throws gnm::CudaError without a usable device.
SmLimits device_sm_limits(int device);

/// What one block of a kernel asks of an SM (registers as reported by cudaFuncGetAttributes or
/// `nvcc -Xptxas -v`).
struct KernelResources {
  int block_threads = 0;                 ///< Threads per block (any value 1..1024, need not be /32).
  int registers_per_thread = 0;          ///< Registers per thread (cudaFuncAttributes::numRegs).
  std::size_t static_shared_bytes = 0;   ///< __shared__ arrays (cudaFuncAttributes::sharedSizeBytes).
  std::size_t dynamic_shared_bytes = 0;  ///< The third launch parameter <<<g, b, bytes>>>.
};

/// The resource that caps the number of resident blocks.
enum class Limiter {
  warps,          ///< Warp slots (max_warps_per_sm).
  blocks,         ///< The resident-block cap (max_blocks_per_sm).
  registers,      ///< The register file.
  shared_memory,  ///< Shared memory.
};

/// "warps", "blocks", "registers" or "shared_memory".
const char* limiter_name(Limiter limiter);

/// The occupancy of one kernel configuration on one SM.
struct Occupancy {
  int blocks_per_sm = 0;                   ///< Resident blocks: the minimum of the four limits.
  int warps_per_block = 0;                 ///< ceil(block_threads / warp_size).
  int active_warps = 0;                    ///< blocks_per_sm * warps_per_block.
  double fraction = 0.0;                   ///< active_warps / max_warps_per_sm, in (0, 1].
  Limiter limiter = Limiter::warps;        ///< First binding resource in enum order (see limits()).
  int blocks_by_warps = 0;                 ///< Blocks that fit by warp slots alone.
  int blocks_by_blocks = 0;                ///< max_blocks_per_sm.
  int blocks_by_registers = 0;             ///< Blocks that fit by registers alone (huge if 0 regs).
  int blocks_by_shared = 0;                ///< Blocks that fit by shared memory alone (huge if none).
  int registers_per_warp = 0;              ///< Registers allocated to one warp (rounded up).
  std::size_t shared_per_block = 0;        ///< Shared bytes allocated per block incl. reservation.

  /// Whether `resource` binds, i.e. allows exactly blocks_per_sm blocks (several may tie).
  bool limits(Limiter resource) const;
};

/// Occupancy of `kernel` on an SM with limits `sm`. Throws gnm::Error naming the values when the
/// configuration cannot launch: block_threads outside 1..max_threads_per_block, registers_per_thread
/// outside 0..max_registers_per_thread, a block needing more registers than registers_per_block,
/// static shared memory above shared_per_block_static, or static + dynamic shared memory above
/// shared_per_block_optin.
Occupancy occupancy(const SmLimits& sm, const KernelResources& kernel);

/// The block sizes an occupancy sweep visits, and how shared memory grows with the block.
struct SweepRange {
  int first = 32;                             ///< Smallest block size.
  int last = 1024;                            ///< Largest block size (inclusive).
  int step = 32;                              ///< Increment (> 0).
  std::size_t dynamic_shared_per_thread = 0;  ///< Added to dynamic shared bytes per thread.
};

/// One point of an occupancy sweep.
struct SweepPoint {
  int block_threads = 0;   ///< Block size of this point.
  bool launchable = false; ///< False when occupancy() rejects the configuration.
  Occupancy occupancy;     ///< Zero-initialised when not launchable.
  std::string why;         ///< The rejection message when not launchable, else empty.
};

/// Occupancy against block size for one kernel: `kernel.block_threads` is ignored, every size of
/// `range` is tried, and sizes that cannot launch are reported (not thrown). Throws gnm::Error for
/// an empty or malformed range.
std::vector<SweepPoint> occupancy_sweep(const SmLimits& sm, const KernelResources& kernel,
                                        const SweepRange& range = {});

}  // namespace gnm::cuda
