// The OpenCL backend (gnm::opencl, chapters 7.3–7.4) on whatever OpenCL device the machine has:
// PoCL's CPU device in CI, NVIDIA's OpenCL on a GPU machine. Device enumeration and selection,
// build errors with their log, errors that name the call and the code, RAII that releases what
// it takes, saxpy and both SGEMMs against double-precision references (random inputs, NaN-poisoned
// outputs, odd and empty sizes), shape errors, and the offline SPIR / SPIR-V forms.
//
// Without an OpenCL platform (or in a build without OpenCL) the runtime tests skip with the
// packages to install; GNM_REQUIRE_OPENCL=1 turns the skip into a failure. PoCL compiles each
// kernel on first use (about a second) and caches it in $HOME/.cache/pocl.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/gemm.hpp"
#include "gnm/opencl/context.hpp"
#include "gnm/opencl/device.hpp"
#include "gnm/opencl/kernels.hpp"
#include "gnm/opencl/program.hpp"

namespace ocl = gnm::opencl;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr double kUnitRoundoff = gnm::kEpsF32 / 2.0;  // u = 2^-24

// Why the runtime tests cannot run here, or "" when they can.
std::string missing_opencl() {
  if (!ocl::built_with_opencl()) {
    return std::string("this build has no OpenCL: install ") + ocl::kOpenClPackages +
           " and configure again";
  }
  if (ocl::devices().empty()) {
    return "no OpenCL platform found: install pocl-opencl-icd (the CPU) or a GPU driver's ICD";
  }
  return {};
}

bool opencl_required() {
  const char* v = std::getenv("GNM_REQUIRE_OPENCL");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

#define SKIP_WITHOUT_OPENCL()                                           \
  do {                                                                  \
    if (const std::string why = missing_opencl(); !why.empty()) {       \
      if (opencl_required()) FAIL() << "GNM_REQUIRE_OPENCL=1: " << why; \
      GTEST_SKIP() << why;                                              \
    }                                                                   \
  } while (0)

std::vector<float> uniform(std::size_t n, std::uint64_t seed) {
  std::vector<float> v(n);
  gnm::fill_uniform(v, seed, -1.0f, 1.0f);
  return v;
}

// saxpy's error model: y + a·x rounded once by fma(), or twice (product, then sum) where the
// compiler does not fuse: |error| ≤ 2u · (|a x| + |y|). Checked element by element, so a wrong
// or missing element (error ~ |a x|) is far outside the bound.
::testing::AssertionResult saxpy_matches(float a, const std::vector<float>& x,
                                         const std::vector<float>& y0,
                                         const std::vector<float>& got) {
  std::size_t bad = 0;
  std::ostringstream msg;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double ax = static_cast<double>(a) * static_cast<double>(x[i]);
    const double ref = ax + static_cast<double>(y0[i]);
    const double bound =
        2.0 * kUnitRoundoff * (std::fabs(ax) + std::fabs(static_cast<double>(y0[i])));
    const double err = std::fabs(static_cast<double>(got[i]) - ref);
    if (!(err <= bound) && bad++ < 5) {
      msg << "\n  y[" << i << "] = " << got[i] << ", expected " << ref << " (error " << err << " > "
          << bound << ")";
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << x.size() << " wrong" << msg.str();
}

// SGEMM's error model (Higham, Thm 3.1): the kernels sum K products with fma() in index order,
// so |fl(dot) − dot| ≤ γ_K Σ_k |a_ik b_kj|, γ_K = K·u/(1 − K·u); alpha · acc and the final
// fma(beta, c, ·) add two roundings. We allow (K + 3) · u · (|alpha| Σ|a b| + |beta c|): rigorous
// for every K used here (K·u ≪ 1), not tuned, yet one missing or doubled product (|a b| ~ 1/4 on
// average) is far outside it. NaN anywhere (a poisoned C read when beta == 0) fails.
::testing::AssertionResult sgemm_matches(std::int64_t M, std::int64_t N, std::int64_t K,
                                         float alpha, const std::vector<float>& A,
                                         const std::vector<float>& B, float beta,
                                         const std::vector<float>& C0,
                                         const std::vector<float>& got) {
  const auto mn = static_cast<std::size_t>(M * N);
  std::vector<double> dot(mn), mass(mn);
  gnm::cpu::sgemm_reference(M, N, K, A.data(), std::max<std::int64_t>(K, 1), B.data(),
                            std::max<std::int64_t>(N, 1), dot, mass);
  std::size_t bad = 0;
  std::ostringstream msg;
  for (std::size_t e = 0; e < mn; ++e) {
    const double c0 = beta == 0.0f ? 0.0 : static_cast<double>(C0[e]);
    const double ref = static_cast<double>(alpha) * dot[e] + static_cast<double>(beta) * c0;
    const double scale =
        std::fabs(static_cast<double>(alpha)) * mass[e] + std::fabs(static_cast<double>(beta) * c0);
    const double bound = static_cast<double>(K + 3) * kUnitRoundoff * scale;
    const double err = std::fabs(static_cast<double>(got[e]) - ref);
    if (!(err <= bound) && bad++ < 5) {
      msg << "\n  C[" << static_cast<std::int64_t>(e) / N << "]["
          << static_cast<std::int64_t>(e) % N << "] = " << got[e] << ", expected " << ref
          << " (error " << err << " > " << bound << ")";
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << mn << " wrong" << msg.str();
}

// A small kernel that reverses each work-group's slice through __local memory: exercises
// set_local() and barrier().
constexpr const char* kReverseSource = R"cl(
__kernel void reverse_in_group(__global const float* in, __global float* out,
                               __local float* scratch) {
  const int l = (int)get_local_id(0);
  const int n = (int)get_local_size(0);
  const int base = (int)get_group_id(0) * n;
  scratch[l] = in[base + l];
  barrier(CLK_LOCAL_MEM_FENCE);
  out[base + l] = scratch[n - 1 - l];
}
)cl";

}  // namespace

// ---- without a runtime ------------------------------------------------------------------------

TEST(OpenCl, ErrorNamesAndHelpersNeedNoRuntime) {
  EXPECT_STREQ(ocl::error_name(0), "CL_SUCCESS");
  EXPECT_STREQ(ocl::error_name(-54), "CL_INVALID_WORK_GROUP_SIZE");
  EXPECT_STREQ(ocl::error_name(-11), "CL_BUILD_PROGRAM_FAILURE");
  EXPECT_STREQ(ocl::error_name(-1001), "CL_PLATFORM_NOT_FOUND_KHR");
  EXPECT_STREQ(ocl::error_name(12345), "CL_UNKNOWN_ERROR");
  const ocl::ClError e(-54, "clEnqueueNDRangeKernel(k)", "f.cpp", 7);
  EXPECT_EQ(e.code(), -54);
  EXPECT_NE(
      std::string(e.what()).find("clEnqueueNDRangeKernel(k): CL_INVALID_WORK_GROUP_SIZE (-54)"),
      std::string::npos)
      << e.what();

  ocl::DeviceInfo d;
  d.extensions = "cl_khr_fp64 cl_khr_spir cl_khr_icd";
  EXPECT_TRUE(d.has_extension("cl_khr_fp64"));
  EXPECT_TRUE(d.has_extension("cl_khr_icd"));
  EXPECT_FALSE(d.has_extension("cl_khr_fp"));  // whole words only
  EXPECT_TRUE(d.accepts_spir());
  EXPECT_FALSE(d.accepts_spirv());
  d.il_version = "SPIR-V_1.0 SPIR-V_1.2";
  EXPECT_TRUE(d.accepts_spirv());
  EXPECT_STREQ(ocl::device_type_name(ocl::DeviceType::gpu), "gpu");
  EXPECT_STREQ(ocl::sgemm_variant_name(ocl::SgemmVariant::tiled), "tiled");

  if (!ocl::built_with_opencl()) {
    EXPECT_THROW(ocl::devices(), gnm::NotImplemented);
    EXPECT_THROW(ocl::Context(), gnm::NotImplemented);
  }
}

TEST(OpenCl, KernelFilesAreEmbedded) {
  ASSERT_EQ(ocl::embedded_kernels().size(), 2u);
  for (const char* name : {"sgemm", "vector"}) {
    const auto& k = ocl::embedded_kernel(name);
    EXPECT_NE(k.source.find("__kernel"), std::string_view::npos) << name;
    EXPECT_EQ(k.spir.empty(), k.spirv.empty()) << "both offline forms or neither";
    if (!k.spirv.empty()) {
      std::uint32_t magic = 0;
      ASSERT_GE(k.spirv.size(), sizeof magic);
      std::memcpy(&magic, k.spirv.data(), sizeof magic);
      EXPECT_EQ(magic, 0x07230203u) << name << ".spv is not SPIR-V";
      EXPECT_EQ(k.spirv.size() % 4, 0u);
      EXPECT_EQ(std::memcmp(k.spir.data(), "BC\xC0\xDE", 4), 0) << name << ".bc is not bitcode";
    }
  }
  EXPECT_NE(ocl::kernel_build_options().find("-DGNM_TILE=16"), std::string_view::npos);
  EXPECT_THROW(ocl::embedded_kernel("nope"), gnm::Error);
}

// ---- devices ----------------------------------------------------------------------------------

TEST(OpenCl, DevicesAreListedWithTheirLimits) {
  SKIP_WITHOUT_OPENCL();
  const auto all = ocl::devices();
  ASSERT_FALSE(all.empty());
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& d = all[i];
    std::printf(
        "OpenCL device %zu: %s | %s | %s | %s | %s, %u CUs, %.1f GiB global, %llu KiB "
        "local, work-groups ≤ %zu, IL '%s'\n",
        d.index, d.name.c_str(), d.platform_name.c_str(), ocl::device_type_name(d.type),
        d.version.c_str(), d.opencl_c_version.c_str(), d.compute_units,
        static_cast<double>(d.global_mem_bytes) / (1u << 30),
        static_cast<unsigned long long>(d.local_mem_bytes / 1024), d.max_work_group_size,
        d.il_version.c_str());
    EXPECT_EQ(d.index, i);
    EXPECT_FALSE(d.name.empty());
    EXPECT_FALSE(d.platform_name.empty());
    EXPECT_EQ(d.version.rfind("OpenCL ", 0), 0u) << d.version;
    EXPECT_EQ(d.opencl_c_version.rfind("OpenCL C ", 0), 0u) << d.opencl_c_version;
    EXPECT_GE(d.compute_units, 1u);
    EXPECT_GT(d.global_mem_bytes, 0u);
    EXPECT_GE(d.local_mem_bytes, 16u * 1024);  // the 1.2 embedded-profile minimum; full: 32 KiB
    EXPECT_GE(d.max_work_group_size, 1u);
    EXPECT_GE(d.max_alloc_bytes, 1u << 20);
  }
}

TEST(OpenCl, PickDeviceFollowsTheSelection) {
  SKIP_WITHOUT_OPENCL();
  const auto all = ocl::devices();
  const auto chosen = ocl::pick_device("");
  bool has_gpu = false;
  for (const auto& d : all) has_gpu = has_gpu || d.type == ocl::DeviceType::gpu;
  if (has_gpu) {
    EXPECT_EQ(chosen.type, ocl::DeviceType::gpu);
  } else {
    EXPECT_EQ(chosen.index, 0u);
  }
  EXPECT_EQ(ocl::pick_device("0").index, 0u);
  EXPECT_EQ(ocl::pick_device(all.back().name).name, all.back().name);
  try {
    (void)ocl::pick_device("no-such-device-anywhere");
    ADD_FAILURE() << "an unknown selection was accepted";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-device-anywhere"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find(all.front().name), std::string::npos)
        << "the message lists the devices: " << e.what();
  }
  EXPECT_THROW((void)ocl::pick_device(std::to_string(all.size())), gnm::Error);
}

// ---- programs, kernels, errors ----------------------------------------------------------------

TEST(OpenCl, BuildErrorCarriesTheLog) {
  SKIP_WITHOUT_OPENCL();
  ocl::Context ctx;
  const char* broken = "__kernel void f(__global float* x) { x[0] = undeclared_thing + ; }";
  try {
    (void)ocl::Program::from_source(ctx, broken, "-cl-std=CL1.2");
    ADD_FAILURE() << "a syntax error compiled";
  } catch (const ocl::BuildError& e) {
    EXPECT_EQ(e.code(), -11);  // CL_BUILD_PROGRAM_FAILURE
    EXPECT_NE(e.log().find("undeclared_thing"), std::string::npos) << e.log();
    const std::string what = e.what();
    EXPECT_NE(what.find("clBuildProgram"), std::string::npos) << what;
    EXPECT_NE(what.find("CL_BUILD_PROGRAM_FAILURE"), std::string::npos) << what;
    EXPECT_NE(what.find(e.log()), std::string::npos) << "what() includes the log";
  }
  // Unknown build options are rejected by name as well (CL_INVALID_BUILD_OPTIONS or a build
  // failure, depending on the implementation): either way a ClError, never a crash.
  EXPECT_THROW((void)ocl::Program::from_source(ctx, "__kernel void g(void) {}", "-no-such-option"),
               ocl::ClError);
}

TEST(OpenCl, RuntimeErrorsNameTheCallAndTheCode) {
  SKIP_WITHOUT_OPENCL();
  ocl::Context ctx;
  const auto& program =
      ctx.program(ocl::embedded_kernel("sgemm").source, ocl::kernel_build_options());
  try {
    ocl::Kernel missing(program, "no_such_kernel");
    ADD_FAILURE() << "a missing kernel was found";
  } catch (const ocl::ClError& e) {
    EXPECT_EQ(e.code(), -46) << e.what();  // CL_INVALID_KERNEL_NAME
    EXPECT_NE(std::string(e.what()).find("clCreateKernel(no_such_kernel)"), std::string::npos);
  }

  ocl::Kernel tiled(program, "sgemm_tiled");
  ocl::Buffer<float> a(ctx, 64), b(ctx, 64), c(ctx, 64);
  // An int64 where the kernel takes int: the sizes differ.
  EXPECT_THROW(tiled.set_arg(0, std::int64_t{8}), ocl::ClError);
  tiled.set_arg(0, 8);
  tiled.set_arg(1, 8);
  tiled.set_arg(2, 1);
  tiled.set_arg(3, 1.0f);
  tiled.set_arg(4, a);
  tiled.set_arg(5, b);
  tiled.set_arg(6, 0.0f);
  tiled.set_arg(7, c);
  // sgemm_tiled requires 16×16 work-groups (reqd_work_group_size).
  try {
    (void)tiled.launch(ocl::Range(16, 16), ocl::Range(8, 8));
    ADD_FAILURE() << "a launch with the wrong work-group size was accepted";
  } catch (const ocl::ClError& e) {
    EXPECT_EQ(e.code(), -54) << e.what();
    const std::string what = e.what();
    EXPECT_NE(what.find("clEnqueueNDRangeKernel(sgemm_tiled): CL_INVALID_WORK_GROUP_SIZE"),
              std::string::npos)
        << what;
  }
  EXPECT_THROW((void)tiled.launch(ocl::Range(16, 16), ocl::Range(16)), gnm::ShapeError);
  EXPECT_THROW(tiled.set_arg(99, 1.0f), ocl::ClError);  // CL_INVALID_ARG_INDEX
  EXPECT_GE(tiled.max_work_group_size(), 256u);
}

TEST(OpenCl, BuffersRoundTripAndCheckSizes) {
  SKIP_WITHOUT_OPENCL();
  ocl::Context ctx;
  const auto host = uniform(1000, 11);
  ocl::Buffer<float> buffer(ctx, std::span<const float>(host));
  EXPECT_EQ(buffer.size(), host.size());
  EXPECT_EQ(buffer.to_vector(), host);
  std::vector<float> wrong(999);
  EXPECT_THROW(buffer.read(wrong), gnm::ShapeError);
  EXPECT_THROW(buffer.write(std::span<const float>(wrong)), gnm::ShapeError);
  ocl::Buffer<float> empty(ctx, 0);  // no OpenCL call: OpenCL has no empty buffers
  EXPECT_TRUE(empty.to_vector().empty());
}

TEST(OpenCl, LocalMemoryKernelWithOwnSource) {
  SKIP_WITHOUT_OPENCL();
  ocl::Context ctx;
  const auto program = ocl::Program::from_source(ctx, kReverseSource);
  const auto names = program.kernel_names();
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0], "reverse_in_group");
  ocl::Kernel kernel(program, "reverse_in_group");
  constexpr std::size_t kGroup = 32, kGroups = 5;
  const auto in = uniform(kGroup * kGroups, 12);
  ocl::Buffer<float> din(ctx, std::span<const float>(in)), dout(ctx, in.size());
  kernel.set_arg(0, din);
  kernel.set_arg(1, dout);
  kernel.set_local(2, kGroup * sizeof(float));
  const ocl::Event done = kernel.launch(ocl::Range(in.size()), ocl::Range(kGroup));
  EXPECT_GE(done.elapsed_ms(), 0.0);
  const auto out = dout.to_vector();
  for (std::size_t g = 0; g < kGroups; ++g) {
    for (std::size_t l = 0; l < kGroup; ++l) {
      ASSERT_EQ(out[g * kGroup + l], in[g * kGroup + kGroup - 1 - l]) << g << ", " << l;
    }
  }
  const ocl::Event none;
  EXPECT_THROW((void)none.elapsed_ms(), gnm::Error);
}

TEST(OpenCl, ObjectsReleaseWhatTheyTake) {
  SKIP_WITHOUT_OPENCL();
  ocl::Context ctx;
  const auto before = ctx.reference_counts();
  {
    ocl::Buffer<float> buffer(ctx, 256);
    auto program = ocl::Program::from_source(ctx, kReverseSource);
    ocl::Kernel kernel(program, "reverse_in_group");
    ocl::Buffer<float> moved = std::move(buffer);
    auto program2 = std::move(program);
    ocl::Kernel kernel2 = std::move(kernel);
    kernel2.set_arg(0, moved);
    kernel2.set_arg(1, moved);
    kernel2.set_local(2, 64 * sizeof(float));
    ocl::Event e = kernel2.launch(ocl::Range(256), ocl::Range(64));
    e.wait();
    ocl::Event e2 = std::move(e);
    const auto during = ctx.reference_counts();
    std::printf(
        "references (context, queue): idle %u, %u; with a buffer, program, kernel and "
        "event %u, %u\n",
        before.context, before.queue, during.context, during.queue);
    EXPECT_GT(during.queue, before.queue) << "the buffer, program and kernel hold the queue";
  }
  ctx.finish();
  // Whatever the implementation counts (PoCL: the queue and every buffer and program hold the
  // context), all of it must be given back: a leaked buffer, program, kernel or queue reference
  // keeps a count higher. PoCL's own reference to a finished command's event (which holds the
  // queue) is dropped by its worker thread shortly after clFinish returns, so wait for that —
  // a bounded wait, not a timing assertion.
  auto after = ctx.reference_counts();
  for (int i = 0; i < 500 && (after.context != before.context || after.queue != before.queue);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    after = ctx.reference_counts();
  }
  EXPECT_EQ(after.context, before.context);
  EXPECT_EQ(after.queue, before.queue);
}

// ---- saxpy ------------------------------------------------------------------------------------

TEST(OpenCl, SaxpyMatchesTheReference) {
  SKIP_WITHOUT_OPENCL();
  ocl::Context ctx;
  for (std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{13}, std::size_t{64},
                        std::size_t{129}, std::size_t{4099}}) {
    const auto x = uniform(n, 100 + n);
    const auto y0 = uniform(n, 200 + n);
    auto y = y0;
    const float a = -1.75f;
    const auto t = ocl::saxpy(ctx, a, x, y);
    EXPECT_GE(t.kernel_ms, 0.0);
    EXPECT_TRUE(saxpy_matches(a, x, y0, y)) << "n = " << n;
  }
  std::vector<float> none;
  EXPECT_NO_THROW(ocl::saxpy(ctx, 2.0f, none, none));
  std::vector<float> x(5), y(6);
  EXPECT_THROW(ocl::saxpy(ctx, 2.0f, x, y), gnm::ShapeError);
}

// ---- SGEMM ------------------------------------------------------------------------------------

struct GemmCase {
  std::int64_t M, N, K;
  float alpha, beta;
};

class OpenClSgemm : public ::testing::TestWithParam<ocl::SgemmVariant> {};

TEST_P(OpenClSgemm, MatchesTheReferenceAtOddSizes) {
  SKIP_WITHOUT_OPENCL();
  ocl::Context ctx;
  const ocl::SgemmVariant variant = GetParam();
  const GemmCase cases[] = {
      {1, 1, 1, 1.0f, 0.0f},       {7, 7, 7, 1.0f, 0.0f},       {13, 13, 13, 0.5f, -1.0f},
      {17, 19, 23, 1.0f, 0.0f},    {17, 19, 23, -0.75f, 2.0f},  {64, 64, 64, 1.0f, 0.0f},
      {129, 129, 129, 1.0f, 0.0f}, {129, 129, 129, 2.0f, 0.5f}, {1, 129, 7, 1.0f, 0.0f},
      {33, 1, 17, 1.0f, 1.0f},     {5, 3, 100, 1.0f, 0.0f},
  };
  std::uint64_t seed = 1;
  for (const auto& c : cases) {
    const auto A = uniform(static_cast<std::size_t>(c.M * c.K), seed++);
    const auto B = uniform(static_cast<std::size_t>(c.K * c.N), seed++);
    std::vector<float> C0 = uniform(static_cast<std::size_t>(c.M * c.N), seed++);
    // beta == 0 must overwrite C without reading it: poison it.
    if (c.beta == 0.0f) C0.assign(C0.size(), kNaN);
    auto C = C0;
    ocl::sgemm(ctx, variant, c.M, c.N, c.K, c.alpha, A, B, c.beta, C);
    EXPECT_TRUE(sgemm_matches(c.M, c.N, c.K, c.alpha, A, B, c.beta, C0, C))
        << ocl::sgemm_variant_name(variant) << " " << c.M << "x" << c.N << "x" << c.K
        << " alpha=" << c.alpha << " beta=" << c.beta;
  }
}

TEST_P(OpenClSgemm, EmptySizes) {
  SKIP_WITHOUT_OPENCL();
  ocl::Context ctx;
  const ocl::SgemmVariant variant = GetParam();
  const std::vector<float> none;
  std::vector<float> no_c;
  std::vector<float> a(15), b(15);
  std::vector<float> c(25, 1.0f);
  // M or N == 0: nothing to compute; C (empty) untouched, no launch.
  EXPECT_NO_THROW(ocl::sgemm(ctx, variant, 0, 5, 3, 1.0f, none, b, 0.0f, no_c));
  EXPECT_NO_THROW(ocl::sgemm(ctx, variant, 5, 0, 3, 1.0f, a, none, 0.0f, no_c));
  // K == 0: C = beta · C, A and B never read.
  ocl::sgemm(ctx, variant, 5, 5, 0, 1.0f, none, none, 0.5f, c);
  for (float v : c) ASSERT_EQ(v, 0.5f);
  std::vector<float> poisoned(25, kNaN);
  ocl::sgemm(ctx, variant, 5, 5, 0, 1.0f, none, none, 0.0f, poisoned);
  for (float v : poisoned) ASSERT_EQ(v, 0.0f);
}

TEST_P(OpenClSgemm, BadShapesThrowShapeError) {
  SKIP_WITHOUT_OPENCL();
  ocl::Context ctx;
  const ocl::SgemmVariant variant = GetParam();
  std::vector<float> a(6), b(12), c(8);  // A 2×3, B 3×4, C 2×4
  EXPECT_NO_THROW(ocl::sgemm(ctx, variant, 2, 4, 3, 1.0f, a, b, 0.0f, c));
  std::vector<float> short_a(5), short_c(7);
  EXPECT_THROW(ocl::sgemm(ctx, variant, 2, 4, 3, 1.0f, short_a, b, 0.0f, c), gnm::ShapeError);
  EXPECT_THROW(ocl::sgemm(ctx, variant, 2, 4, 3, 1.0f, a, a, 0.0f, c), gnm::ShapeError);
  EXPECT_THROW(ocl::sgemm(ctx, variant, 2, 4, 3, 1.0f, a, b, 0.0f, short_c), gnm::ShapeError);
  EXPECT_THROW(ocl::sgemm(ctx, variant, -2, 4, 3, 1.0f, a, b, 0.0f, c), gnm::ShapeError);
  // Beyond int indexing: rejected before the spans are even looked at.
  try {
    ocl::sgemm(ctx, variant, 70000, 1, 70000, 1.0f, a, b, 0.0f, c);
    ADD_FAILURE() << "a 70000×70000 A was accepted";
  } catch (const gnm::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("70000"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, OpenClSgemm,
                         ::testing::Values(ocl::SgemmVariant::naive, ocl::SgemmVariant::tiled),
                         [](const ::testing::TestParamInfo<ocl::SgemmVariant>& p) {
                           return std::string(ocl::sgemm_variant_name(p.param));
                         });

// ---- offline forms: SPIR-V and SPIR -----------------------------------------------------------

TEST(OpenCl, SpirvLoadsOrSaysWhyNot) {
  SKIP_WITHOUT_OPENCL();
  const auto& vector = ocl::embedded_kernel("vector");
  if (vector.spirv.empty()) {
    GTEST_SKIP() << "built without the offline toolchain (Debian: clang-14 llvm-spirv-14)";
  }
  ocl::Context ctx;
  if (!ctx.device().accepts_spirv()) {
    // Debian's PoCL 3.1: CL_DEVICE_IL_VERSION is empty. The error says so and names the device.
    try {
      (void)ocl::Program::from_spirv(ctx, vector.spirv);
      ADD_FAILURE() << "from_spirv accepted a device that lists no SPIR-V";
    } catch (const gnm::NotImplemented& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("accepts no SPIR-V"), std::string::npos) << what;
      EXPECT_NE(what.find(ctx.device().name), std::string::npos) << what;
    }
    return;
  }
  const auto program = ocl::Program::from_spirv(ctx, vector.spirv);
  ocl::Kernel kernel(program, "saxpy");
  const auto x = uniform(100, 31), y0 = uniform(100, 32);
  ocl::Buffer<float> dx(ctx, std::span<const float>(x)), dy(ctx, std::span<const float>(y0));
  kernel.set_arg(0, 100);
  kernel.set_arg(1, 3.0f);
  kernel.set_arg(2, dx);
  kernel.set_arg(3, dy);
  kernel.launch(ocl::Range(128), ocl::Range(64)).wait();
  EXPECT_TRUE(saxpy_matches(3.0f, x, y0, dy.to_vector()));
}

TEST(OpenCl, SpirBitcodeRunsTheTiledSgemm) {
  SKIP_WITHOUT_OPENCL();
  const auto& sgemm = ocl::embedded_kernel("sgemm");
  if (sgemm.spir.empty()) {
    GTEST_SKIP() << "built without the offline toolchain (Debian: clang-14 llvm-spirv-14)";
  }
  ocl::Context ctx;
  if (!ctx.device().accepts_spir()) {
    EXPECT_THROW((void)ocl::Program::from_spir(ctx, sgemm.spir), gnm::NotImplemented);
    return;
  }
  const auto program = ocl::Program::from_spir(ctx, sgemm.spir);
  ocl::Kernel kernel(program, "sgemm_tiled");
  constexpr int M = 17, N = 19, K = 23;
  const auto A = uniform(M * K, 41), B = uniform(K * N, 42);
  const std::vector<float> C0(M * N, kNaN);
  ocl::Buffer<float> da(ctx, std::span<const float>(A)), db(ctx, std::span<const float>(B));
  ocl::Buffer<float> dc(ctx, C0.size());
  kernel.set_arg(0, M);
  kernel.set_arg(1, N);
  kernel.set_arg(2, K);
  kernel.set_arg(3, 1.0f);
  kernel.set_arg(4, da);
  kernel.set_arg(5, db);
  kernel.set_arg(6, 0.0f);
  kernel.set_arg(7, dc);
  kernel.launch(ocl::Range(32, 32), ocl::Range(16, 16)).wait();
  EXPECT_TRUE(sgemm_matches(M, N, K, 1.0f, A, B, 0.0f, C0, dc.to_vector()));
}
