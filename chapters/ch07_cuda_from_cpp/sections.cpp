// What every section shares: the "skipped: no CUDA device" section, merging sections.
#include "sections.hpp"

#include <cstdio>

#include "gnm/cuda/device.hpp"

namespace chapter07 {

std::optional<Section> skip_without_gpu(const std::string& section_title) {
  const gnm::cuda::DeviceReport report = gnm::cuda::query_devices();
  if (!report.devices.empty()) return std::nullopt;
  const std::string why = report.compiled_with_cuda
                              ? "no CUDA device (" + report.status + ")"
                              : "built without CUDA (configure with the default preset and nvcc)";
  std::printf("%s skipped: %s\n", section_title.c_str(), why.c_str());
  Table t(section_title, {"status"});
  t.add({gnm::cells::str("skipped: " + why)});
  Section s;
  s.json = t.json_member();  // printed above as one line, not as a table
  return s;
}

void merge(Section& into, const Section& part) {
  into.verified = into.verified && part.verified;
  if (!part.json.empty()) into.json += (into.json.empty() ? "" : ", ") + part.json;
  into.figures.insert(into.figures.end(), part.figures.begin(), part.figures.end());
}

}  // namespace chapter07
