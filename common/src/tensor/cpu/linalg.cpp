// CPU batched GEMM on strided tensors, and the column sum of linear's bias gradient.
//
// Note [GEMM operand layouts]: a 2-d view (rows × cols) with strides (rs, cs) goes to the
// row-major SGEMM without a copy in two cases: cs = 1 (stored row-major, leading dimension rs)
// or rs = 1 (the transpose of a row-major cols × rows matrix, leading dimension cs: the GEMM's
// transpose flag). Every transpose the autograd rules make — wᵀ in linear's forward, gᵀ in its
// weight gradient, bᵀ and aᵀ in matmul's backward — is such a view, so none of them is copied.
// Anything else (a slice with a step, a broadcast row) is copied to row-major first.
//
// dtypes: f32 runs gnm::cpu::sgemm (chapter 2's packed kernel, or OpenBLAS under GNM_BLAS);
// f64 runs OpenBLAS's dgemm when the build has it and a plain loop otherwise (f64 is for
// gradcheck, on small sizes); f16/bf16 are converted to f32, multiplied with SGEMM and rounded
// once at the end (fp32 accumulation, as cuBLAS does for them).
#include <algorithm>

#include "../dispatch.hpp"
#include "../kernels.hpp"
#include "../kernels_nn.hpp"
#include "gnm/core/thread_pool.hpp"
#include "gnm/cpu/gemm.hpp"
#include "loops.hpp"

#if GNM_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace gnm::kernels {

namespace {

using cpu::Transpose;

// The operand as a GEMM can take it: itself, or a row-major copy when its layout does not fit.
struct Operand {
  Tensor t;  // (B, rows, cols)
  GemmLayout layout;
  Transpose flag() const { return layout.transposed ? Transpose::Yes : Transpose::No; }
};

Operand prepare(const Tensor& m) {
  const GemmLayout l = gemm_layout(m.size(1), m.size(2), m.stride(1), m.stride(2));
  if (l.ok) return {m, l};
  Tensor c = m.contiguous();
  return {c, gemm_layout(c.size(1), c.size(2), c.stride(1), c.stride(2))};
}

// Below this many flops per matrix a batch is split over the pool one matrix per task (each
// SGEMM then runs on its task's thread) instead of threading inside each small product: at
// ~2 MFLOP a product takes ~20 µs on one core, a few pool wake-ups' worth.
constexpr double kSmallGemmFlops = 2.0e6;

template <class F>
void for_batch(std::int64_t batch, double flops_each, F&& one) {
  if (batch > 1 && flops_each < kSmallGemmFlops) {
    default_thread_pool().parallel_for(0, batch, 1, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t i = lo; i < hi; ++i) one(i);
    });
  } else {
    for (std::int64_t i = 0; i < batch; ++i) one(i);
  }
}

void bmm_f32(const Tensor& c, const Tensor& a_in, const Tensor& b_in, double beta) {
  const Operand a = prepare(a_in), b = prepare(b_in);
  const std::int64_t B = c.size(0), M = c.size(1), N = c.size(2), K = a.t.size(2);
  const float* pa = a.t.data<float>();
  const float* pb = b.t.data<float>();
  float* pc = c.data<float>();
  const std::int64_t sa = a.t.stride(0), sb = b.t.stride(0);
  for_batch(B, 2.0 * static_cast<double>(M * N * K), [&](std::int64_t i) {
    cpu::sgemm(a.flag(), b.flag(), M, N, K, 1.0f, pa + i * sa, a.layout.ld, pb + i * sb,
               b.layout.ld, static_cast<float>(beta), pc + i * M * N, N);
  });
}

void bmm_f64(const Tensor& c, const Tensor& a_in, const Tensor& b_in, double beta) {
  const std::int64_t B = c.size(0), M = c.size(1), N = c.size(2), K = a_in.size(2);
  double* pc = c.data<double>();
#if GNM_HAVE_OPENBLAS
  const Operand a = prepare(a_in), b = prepare(b_in);
  const double* pa = a.t.data<double>();
  const double* pb = b.t.data<double>();
  auto flag = [](const Operand& o) { return o.layout.transposed ? CblasTrans : CblasNoTrans; };
  for (std::int64_t i = 0; i < B; ++i)
    cblas_dgemm(CblasRowMajor, flag(a), flag(b), static_cast<int>(M),
                static_cast<int>(N), static_cast<int>(K), 1.0, pa + i * a.t.stride(0),
                static_cast<int>(a.layout.ld), pb + i * b.t.stride(0),
                static_cast<int>(b.layout.ld), beta, pc + i * M * N, static_cast<int>(N));
#else
  // Any strides, read in place: K-term dot products in double.
  const double* pa = a_in.data<double>();
  const double* pb = b_in.data<double>();
  const Shape& as = a_in.strides();
  const Shape& bs = b_in.strides();
  for_batch(B, 2.0 * static_cast<double>(M * N * K), [&](std::int64_t i) {
    for (std::int64_t m = 0; m < M; ++m)
      for (std::int64_t n = 0; n < N; ++n) {
        double acc = 0.0;
        for (std::int64_t k = 0; k < K; ++k)
          acc += pa[i * as[0] + m * as[1] + k * as[2]] * pb[i * bs[0] + k * bs[1] + n * bs[2]];
        double& out = pc[(i * M + m) * N + n];
        out = beta != 0.0 ? acc + beta * out : acc;
      }
  });
#endif
}

}  // namespace

void bmm_cpu(const Tensor& c, const Tensor& a, const Tensor& b, double beta) {
  if (c.numel() == 0) return;
  if (a.size(2) == 0) {  // an empty sum: c = beta · c
    if (beta == 0.0) fill_cpu(c, 0.0);
    return;
  }
  switch (c.dtype()) {
    case DType::f32: bmm_f32(c, a, b, beta); return;
    case DType::f64: bmm_f64(c, a, b, beta); return;
    case DType::f16:
    case DType::bf16: {
      // fp32 accumulation: convert the operands (and c when it is read), multiply, round once.
      Tensor cf = beta != 0.0 ? c.to(DType::f32) : empty(c.shape());
      bmm_f32(cf, a.to(DType::f32), b.to(DType::f32), beta);
      copy_cpu(c, cf);
      return;
    }
    default: GNM_CHECK(false, "matmul needs a floating dtype", dtype_name(c.dtype()));
  }
}

void column_sum_cpu(const Tensor& out, const Tensor& g) {
  const std::int64_t M = g.size(0), N = g.size(1);
  GNM_DISPATCH_FLOATING(g.dtype(), "linear (bias gradient)", [&] {
    using T = scalar_t;
    const T* pg = static_cast<const T*>(g.data_ptr());
    T* po = static_cast<T*>(out.data_ptr());
    // Row by row into double accumulators: unit-stride and vectorisable, unlike a strided walk
    // down each column. Each task owns a range of columns, so no two tasks write one sum.
    auto cols = [&](std::int64_t lo, std::int64_t hi) {
      std::vector<double> acc(static_cast<std::size_t>(hi - lo), 0.0);
      for (std::int64_t m = 0; m < M; ++m) {
        const T* row = pg + m * N;
        for (std::int64_t n = lo; n < hi; ++n)
          acc[static_cast<std::size_t>(n - lo)] += static_cast<double>(detail::load(row[n]));
      }
      for (std::int64_t n = lo; n < hi; ++n)
        po[n] = detail::store<T>(acc[static_cast<std::size_t>(n - lo)]);
    };
    if (M * N >= detail::kParallelGrain && N >= 128) {
      const std::int64_t grain = std::max<std::int64_t>(64, detail::kParallelGrain / std::max<std::int64_t>(M, 1));
      default_thread_pool().parallel_for(0, N, grain, cols);
    } else {
      cols(0, N);
    }
  });
}

}  // namespace gnm::kernels
