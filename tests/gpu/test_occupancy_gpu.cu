// The occupancy calculator (gnm/cuda/occupancy.hpp) against NVIDIA's own:
//  - OccupancyVsToolkit: against cuda_occupancy.h, the toolkit's host-only calculator, over a grid
//    of block sizes, registers and shared memory on every listed architecture (no device needed);
//  - OccupancyGpu: against cudaOccupancyMaxActiveBlocksPerMultiprocessor on real kernels of the
//    device, with registers and static shared memory read by cudaFuncGetAttributes.
#include <cuda_occupancy.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/occupancy.hpp"
#include "gpu_test.hpp"

namespace {

using gnm::cuda::KernelResources;
using gnm::cuda::SmLimits;

const std::vector<int> kBlockSizes = {1,   32,  33,  64,  96,  128, 160, 192, 256,  288, 384,
                                      416, 512, 544, 640, 768, 896, 928, 1000, 1024};

// Our verdict for one configuration: blocks per SM, or 0 where occupancy() rejects it (the
// runtime answers 0 blocks, or an error, for a configuration that cannot launch).
int our_blocks(const SmLimits& sm, const KernelResources& k, std::string* why = nullptr) {
  try {
    return gnm::cuda::occupancy(sm, k).blocks_per_sm;
  } catch (const gnm::Error& e) {
    if (why) *why = e.what();
    return 0;
  }
}

TEST(OccupancyVsToolkit, SameBlocksAsCudaOccupancyHeaderOnEveryListedArchitecture) {
  const int ccs[][2] = {{7, 0}, {7, 5}, {8, 0}, {8, 6}, {8, 7}, {8, 9}, {9, 0}};
  const int regs[] = {0, 16, 24, 32, 33, 40, 41, 64, 65, 72, 96, 128, 136, 168, 200, 255};
  const std::size_t statics[] = {0, 1000, 16 * 1024, 48 * 1024};
  long compared = 0;
  for (const auto& cc : ccs) {
    const SmLimits sm = gnm::cuda::sm_limits_for(cc[0], cc[1]);
    cudaOccDeviceProp prop;
    prop.computeMajor = sm.cc_major;
    prop.computeMinor = sm.cc_minor;
    prop.maxThreadsPerBlock = sm.max_threads_per_block;
    prop.maxThreadsPerMultiprocessor = sm.max_threads_per_sm;
    prop.regsPerBlock = sm.registers_per_block;
    prop.regsPerMultiprocessor = sm.registers_per_sm;
    prop.warpSize = sm.warp_size;
    prop.sharedMemPerBlock = sm.shared_per_block_static;
    prop.sharedMemPerMultiprocessor = sm.shared_per_sm;
    prop.numSms = 1;
    prop.sharedMemPerBlockOptin = sm.shared_per_block_optin;
    prop.reservedSharedMemPerBlock = sm.reserved_shared_per_block;
    const cudaOccDeviceState state;  // default carveout and cache preference
    for (std::size_t st : statics) {
      const std::size_t dynamics[] = {0, 1, 1000, 47 * 1024, 100 * 1024,
                                      sm.shared_per_block_optin - st};
      for (std::size_t dyn : dynamics) {
        for (int r : regs) {
          cudaOccFuncAttributes attr;
          attr.maxThreadsPerBlock = sm.max_threads_per_block;
          attr.numRegs = r;
          attr.sharedSizeBytes = st;
          attr.partitionedGCConfig = PARTITIONED_GC_OFF;
          attr.shmemLimitConfig = FUNC_SHMEM_LIMIT_OPTIN;  // as after cudaFuncSetAttribute
          attr.maxDynamicSharedSizeBytes = sm.shared_per_block_optin - st;
          attr.numBlockBarriers = 1;
          attr.virtualResourceCount = 0;
          for (int bs : kBlockSizes) {
            cudaOccResult result{};
            const cudaOccError err =
                cudaOccMaxActiveBlocksPerMultiprocessor(&result, &prop, &attr, &state, bs, dyn);
            const KernelResources k{bs, r, st, dyn};
            std::string why;
            const int ours = our_blocks(sm, k, &why);
            if (dyn > sm.shared_per_block_optin) {
              EXPECT_EQ(ours, 0);  // the toolkit rejects it as invalid input or 0 blocks
              continue;
            }
            ASSERT_EQ(err, CUDA_OCC_SUCCESS) << cc[0] << "." << cc[1] << " bs " << bs;
            ASSERT_EQ(ours, result.activeBlocksPerMultiprocessor)
                << "sm_" << cc[0] << cc[1] << " block " << bs << " regs " << r << " static " << st
                << " dynamic " << dyn << " " << why;
            ++compared;
          }
        }
      }
    }
  }
  EXPECT_GT(compared, 10000);
}

// Kernels whose resource use spans the limiters. Register counts are whatever nvcc chooses; the
// test reads them back, so it does not depend on the compiler version.
__global__ void light_kernel(float* y, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = y[i] * 2.0f + 1.0f;
}

// Many live accumulators: nvcc keeps them in registers (the loops unroll), > 64 per thread.
template <int kAcc>
__global__ void __launch_bounds__(256) heavy_kernel(float* y, const float* x, int n) {
  float acc[kAcc];
#pragma unroll
  for (int j = 0; j < kAcc; ++j) acc[j] = x[(threadIdx.x + j) % n];
  for (int it = 0; it < n; ++it) {
#pragma unroll
    for (int j = 0; j < kAcc; ++j) acc[j] = acc[j] * acc[(j + 1) % kAcc] + x[(it + j) % n];
  }
  float s = 0.0f;
#pragma unroll
  for (int j = 0; j < kAcc; ++j) s += acc[j];
  y[blockIdx.x * blockDim.x + threadIdx.x] = s;
}

// The same work forced under 1024-thread blocks: at most 64 registers per thread.
__global__ void __launch_bounds__(1024, 1) bounded_kernel(float* y, const float* x, int n) {
  float acc[24];
#pragma unroll
  for (int j = 0; j < 24; ++j) acc[j] = x[(threadIdx.x + j) % n];
  for (int it = 0; it < n; ++it) {
#pragma unroll
    for (int j = 0; j < 24; ++j) acc[j] = acc[j] * acc[(j + 1) % 24] + x[(it + j) % n];
  }
  float s = 0.0f;
#pragma unroll
  for (int j = 0; j < 24; ++j) s += acc[j];
  y[blockIdx.x * blockDim.x + threadIdx.x] = s;
}

// 20 KiB of static shared memory, plus any dynamic.
__global__ void shared_kernel(float* y, int n) {
  __shared__ float tile[5120];
  extern __shared__ float extra[];
  tile[threadIdx.x % 5120] = static_cast<float>(threadIdx.x);
  extra[0] = 1.0f;
  __syncthreads();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = tile[(threadIdx.x + 1) % 5120] + extra[0];
}

struct NamedKernel {
  const char* name;
  const void* func;
};

TEST(OccupancyGpu, DeviceLimitsMatchThePublishedTable) {
  GNM_GPU_TEST_OR_SKIP();
  const SmLimits dev = gnm::cuda::device_sm_limits(0);
  SmLimits pub;
  try {
    pub = gnm::cuda::sm_limits_for(dev.cc_major, dev.cc_minor);
  } catch (const gnm::Error& e) {
    GTEST_SKIP() << "no published table for this device: " << e.what();
  }
  EXPECT_EQ(dev.max_threads_per_block, pub.max_threads_per_block);
  EXPECT_EQ(dev.max_warps_per_sm, pub.max_warps_per_sm);
  EXPECT_EQ(dev.max_blocks_per_sm, pub.max_blocks_per_sm);
  EXPECT_EQ(dev.registers_per_sm, pub.registers_per_sm);
  EXPECT_EQ(dev.registers_per_block, pub.registers_per_block);
  EXPECT_EQ(dev.shared_per_sm, pub.shared_per_sm);
  EXPECT_EQ(dev.shared_per_block_static, pub.shared_per_block_static);
  EXPECT_EQ(dev.shared_per_block_optin, pub.shared_per_block_optin);
  EXPECT_EQ(dev.reserved_shared_per_block, pub.reserved_shared_per_block);
}

TEST(OccupancyGpu, SameBlocksAsTheRuntimeOnRealKernels) {
  GNM_GPU_TEST_OR_SKIP();
  const SmLimits sm = gnm::cuda::device_sm_limits(0);
  const NamedKernel kernels[] = {
      {"light", reinterpret_cast<const void*>(&light_kernel)},
      {"heavy<48>", reinterpret_cast<const void*>(&heavy_kernel<48>)},
      {"heavy<96>", reinterpret_cast<const void*>(&heavy_kernel<96>)},
      {"bounded", reinterpret_cast<const void*>(&bounded_kernel)},
      {"shared", reinterpret_cast<const void*>(&shared_kernel)},
  };
  int compared = 0;
  for (const auto& kern : kernels) {
    cudaFuncAttributes attr{};
    GNM_CUDA_CHECK(cudaFuncGetAttributes(&attr, kern.func));
    // Opt in to the largest dynamic shared memory, as the calculator assumes.
    const int max_dynamic = static_cast<int>(sm.shared_per_block_optin - attr.sharedSizeBytes);
    GNM_CUDA_CHECK(cudaFuncSetAttribute(kern.func, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        max_dynamic));
    std::printf("%-10s %3d registers, %6zu B static shared, max block %4d\n", kern.name,
                attr.numRegs, attr.sharedSizeBytes, attr.maxThreadsPerBlock);
    // __launch_bounds__ lowers the largest block the kernel accepts (attr.maxThreadsPerBlock);
    // that is the kernel's own launch limit, so the calculator gets it as the block-size limit.
    SmLimits ksm = sm;
    ksm.max_threads_per_block = attr.maxThreadsPerBlock;
    const std::size_t dynamics[] = {0, 1, 1000, 40 * 1024, 100 * 1024,
                                    static_cast<std::size_t>(max_dynamic)};
    for (std::size_t dyn : dynamics) {
      if (dyn > static_cast<std::size_t>(max_dynamic)) continue;
      for (int bs : kBlockSizes) {
        const KernelResources k{bs, attr.numRegs, attr.sharedSizeBytes, dyn};
        std::string why;
        const int ours = our_blocks(ksm, k, &why);
        int theirs = -1;
        const cudaError_t err =
            cudaOccupancyMaxActiveBlocksPerMultiprocessor(&theirs, kern.func, bs, dyn);
        if (err != cudaSuccess) {
          (void)cudaGetLastError();
          EXPECT_EQ(ours, 0) << kern.name << " block " << bs << " dynamic " << dyn
                             << ": runtime error " << cudaGetErrorName(err);
          continue;
        }
        EXPECT_EQ(ours, theirs) << kern.name << " block " << bs << " regs " << attr.numRegs
                                << " static " << attr.sharedSizeBytes << " dynamic " << dyn
                                << " " << why;
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 100);
}

}  // namespace
