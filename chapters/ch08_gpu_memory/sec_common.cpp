// What every section shares: the "skipped" sections (no device, or no CUDA in the build) and
// merging two sections' results.
#include <cstdio>

#include "gnm/cuda/device.hpp"
#include "sections.hpp"

namespace chapter08 {

namespace {

Section skipped(const std::string& number, const std::string& why) {
  using namespace gnm::cells;
  std::printf("%s skipped: %s\n\n", number.c_str(), why.c_str());
  Table t(number + " skipped", {"section", "why"});
  t.add({str(number), str(why)});
  Section s;
  s.json = t.json_member();  // already printed in one line above
  return s;
}

}  // namespace

std::optional<Section> skip_without_gpu(const std::string& number) {
  const gnm::cuda::DeviceReport report = gnm::cuda::query_devices();
  if (!report.devices.empty()) return std::nullopt;
  return skipped(number, "no CUDA device (" + report.status + ")");
}

Section built_without_cuda(const std::string& number) {
  return skipped(number, "built without CUDA (the cpu preset, or no nvcc at configure time)");
}

void merge(Section& into, const Section& from) {
  into.verified = into.verified && from.verified;
  if (!from.json.empty()) into.json += (into.json.empty() ? "" : ", ") + from.json;
  into.figures.insert(into.figures.end(), from.figures.begin(), from.figures.end());
}

}  // namespace chapter08
