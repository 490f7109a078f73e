// The CPU-only build (no nvcc, or the cpu preset) drops every .cu file; these stand in for the
// GPU sections and say so. 8.5 and 8.6's host part are ordinary C++ and run in every build.
#include "sections.hpp"

#if !GNM_HAVE_CUDA

namespace chapter08 {

Section run_transfers(const Config&) { return built_without_cuda("8.1"); }
Section run_unified(const Config&) { return built_without_cuda("8.2"); }
Section run_coalescing(const Config&) { return built_without_cuda("8.3"); }
Section run_streams(const Config&) { return built_without_cuda("8.4"); }
Section run_allocator_device(const Config&) { return built_without_cuda("8.6 (device)"); }

}  // namespace chapter08

#endif
