// The engine's fused elementwise kernel (common/src/tensor/cuda/fusion_kernels.cuh — the exact
// text nvcc compiles for gnm::fused::evaluate on CUDA tensors) runs on the CPU through the host
// emulator, with the launch arguments fusion.cu computes (fused_launch: coalesced layout, input
// pointers, grid of 256-thread blocks), and is compared with the CPU block interpreter
// (fused::evaluate on CPU tensors, fusion.cpp).
//
// Both sides run the same scalar functions (math::unary_forward, math::fused_binary,
// detail::load/store) in the same order and type, so the results must agree BIT FOR BIT — in
// f32, f64 and bf16 (f32 arithmetic, one final rounding on both sides) — with one exception:
// g++ contracts a·b + c into an FMA by default even under -std=c++20 (-ffp-contract=fast; libgnm
// is built that way, with FMA in -march=x86-64-v3), while the emulated tests build with
// -ffp-contract=off. The only unary formula with such a pattern is gelu_tanh (x + κ·x·x·x), so
// the program with gelu_tanh gets a tolerance (see kGeluTanhExpr); every other program must
// match exactly (the interpreter's binary ops run in separate loops over stored stack rows, so
// nothing is contracted across instructions). On a real GPU the transcendental ops (exp, erf,
// tanh, …) are CUDA's and may differ by a few ulps; that is for the GPU tests.
//
// Operands: contiguous, transposed, permuted, step-sliced, broadcast (size-1 dims and missing
// leading dims: stride 0), odd sizes (1, primes, 257 = one past a block), and a capped grid so
// the grid-stride loop turns. The output is a view into a poisoned buffer whose guard zones must
// stay untouched.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "fusion_kernels.cuh"  // the real kernel (common/src/tensor/cuda), after the emulator
#include "gnm/core/random.hpp"
#include "gnm/tensor/fusion.hpp"
#include "gnm/tensor/ops.hpp"
#include "gnm/tensor/tensor.hpp"

namespace {

namespace fd = gnm::kernels::fusion_detail;
namespace fused = gnm::fused;
using gnm::DType;
using gnm::Tensor;

// Exact in every floating dtype (3·2^8, so bf16 too) and outside every value drawn here.
constexpr double kPoison = -768.0;
constexpr std::int64_t kGuard = 41;

struct Outcome {
  std::vector<double> values;  // the output, row-major
  std::int64_t dirty = 0;      // guard elements written
};

// fused::evaluate for CPU tensors, with the CUDA kernel on the emulator instead of the CPU
// interpreter: the same broadcast and expansion, then fused_evaluate_cuda's launch (grid capped at
// max_grid when smaller). `skip_last` launches one element fewer (a negative control).
Outcome emu_evaluate(const fused::Program& program, const std::vector<Tensor>& inputs,
                     unsigned max_grid = ~0u, bool skip_last = false) {
  gnm::Shape shape = inputs[0].shape();
  for (const Tensor& t : inputs) shape = gnm::broadcast_shapes(shape, t.shape());
  const std::int64_t n = gnm::shape_numel(shape);
  const DType dtype = inputs[0].dtype();
  const Tensor buf = gnm::full({kGuard + n + kGuard}, kPoison, {.dtype = dtype});
  const Tensor out = buf.slice(0, kGuard, kGuard + n).view(shape);
  std::vector<Tensor> expanded;
  for (const Tensor& t : inputs) expanded.push_back(t.detach().expand(shape));
  fd::FusedLaunch f = fd::fused_launch(out, expanded);
  if (skip_last) --f.n;
  if (f.n > 0) {
    GNM_DISPATCH_FLOATING(dtype, "emu fused", [&] {
      using T = scalar_t;
      gnm::emu::emu_launch(dim3(std::min(f.grid, max_grid)), dim3(fd::kFusedThreads),
                           &fd::fused_kernel<T>, f.n, f.layout, program, f.inputs,
                           static_cast<T*>(out.data_ptr()));
    });
  }
  Outcome o;
  o.values = out.to_vector<double>();
  const std::vector<double> all = buf.to_vector<double>();
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(all.size()); ++i) {
    const bool inside = i >= kGuard && i < kGuard + n;
    if (!inside && all[static_cast<std::size_t>(i)] != kPoison) ++o.dirty;
  }
  return o;
}

// "" when the emulated kernel equals the CPU interpreter with clean guards: bit for bit when
// rel == 0, else within rel · (1 + |want|).
std::string check(const fused::Program& program, const std::vector<Tensor>& inputs,
                  unsigned max_grid = ~0u, double rel = 0.0) {
  const std::vector<double> want = fused::evaluate(program, inputs).to_vector<double>();
  const Outcome got = emu_evaluate(program, inputs, max_grid);
  std::string report;
  if (got.values.size() != want.size()) return "sizes differ";
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const bool same = rel == 0.0
                          ? std::memcmp(&got.values[i], &want[i], sizeof(double)) == 0
                          : std::abs(got.values[i] - want[i]) <= rel * (1.0 + std::abs(want[i]));
    if (!same && wrong++ == 0) {
      report += "first mismatch at " + std::to_string(i) + ": " + std::to_string(got.values[i]) +
                " vs " + std::to_string(want[i]) + "; ";
    }
  }
  if (wrong > 0) {
    report += std::to_string(wrong) + " of " + std::to_string(want.size()) + " differ; ";
  }
  if (got.dirty > 0) report += std::to_string(got.dirty) + " guard elements written; ";
  return report;
}

std::string describe(const std::vector<Tensor>& inputs) {
  std::string s;
  for (const Tensor& t : inputs) {
    s += gnm::shape_str(t.shape()) + (t.is_contiguous() ? " " : " (strided) ");
  }
  return s + std::string(gnm::dtype_name(inputs[0].dtype()));
}

const fused::Expr kA = fused::arg(0), kB = fused::arg(1), kC = fused::arg(2);

// The bit-exact programs: every unary op but gelu_tanh (kGeluTanhExpr) and every binary op at
// least once, constants, an input used twice, a stack three deep.
std::vector<fused::Program> programs() {
  return {
      fused::compile(fused::sigmoid(kA * kB + 1.0)),
      fused::compile(fused::gelu(kA) * fused::tanh(kB) -
                     fused::maximum(kC, fused::constant(0.25)) /
                         fused::sqrt(fused::abs(kA) + 1.0)),
      fused::compile(fused::minimum(fused::exp(-kA), fused::square(kB)) +
                     fused::log(fused::abs(kC) + 0.5) * fused::relu(kB - kA)),
      fused::compile(fused::silu(kB) * fused::neg(kC) + kA),
  };
}

// gelu_tanh(a) = ½a(1 + tanh(u)), u = √(2/π)(a + κa³): contracting a + κa³ into one FMA (libgnm)
// or not (here) moves u by at most one rounding, eps·|a + κa³| ≤ eps·(3 + 0.05·27) < 5 eps for
// |a| ≤ 3, and tanh' ≤ 1, so y moves by ≤ ½·3·√(2/π)·5 eps ≈ 6 eps, plus one ulp of the final
// rounding: 16 eps·(1 + |y|) is a safe bound, far below any indexing error (values are O(1)).
// In bf16 the f32 results are rounded to 8 bits at the end, so a tiny difference can flip that
// rounding: one bf16 ulp, 2^-8 relative.
const fused::Expr kGeluTanhExpr = fused::gelu(kA, true) + fused::silu(kB) * fused::neg(kC);
double gelu_tanh_rel(DType dtype) {
  switch (dtype) {
    case DType::f64: return 16 * 0x1p-52;
    case DType::bf16: return 0x1p-7;
    default: return 16 * 0x1p-23;
  }
}

// Three operands (a, b, c) per case: shapes broadcast against each other.
struct Operands {
  std::vector<Tensor> v;
};

std::vector<Operands> operand_sets(DType dtype) {
  const gnm::TensorOptions o{.dtype = dtype};
  std::vector<Operands> sets = {
      // contiguous, the same odd shape: n = 37·13 = 481 (two blocks, the second partial)
      {{gnm::rand({37, 13}, o, -3, 3), gnm::rand({37, 13}, o, -3, 3),
        gnm::rand({37, 13}, o, -3, 3)}},
      // one element
      {{gnm::rand({1}, o, -3, 3), gnm::rand({1}, o, -3, 3), gnm::rand({1}, o, -3, 3)}},
      // broadcast: a column (37, 1), a row (13) and a scalar-shaped (1, 1)
      {{gnm::rand({37, 1}, o, -3, 3), gnm::rand({13}, o, -3, 3), gnm::rand({1, 1}, o, -3, 3)}},
      // strided: a transposed (13, 37)ᵀ, every second column of (37, 26), a broadcast row
      {{gnm::rand({13, 37}, o, -3, 3).t(), gnm::rand({37, 26}, o, -3, 3).slice(1, 0, 26, 2),
        gnm::rand({1, 13}, o, -3, 3)}},
      // three dims, a permuted operand and a middle broadcast dim: n = 3·5·7 = 105
      {{gnm::rand({7, 3, 5}, o, -3, 3).permute({1, 2, 0}), gnm::rand({3, 1, 7}, o, -3, 3),
        gnm::rand({5, 7}, o, -3, 3)}},
  };
#if !defined(__SANITIZE_THREAD__)
  // 257 = one element past a block; 1031 (prime) over five blocks, one operand step-sliced
  sets.push_back({{gnm::rand({257}, o, -3, 3), gnm::rand({257}, o, -3, 3),
                   gnm::rand({1}, o, -3, 3)}});
  sets.push_back({{gnm::rand({1031}, o, -3, 3), gnm::rand({2062}, o, -3, 3).slice(0, 0, 2062, 2),
                   gnm::rand({1031}, o, -3, 3)}});
#endif
  return sets;
}

TEST(FusedEmulated, MatchesCpuInterpreterBitForBit) {
  gnm::manual_seed(11);
#if defined(__SANITIZE_THREAD__)
  const DType dtypes[] = {DType::f32};
#else
  const DType dtypes[] = {DType::f32, DType::f64, DType::bf16};
#endif
  for (const DType dtype : dtypes) {
    for (const Operands& ops : operand_sets(dtype)) {
      const std::vector<fused::Program> ps = programs();
      for (std::size_t k = 0; k < ps.size(); ++k) {
        EXPECT_EQ(check(ps[k], ops.v), "") << "program " << k << " on " << describe(ops.v);
      }
      EXPECT_EQ(check(fused::compile(kGeluTanhExpr), ops.v, ~0u, gelu_tanh_rel(dtype)), "")
          << "gelu_tanh program on " << describe(ops.v);
    }
  }
}

// fused_launch's grid for 1031 elements is 5 blocks; 1 and 2 make threads take several elements.
TEST(FusedEmulated, CappedGridGridStrideLoop) {
  gnm::manual_seed(12);
  const std::vector<Tensor> in = {gnm::rand({1031}, {}, -3, 3), gnm::rand({1031}, {}, -3, 3),
                                  gnm::rand({1, 1031}, {}, -3, 3).view({1031})};
  const fused::Program p = programs()[1];
  EXPECT_EQ(check(p, in, 1), "") << "grid 1";
  EXPECT_EQ(check(p, in, 2), "") << "grid 2";
}

// The launch arguments: coalescing merges a contiguous (4, 5, 6) into one dim, and keeps a
// broadcast operand's zero stride; the grid is ceil(n / 256), capped at 4096.
TEST(FusedEmulated, LaunchArguments) {
  const Tensor out = gnm::empty({4, 5, 6});
  const Tensor a = gnm::rand({4, 5, 6});
  const fd::FusedLaunch f = fd::fused_launch(out, {a, gnm::rand({6}).expand({4, 5, 6})});
  EXPECT_EQ(f.n, 120);
  EXPECT_EQ(f.grid, 1u);
  EXPECT_EQ(f.inputs.p[0], a.data_ptr());
  EXPECT_EQ(f.inputs.p[2], nullptr);
  const fd::FusedLaunch big = fd::fused_launch(gnm::empty({4096 * 256 + 1}), {});
  EXPECT_EQ(big.grid, 4096u);
}

// Negative controls: a launch one element short leaves the last element poisoned; a program with
// its operands swapped (b − a for a − b) gives different values.
TEST(FusedEmulated, NegativeControlHarnessCatchesFaults) {
  gnm::manual_seed(13);
  const std::vector<Tensor> in = {gnm::rand({37, 13}, {}, -3, 3), gnm::rand({13}, {}, -3, 3)};
  const fused::Program p = fused::compile(kA - kB);
  ASSERT_EQ(check(p, in), "");
  const Outcome short_run = emu_evaluate(p, in, ~0u, /*skip_last=*/true);
  EXPECT_EQ(short_run.values.back(), kPoison);
  const std::vector<double> swapped =
      fused::evaluate(fused::compile(kB - kA), in).to_vector<double>();
  EXPECT_NE(emu_evaluate(p, in).values, swapped);
}


}  // namespace
