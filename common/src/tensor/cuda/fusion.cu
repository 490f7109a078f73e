// The fused elementwise executor on CUDA (chapter 9.4): one thread per output element interprets
// the postfix program.
//
// The Program (≈ 1 KiB) travels by value as a kernel parameter, so it sits in the constant bank:
// every thread of a warp reads the same instruction at the same time, which the constant cache
// serves as a broadcast. The operand stack is a per-thread array of kMaxStack values indexed at
// run time, so it lives in local memory (L1-cached); a code generator (NVRTC, chapter 7) would
// keep it in registers, at the price of a compile per expression. Either way the expression
// reads each input element once and writes each output element once — the bandwidth a fused
// kernel saves over the op-by-op chain.
#include "../dispatch.hpp"
#include "../kernels_unary.hpp"
#include "loops.cuh"

namespace gnm::kernels {

namespace {

constexpr std::size_t kOperands = fused::kMaxInputs + 1;  // the output, then the inputs

struct InputPointers {
  const void* p[fused::kMaxInputs];
};

//! [fused_kernel]
template <class T>
__global__ void fused_kernel(std::int64_t n, detail::DeviceLayout<kOperands> layout,
                             fused::Program prog, InputPointers inputs, T* po) {
  using A = detail::acc_t<T>;
  using fused::OpCode;
  const std::int64_t step = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += step) {
    const detail::OffsetArray<kOperands> o = layout.offsets(i);
    A stack[fused::kMaxStack];
    int sp = 0;
    for (int pc = 0; pc < prog.size; ++pc) {
      const fused::Instruction ins = prog.code[pc];
      if (ins.op == OpCode::arg) {
        const T* src = static_cast<const T*>(inputs.p[ins.index]);
        stack[sp++] = detail::load(src[o[ins.index + 1u]]);
      } else if (ins.op == OpCode::constant) {
        stack[sp++] = static_cast<A>(ins.value);
      } else if (ins.op >= OpCode::neg && ins.op <= OpCode::sigmoid) {
        stack[sp - 1] = math::unary_forward<A>(math::fused_unary_op(ins.op), stack[sp - 1]);
      } else {
        stack[sp - 2] = math::fused_binary<A>(ins.op, stack[sp - 2], stack[sp - 1]);
        --sp;
      }
    }
    po[o[0]] = detail::store<T>(stack[0]);
  }
}
//! [fused_kernel]

}  // namespace

void fused_evaluate_cuda(const fused::Program& program, const Tensor& out,
                         const std::vector<Tensor>& inputs) {
  const Shape zero_strides(out.shape().size(), 0);  // unused operand slots never move
  std::array<std::span<const std::int64_t>, kOperands> strides;
  InputPointers ptrs{};
  strides[0] = out.strides();
  for (std::size_t j = 0; j < static_cast<std::size_t>(fused::kMaxInputs); ++j) {
    const bool used = j < inputs.size();
    strides[j + 1] = used ? std::span<const std::int64_t>(inputs[j].strides())
                          : std::span<const std::int64_t>(zero_strides);
    ptrs.p[j] = used ? inputs[j].data_ptr() : nullptr;
  }
  const std::int64_t n = out.numel();
  const detail::StridedLayout<kOperands> L = detail::coalesce<kOperands>(out.shape(), strides);
  detail::DeviceLayout<kOperands> layout{};
  layout.ndim = L.ndim;
  for (int d = 0; d < L.ndim; ++d) {
    layout.sizes[d] = L.sizes[d];
    for (std::size_t j = 0; j < kOperands; ++j) layout.strides[j][d] = L.strides[j][d];
  }
  constexpr int kThreads = 256;
  const auto grid =
      static_cast<unsigned>(std::min<std::int64_t>((n + kThreads - 1) / kThreads, 4096));
  GNM_DISPATCH_FLOATING(out.dtype(), "fused::evaluate", [&] {
    using T = scalar_t;
    fused_kernel<T><<<grid, kThreads>>>(n, layout, program, ptrs, static_cast<T*>(out.data_ptr()));
    GNM_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace gnm::kernels
