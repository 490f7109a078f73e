// The fused elementwise executor on CUDA (chapter 9.4): one thread per output element interprets
// the postfix program. The kernel and its launch arguments are in fusion_kernels.cuh (no CUDA
// header there, so that tests/emu/test_engine_fusion_emulated.cpp runs the same text on the CPU
// and compares it with the CPU interpreter); this file launches it.
#include "../dispatch.hpp"
#include "../kernels_unary.hpp"
#include "fusion_kernels.cuh"
#include "loops.cuh"

namespace gnm::kernels {

void fused_evaluate_cuda(const fused::Program& program, const Tensor& out,
                         const std::vector<Tensor>& inputs) {
  namespace fd = fusion_detail;
  const fd::FusedLaunch f = fd::fused_launch(out, inputs);
  if (f.n == 0) return;
  GNM_DISPATCH_FLOATING(out.dtype(), "fused::evaluate", [&] {
    using T = scalar_t;
    fd::fused_kernel<T><<<f.grid, fd::kFusedThreads>>>(f.n, f.layout, program, f.inputs,
                                                        static_cast<T*>(out.data_ptr()));
    GNM_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace gnm::kernels
