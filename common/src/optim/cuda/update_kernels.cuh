// Internal: the CUDA optimizer update kernels (SGD, Adam/AdamW with amsgrad, RMSProp), their
// scalars and launch configuration. Included by update.cu (nvcc) and, unchanged, by tests/emu
// (g++ with the host emulator tests/emu/cuda_host_emulator.hpp), which checks in CI that this
// exact text reproduces the CPU optimizer (src/optim/update.cpp) bit for bit. Includes no CUDA
// header. See Note [Same rounding on the GPU] in update.cu.
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "update_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <math.h>

#include <cmath>
#include <cstdint>

#include "gnm/optim/update.hpp"

namespace gnm::optim::update_kernels {
#if defined(GNM_CUDA_HOST_EMULATOR)
// The emulated tests link libgnm too: host copies in their own namespace never merge with nvcc's
// host stubs of the same names (see cuda_host_emulator.hpp).
inline namespace host_emulated {
#endif

constexpr int kThreads = 256;

inline unsigned blocks_for(std::int64_t n) {
  // A grid-stride loop covers any n; a few thousand blocks fill every SM of an H100 (132 SMs).
  const std::int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 8192 ? (b > 0 ? b : 1) : 8192);
}

// See Note [Matching PyTorch's rounding] in src/optim/update.cpp for the two-sided lerp.
__device__ __forceinline__ float lerp_like_torch(float start, float end, float weight) {
  const bool small = fabsf(weight) < 0.5f;
  return __fmaf_rn(small ? weight : __fsub_rn(weight, 1.0f), __fsub_rn(end, start),
                   small ? start : end);
}

__device__ __forceinline__ float maximum_like_torch(float a, float b) {
  return isnan(a) || isnan(b) ? __fadd_rn(a, b) : (a > b ? a : b);
}

struct SgdScalars {
  float weight_decay, momentum, keep, neg_lr;
  bool maximize, use_weight_decay, use_momentum, nesterov, first_step;
};

__global__ void sgd_kernel(std::int64_t n, float* __restrict__ p, const float* __restrict__ gp,
                           float* __restrict__ buf, SgdScalars c) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    float g = c.maximize ? -gp[i] : gp[i];
    if (c.use_weight_decay) g = __fmaf_rn(p[i], c.weight_decay, g);
    if (c.use_momentum) {
      const float b = c.first_step ? g : __fmaf_rn(g, c.keep, __fmul_rn(buf[i], c.momentum));
      buf[i] = b;
      g = c.nesterov ? __fmaf_rn(b, c.momentum, g) : b;
    }
    p[i] = __fmaf_rn(g, c.neg_lr, p[i]);
  }
}

struct AdamScalars {
  float sign, weight_decay, one_minus_beta1, beta2, one_minus_beta2, bias_correction2_sqrt, eps,
      neg_step_size, decay;
  bool coupled_decay, decoupled_decay, amsgrad;
};

__global__ void adam_kernel(std::int64_t n, float* __restrict__ p, const float* __restrict__ gp,
                            float* __restrict__ m, float* __restrict__ v,
                            float* __restrict__ v_max, AdamScalars c) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    float pi = p[i];
    if (c.decoupled_decay) pi = __fmul_rn(pi, c.decay);  // AdamW: param.mul_(1 - lr·wd)
    float g = __fmul_rn(gp[i], c.sign);
    if (c.coupled_decay) g = __fmaf_rn(pi, c.weight_decay, g);
    const float m_new = lerp_like_torch(m[i], g, c.one_minus_beta1);
    const float v_new = __fmaf_rn(__fmul_rn(c.one_minus_beta2, g), g, __fmul_rn(v[i], c.beta2));
    m[i] = m_new;
    v[i] = v_new;
    float second = v_new;
    if (c.amsgrad) {
      second = maximum_like_torch(v_max[i], v_new);
      v_max[i] = second;
    }
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(second), c.bias_correction2_sqrt), c.eps);
    p[i] = __fadd_rn(pi, __fdiv_rn(__fmul_rn(c.neg_step_size, m_new), denom));
  }
}

struct RmsPropScalars {
  float sign, weight_decay, alpha, one_minus_alpha, eps, neg_lr, momentum;
  bool use_weight_decay, use_momentum, centered;
};

__global__ void rmsprop_kernel(std::int64_t n, float* __restrict__ p,
                               const float* __restrict__ gp, float* __restrict__ s,
                               float* __restrict__ buf, float* __restrict__ a,
                               RmsPropScalars c) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    float g = __fmul_rn(gp[i], c.sign);
    if (c.use_weight_decay) g = __fmaf_rn(p[i], c.weight_decay, g);
    const float s_new = __fmaf_rn(__fmul_rn(c.one_minus_alpha, g), g, __fmul_rn(s[i], c.alpha));
    s[i] = s_new;
    float avg;
    if (c.centered) {
      const float a_new = lerp_like_torch(a[i], g, c.one_minus_alpha);
      a[i] = a_new;
      avg = __fsqrt_rn(__fmaf_rn(-a_new, a_new, s_new));
    } else {
      avg = __fsqrt_rn(s_new);
    }
    avg = __fadd_rn(avg, c.eps);
    if (c.use_momentum) {
      const float b = __fadd_rn(__fmul_rn(buf[i], c.momentum), __fdiv_rn(g, avg));
      buf[i] = b;
      p[i] = __fmaf_rn(b, c.neg_lr, p[i]);
    } else {
      p[i] = __fadd_rn(p[i], __fdiv_rn(__fmul_rn(c.neg_lr, g), avg));
    }
  }
}

// update.cpp's volatile round trip: Python rounds lr * weight_decay before 1 - it.
inline double rounded(double v) {
  volatile double r = v;
  return r;
}

// The kernels' scalars, computed on the host exactly as update.cpp computes its own.
inline SgdScalars sgd_scalars(const SgdOptions& opts, bool first_step) {
  return SgdScalars{static_cast<float>(opts.weight_decay),
                    static_cast<float>(opts.momentum),
                    static_cast<float>(1.0 - opts.dampening),
                    static_cast<float>(-opts.lr),
                    opts.maximize,
                    opts.weight_decay != 0.0,
                    opts.momentum != 0.0,
                    opts.nesterov,
                    first_step};
}

inline AdamScalars adam_scalars(const AdamOptions& opts, std::int64_t step) {
  const auto t = static_cast<double>(step);
  const double bias_correction1 = 1.0 - std::pow(opts.beta1, t);
  const double bias_correction2 = 1.0 - std::pow(opts.beta2, t);
  const bool decoupled = opts.weight_decay != 0.0 && opts.decoupled_weight_decay;
  return AdamScalars{opts.maximize ? -1.0f : 1.0f,
                     static_cast<float>(opts.weight_decay),
                     static_cast<float>(1.0 - opts.beta1),
                     static_cast<float>(opts.beta2),
                     static_cast<float>(1.0 - opts.beta2),
                     static_cast<float>(std::pow(bias_correction2, 0.5)),
                     static_cast<float>(opts.eps),
                     static_cast<float>(-(opts.lr / bias_correction1)),
                     static_cast<float>(1.0 - rounded(opts.lr * opts.weight_decay)),
                     opts.weight_decay != 0.0 && !opts.decoupled_weight_decay,
                     decoupled,
                     opts.amsgrad};
}

inline RmsPropScalars rmsprop_scalars(const RmsPropOptions& opts) {
  return RmsPropScalars{opts.maximize ? -1.0f : 1.0f,
                        static_cast<float>(opts.weight_decay),
                        static_cast<float>(opts.alpha),
                        static_cast<float>(1.0 - opts.alpha),
                        static_cast<float>(opts.eps),
                        static_cast<float>(-opts.lr),
                        static_cast<float>(opts.momentum),
                        opts.weight_decay != 0.0,
                        opts.momentum > 0.0,
                        opts.centered};
}

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace gnm::optim::update_kernels
