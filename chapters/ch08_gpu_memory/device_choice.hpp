// Section 8.5's host logic: which device to run on, and which devices can reach each other's
// memory. Pure functions of a device list (gnm::cuda::query_devices() gives the real one), so the
// CPU tests drive them with synthetic lists; only cuda_can_access_peer() talks to the driver.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "gnm/cuda/device.hpp"

namespace chapter08 {

/// What a job needs from a device.
struct DeviceRequirements {
  std::size_t min_free_bytes = 0;  ///< Free memory the job needs.
  int min_cc_major = 0;            ///< Lowest compute capability, major (9: Hopper).
  int min_cc_minor = 0;            ///< … and minor.
};

/// The chosen device and why.
struct DeviceChoice {
  int ordinal = -1;    ///< As in cudaSetDevice.
  std::string reason;  ///< One line for people: "most free memory: 70.0 GiB of 79.1 GiB".
};

/// The device with the most free memory among those that meet `req`; ties go to the lowest
/// ordinal, so the choice is the same on every call. gnm::Error when the list is empty ("no CUDA
/// devices to choose from") or no device meets `req` (the message names the requirement and the
/// best device's free memory and compute capability).
//! [choose_device_decl]
DeviceChoice choose_device(const std::vector<gnm::cuda::DeviceInfo>& devices,
                           const DeviceRequirements& req = {});
//! [choose_device_decl]

/// Which device can read and write which other device's memory directly (over NVLink or PCIe).
struct PeerMatrix {
  std::vector<int> ordinals;                    ///< The devices, in list order.
  std::vector<std::vector<bool>> can_access;    ///< [i][j]: device i can access device j (i ≠ j).
  std::string note;  ///< "no devices", "one device: no peers" or "N devices: K of M pairs".
};

/// The peer-access matrix of `devices`, asking `can_access(from, to)` for every ordered pair of
/// distinct devices; with fewer than two devices it asks nothing and says so in `note`.
PeerMatrix peer_access_matrix(const std::vector<gnm::cuda::DeviceInfo>& devices,
                              const std::function<bool(int, int)>& can_access);

/// cudaDeviceCanAccessPeer(from, to) (checked). In a build without CUDA: gnm::NotImplemented.
bool cuda_can_access_peer(int from, int to);

}  // namespace chapter08
