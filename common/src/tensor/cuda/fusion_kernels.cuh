// Internal: the CUDA kernel of the fused elementwise executor (chapter 9.4) and its launch
// arguments. Included by fusion.cu (nvcc) and, unchanged, by tests/emu (g++ with the host
// emulator), which compares it with the CPU block interpreter (fusion.cpp). Includes no CUDA
// header.
//
// One thread per output element interprets the postfix program. The Program (≈ 1 KiB) travels by
// value as a kernel parameter, so it sits in the constant bank: every thread of a warp reads the
// same instruction at the same time, which the constant cache serves as a broadcast. The operand
// stack is a per-thread array of kMaxStack values indexed at run time, so it lives in local
// memory (L1-cached); a code generator (NVRTC, chapter 7) would keep it in registers, at the
// price of a compile per expression. Either way the expression reads each input element once and
// writes each output element once — the bandwidth a fused kernel saves over the op-by-op chain.
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "fusion_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "../dispatch.hpp"
#include "../kernels_unary.hpp"
#include "gnm/tensor/fusion.hpp"
#include "gnm/tensor/tensor.hpp"
#include "strided_kernels.cuh"

namespace gnm::kernels::fusion_detail {
#if defined(GNM_CUDA_HOST_EMULATOR)
// The emulated tests link libgnm too: host copies in their own namespace never merge with nvcc's
// host stubs of the same names (see cuda_host_emulator.hpp).
inline namespace host_emulated {
#endif

constexpr std::size_t kOperands = fused::kMaxInputs + 1;  // the output, then the inputs
constexpr int kFusedThreads = 256;
// 4096 × 256 threads cover an H100 (132 SMs × 2048 threads) four times; the grid-stride loop
// handles anything larger.
constexpr std::int64_t kFusedMaxGrid = 4096;

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

/// What fused_evaluate_cuda passes to fused_kernel: element count, coalesced layout of the output
/// and the (broadcast-expanded) inputs, input pointers, and the grid (blocks of kFusedThreads).
struct FusedLaunch {
  std::int64_t n = 0;
  detail::DeviceLayout<kOperands> layout{};
  InputPointers inputs{};
  unsigned grid = 0;
};

/// The launch for `out` = program(inputs): inputs already expanded to out's shape (stride 0 on
/// broadcast dims), at most fused::kMaxInputs of them; unused operand slots get zero strides.
inline FusedLaunch fused_launch(const Tensor& out, const std::vector<Tensor>& inputs) {
  const Shape zero_strides(out.shape().size(), 0);  // unused operand slots never move
  std::array<std::span<const std::int64_t>, kOperands> strides;
  FusedLaunch f;
  strides[0] = out.strides();
  for (std::size_t j = 0; j < static_cast<std::size_t>(fused::kMaxInputs); ++j) {
    const bool used = j < inputs.size();
    strides[j + 1] = used ? std::span<const std::int64_t>(inputs[j].strides())
                          : std::span<const std::int64_t>(zero_strides);
    f.inputs.p[j] = used ? inputs[j].data_ptr() : nullptr;
  }
  f.n = out.numel();
  f.layout = detail::make_device_layout<kOperands>(out.shape(), strides);
  f.grid = static_cast<unsigned>(
      std::min<std::int64_t>((f.n + kFusedThreads - 1) / kFusedThreads, kFusedMaxGrid));
  return f;
}

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // inline namespace host_emulated
#endif
}  // namespace gnm::kernels::fusion_detail
