// device_sm_limits (gnm/cuda/occupancy.hpp): the calculator's inputs read from a real device. Kept
// apart from occupancy.cpp, which has no CUDA headers and is built without CUDA too.
#include <cuda_runtime_api.h>

#include "gnm/cuda/check.hpp"
#include "gnm/cuda/occupancy.hpp"

namespace gnm::cuda {

//! [device limits]
SmLimits device_sm_limits(int device) {
  cudaDeviceProp p{};
  GNM_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
  DeviceOccupancyProperties d;
  d.major = p.major;
  d.minor = p.minor;
  d.warp_size = p.warpSize;
  d.max_threads_per_block = p.maxThreadsPerBlock;
  d.max_threads_per_sm = p.maxThreadsPerMultiProcessor;
  d.max_blocks_per_sm = p.maxBlocksPerMultiProcessor;
  d.registers_per_sm = p.regsPerMultiprocessor;
  d.registers_per_block = p.regsPerBlock;
  d.shared_per_sm = p.sharedMemPerMultiprocessor;
  d.shared_per_block = p.sharedMemPerBlock;
  d.shared_per_block_optin = p.sharedMemPerBlockOptin;
  d.reserved_shared_per_block = p.reservedSharedMemPerBlock;
  return sm_limits_from(d);
}
//! [device limits]

}  // namespace gnm::cuda
