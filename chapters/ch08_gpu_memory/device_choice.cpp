// Section 8.5: choosing a device and the peer-access matrix (see device_choice.hpp).
#include "device_choice.hpp"

#include <cstdio>

#include "gnm/core/check.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/host_info.hpp"

#if GNM_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "gnm/cuda/check.hpp"
#endif

namespace chapter08 {

namespace {

std::string gib(std::size_t bytes) { return gnm::format_bytes(static_cast<double>(bytes)); }

bool meets(const gnm::cuda::DeviceInfo& d, const DeviceRequirements& req) {
  const bool cc_ok = d.cc_major > req.min_cc_major ||
                     (d.cc_major == req.min_cc_major && d.cc_minor >= req.min_cc_minor);
  return cc_ok && d.free_memory >= req.min_free_bytes;
}

}  // namespace

//! [choose_device]
DeviceChoice choose_device(const std::vector<gnm::cuda::DeviceInfo>& devices,
                           const DeviceRequirements& req) {
  if (devices.empty()) throw gnm::Error("no CUDA devices to choose from");
  const gnm::cuda::DeviceInfo* best = nullptr;     // most free memory among those that qualify
  const gnm::cuda::DeviceInfo* roomiest = nullptr;  // most free memory overall (for the error)
  for (const auto& d : devices) {
    // Strictly more: a tie keeps the earlier (lower) ordinal.
    if (!roomiest || d.free_memory > roomiest->free_memory) roomiest = &d;
    if (meets(d, req) && (!best || d.free_memory > best->free_memory)) best = &d;
  }
  if (!best) {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "no CUDA device meets the requirements (free memory >= %s, compute capability "
                  ">= %d.%d): the device with the most free memory, %d (%s), has %s free and "
                  "compute capability %d.%d",
                  gib(req.min_free_bytes).c_str(), req.min_cc_major, req.min_cc_minor,
                  roomiest->ordinal, roomiest->name.c_str(), gib(roomiest->free_memory).c_str(),
                  roomiest->cc_major, roomiest->cc_minor);
    throw gnm::Error(buf);
  }
  return DeviceChoice{best->ordinal, "most free memory: " + gib(best->free_memory) + " of " +
                                         gib(best->total_memory) + " on " + best->name};
}
//! [choose_device]

PeerMatrix peer_access_matrix(const std::vector<gnm::cuda::DeviceInfo>& devices,
                              const std::function<bool(int, int)>& can_access) {
  PeerMatrix m;
  for (const auto& d : devices) m.ordinals.push_back(d.ordinal);
  const std::size_t n = devices.size();
  m.can_access.assign(n, std::vector<bool>(n, false));
  if (n == 0) {
    m.note = "no devices";
    return m;
  }
  if (n == 1) {
    m.note = "one device: no peers";
    return m;
  }
  std::size_t yes = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      if (i == j) continue;  // a device always reaches its own memory; not a peer
      m.can_access[i][j] = can_access(m.ordinals[i], m.ordinals[j]);
      yes += m.can_access[i][j] ? 1 : 0;
    }
  }
  m.note = std::to_string(n) + " devices: " + std::to_string(yes) + " of " +
           std::to_string(n * (n - 1)) + " ordered pairs can access each other";
  return m;
}

bool cuda_can_access_peer(int from, int to) {
#if GNM_HAVE_CUDA
  int yes = 0;
  GNM_CUDA_CHECK(cudaDeviceCanAccessPeer(&yes, from, to));
  return yes != 0;
#else
  throw gnm::NotImplemented("cudaDeviceCanAccessPeer(" + std::to_string(from) + ", " +
                            std::to_string(to) + "): this build has no CUDA");
#endif
}

}  // namespace chapter08
