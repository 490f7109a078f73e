// skip_without_gpu() for every build, and in a CPU-only build (no CUDA) the stand-ins for the
// sections that live in .cu files: each says it was skipped and why, and counts as verified —
// a section that cannot run here is not a failure.
#include <cstdio>
#include <optional>
#include <string>

#include "gnm/cuda/device.hpp"
#include "sections.hpp"

namespace chapter06 {

//! [skip]
std::optional<Section> skip_without_gpu(const std::string& section_title) {
  const gnm::cuda::DeviceReport report = gnm::cuda::query_devices();
  if (!report.devices.empty()) return std::nullopt;
  const std::string why = report.compiled_with_cuda ? "no CUDA device (" + report.status + ")"
                                                    : std::string("built without CUDA");
  std::printf("%s skipped: %s\n", section_title.c_str(), why.c_str());
  Table t(section_title, {"status"});
  t.add({gnm::cells::str("skipped: " + why)});
  Section s;
  s.json = t.json_member();  // printed above in one line rather than as a table
  return s;
}
//! [skip]

#if !GNM_HAVE_CUDA
Section run_threads(const Config&) { return *skip_without_gpu(kThreadsTitle); }
Section run_ladder(const Config&) { return *skip_without_gpu(kLadderTitle); }
Section run_memory(const Config&) { return *skip_without_gpu(kMemoryTitle); }
Section run_sync(const Config&) { return *skip_without_gpu(kSyncTitle); }

void run_occupancy_device(const Config&, Section& s) {
  const Section skipped = *skip_without_gpu(std::string(kOccupancyTitle) + " on the device");
  s.json += (s.json.empty() ? "" : ", ") + skipped.json;
}

std::optional<MeasuredCeilings> measure_ceilings(const Config&) { return std::nullopt; }
#endif

}  // namespace chapter06
