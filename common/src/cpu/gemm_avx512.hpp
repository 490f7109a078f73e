// The AVX-512 micro-kernel's interface (gemm_kernel_avx512.cpp). Deliberately free of other
// includes: that file is compiled with -mavx512f, and any inline function or template it pulled
// in from a shared header could be emitted there with AVX-512 instructions and then chosen by the
// linker for every caller (one definition rule: identical-looking copies are merged), which
// would crash AVX2-only CPUs. Only plain declarations cross this boundary.
#pragma once

#include <cstdint>

namespace gnm::cpu::detail {

// True when the build compiled the AVX-512 kernel (x86-64 with GCC/Clang). Data, not code, so
// reading it is safe on any CPU.
extern const bool kHaveAvx512Kernel;

// C tile (14×32, row stride ldc) = alpha · a · b + beta · C from packed micro-panels a (kc×14)
// and b (kc×32, 64-byte aligned). Call only when the CPU and OS support AVX-512F.
void micro_kernel_avx512(std::int64_t kc, const float* a, const float* b, float* c,
                         std::int64_t ldc, float alpha, float beta);

}  // namespace gnm::cpu::detail
