// 8.5 Multiple GPUs: enumerate the devices, choose one by free memory, and list which can reach
// each other's memory. Host code: it runs everywhere, and on a machine without a device it says
// "no devices" and still checks the choice logic on a synthetic list.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "device_choice.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/host_info.hpp"
#include "gnm/cuda/device.hpp"
#include "sections.hpp"

namespace chapter08 {

namespace {

using namespace gnm::cells;

constexpr std::size_t kGiB = std::size_t{1} << 30;

gnm::cuda::DeviceInfo synthetic(int ordinal, const char* name, int cc_major, int cc_minor,
                                std::size_t total_gib, double free_gib) {
  gnm::cuda::DeviceInfo d;
  d.ordinal = ordinal;
  d.name = name;
  d.cc_major = cc_major;
  d.cc_minor = cc_minor;
  d.total_memory = total_gib * kGiB;
  d.free_memory = static_cast<std::size_t>(free_gib * static_cast<double>(kGiB));
  return d;
}

std::string bytes(std::size_t b) { return gnm::format_bytes(static_cast<double>(b)); }

// Runs the choice and returns the chosen ordinal, or -1 with the error message in `why`.
int try_choose(const std::vector<gnm::cuda::DeviceInfo>& list, const DeviceRequirements& req,
               std::string& why) {
  try {
    const DeviceChoice c = choose_device(list, req);
    why = c.reason;
    return c.ordinal;
  } catch (const gnm::Error& e) {
    why = e.what();
    return -1;
  }
}

}  // namespace

Section run_devices(const Config& /*cfg*/) {
  Section section;
  std::printf("== 8.5 devices: enumerate, choose by free memory, peer access ==\n");
  const gnm::cuda::DeviceReport report = gnm::cuda::query_devices();

  // The real devices.
  Table devices("8.5 devices", {"device", "name", "cc", "SMs", "memory", "free"});
  for (const auto& d : report.devices) {
    devices.add({integer(d.ordinal), str(d.name),
                 str(std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor)),
                 integer(d.sm_count), str(bytes(d.total_memory)), str(bytes(d.free_memory))});
  }
  if (report.devices.empty()) {
    devices.add({str("-"), str("no devices (see the CUDA status above)"), str("-"), str("-"),
                 str("-"), str("-")});
  }
  section.add(devices);

  // The choice on the real list: with no device, "no CUDA devices to choose from" is the right
  // answer, not a failure.
  std::string why;
  const int chosen = try_choose(report.devices, {}, why);
  Table choice("8.5 chosen device", {"chosen", "why"});
  choice.add({str(chosen >= 0 ? std::to_string(chosen) : "none"),
              str(report.devices.empty() ? "no devices (" + why + ")" : why)});
  section.add(choice);
  section.verified = section.verified && (report.devices.empty() ? chosen == -1 : chosen >= 0);

  // The rule on a synthetic machine (CPU): most free memory wins, ties go to the lower ordinal,
  // requirements filter first, and an impossible requirement is an error naming the numbers.
  const std::vector<gnm::cuda::DeviceInfo> machine = {
      synthetic(0, "A100-SXM4-80GB", 8, 0, 80, 75.0),
      synthetic(1, "H100-SXM5-80GB", 9, 0, 80, 61.5),
      synthetic(2, "H100-SXM5-80GB", 9, 0, 80, 61.5),
      synthetic(3, "L4", 8, 9, 24, 22.0)};
  struct Case {
    const char* ask;
    DeviceRequirements req;
    int expect;
  };
  const Case cases[] = {
      {"anything", {}, 0},
      {"compute capability >= 9.0", {0, 9, 0}, 1},  // a tie of 61.5 GiB: the lower ordinal
      {"compute capability >= 8.9, >= 20 GiB", {20 * kGiB, 8, 9}, 1},
      {">= 70 GiB free", {70 * kGiB, 0, 0}, 0},
      {"compute capability >= 9.0, >= 70 GiB", {70 * kGiB, 9, 0}, -1},
  };
  Table synth("8.5 choice on a synthetic 4-GPU machine",
              {"requirement", "chosen", "expected", "ok", "why"});
  for (const Case& c : cases) {
    const int got = try_choose(machine, c.req, why);
    synth.add({str(c.ask), integer(got), integer(c.expect), flag(got == c.expect), str(why)});
    section.verified = section.verified && got == c.expect;
  }
  section.add(synth);

  // Peer access: who can read whose memory directly (NVLink or PCIe peer-to-peer).
  const PeerMatrix peers = peer_access_matrix(report.devices, cuda_can_access_peer);
  std::vector<std::string> cols = {"from \\ to"};
  for (int o : peers.ordinals) cols.push_back(std::to_string(o));
  Table matrix("8.5 peer access", cols);
  for (std::size_t i = 0; i < peers.ordinals.size() && peers.ordinals.size() >= 2; ++i) {
    std::vector<gnm::ReportCell> row = {integer(peers.ordinals[i])};
    for (std::size_t j = 0; j < peers.ordinals.size(); ++j) {
      row.push_back(str(i == j ? "self" : (peers.can_access[i][j] ? "yes" : "no")));
    }
    matrix.add(row);
  }
  if (peers.ordinals.size() >= 2) section.add(matrix);
  Table summary("8.5 peer access summary", {"devices", "peer access"});
  summary.add({integer(static_cast<std::int64_t>(peers.ordinals.size())), str(peers.note)});
  section.add(summary);
  std::printf("\n");
  return section;
}

}  // namespace chapter08
