// The CPU-only build (no CUDA toolkit at configure time): the sections that need CUDA's headers
// and libraries say so instead of running. 7.1, 7.3 and 7.4 run as usual.
#include <cstdio>
#include <string>

#include "sections.hpp"

namespace chapter07 {
namespace {

Section built_without_cuda(const std::string& title) {
  const std::string why = "built without CUDA (configure with the default preset and nvcc)";
  std::printf("%s skipped: %s\n", title.c_str(), why.c_str());
  Table t(title, {"status"});
  t.add({gnm::cells::str("skipped: " + why)});
  Section s;
  s.json = t.json_member();
  return s;
}

}  // namespace

Section run_nvrtc(const Config& /*cfg*/) { return built_without_cuda("7.2 NVRTC compile"); }

Section run_ptx(const Config& cfg) {
  Section s = built_without_cuda("7.5 PTX to SASS");
  merge(s, run_wgmma(cfg));
  return s;
}

Section run_wgmma(const Config& /*cfg*/) { return built_without_cuda("7.5 wgmma GEMM"); }

}  // namespace chapter07
