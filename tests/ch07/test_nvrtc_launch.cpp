// Exercise 7.1 on the CPU: the kernel source and options really compile with NVRTC (which needs no
// GPU), the PTX has the entry point and the requested target, and the launch configuration and
// the launcher's argument checks are right. NVRTC is part of the CUDA toolkit: without it these
// tests skip, and fail instead under GNM_REQUIRE_NVRTC=1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

#include "gnm/core/error.hpp"
#include "gnm/cuda/driver.hpp"
#include "gnm/cuda/rtc.hpp"
#include "nvrtc_launch.hpp"

namespace {

namespace rtc = gnm::cuda::rtc;
using gnm::ch07::axpby_launch_config;
using gnm::ch07::launch_axpby;
using gnm::ch07::make_axpby_kernel;

bool nvrtc_required() {
  const char* v = std::getenv("GNM_REQUIRE_NVRTC");
  return v != nullptr && std::string(v) == "1";
}

#define SKIP_WITHOUT_NVRTC()                                                              \
  do {                                                                                    \
    if (!rtc::nvrtc_available()) {                                                        \
      if (nvrtc_required()) {                                                             \
        FAIL() << "GNM_REQUIRE_NVRTC=1 but NVRTC cannot be loaded (libnvrtc.so from the " \
                  "CUDA toolkit; GNM_NVRTC_LIBRARY names another path)";                  \
      }                                                                                   \
      GTEST_SKIP() << "NVRTC is not available (libnvrtc.so from the CUDA toolkit)";       \
    }                                                                                     \
  } while (0)

// Compiles without a disk cache: every test sees NVRTC itself, not a file from an earlier run.
rtc::Compiled compile(const gnm::ch07::RtcKernel& k) {
  rtc::Compiler compiler{std::filesystem::path()};
  return compiler.compile(k.source, k.name, k.options);
}

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// The message of the gnm::Error that `fn` throws, failing the test when it throws nothing, the
// stub's NotImplemented, or something else.
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const gnm::NotImplemented& e) {
    ADD_FAILURE() << "exercise not written yet: " << e.what();
    return {};
  } catch (const gnm::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a gnm::Error";
  return {};
}

}  // namespace

TEST(Ch07NvrtcKernel, SourceAndOptionsAreWhatTheTaskSays) {
  const auto k = make_axpby_kernel("compute_90", 256);
  EXPECT_EQ(k.entry, "gnm_axpby");
  EXPECT_FALSE(k.name.empty());
  EXPECT_TRUE(contains(k.source, "extern \"C\"")) << k.source;
  EXPECT_TRUE(contains(k.source, "gnm_axpby")) << k.source;
  EXPECT_TRUE(contains(k.source, "axpby_one")) << k.source;
  EXPECT_EQ(k.options.arch, "compute_90");
  ASSERT_EQ(k.options.extra.size(), 2u);
  EXPECT_EQ(k.options.extra[0], "-default-device");
  EXPECT_EQ(k.options.extra[1], "-DGNM_BLOCK=256");
  EXPECT_EQ(make_axpby_kernel("sm_90", 96).options.extra.at(1), "-DGNM_BLOCK=96");
}

TEST(Ch07NvrtcKernel, CompilesToPtxWithTheEntryAndTarget) {
  SKIP_WITHOUT_NVRTC();
  for (const char* arch : {"compute_90", "compute_80"}) {
    const auto k = make_axpby_kernel(arch, 256);
    const rtc::Compiled c = compile(k);
    ASSERT_EQ(c.kind, rtc::CodeKind::ptx) << arch;
    const std::string target = std::string(".target sm_") + (arch + 8);  // "compute_90" → sm_90
    EXPECT_TRUE(contains(c.image, target + "\n") || contains(c.image, target + " ") ||
                contains(c.image, target + "\r"))
        << "no '" << target << "' line in the PTX:\n"
        << c.image.substr(0, 400);
    // extern "C": the entry keeps its plain name (a C++ name would start with _Z).
    EXPECT_TRUE(contains(c.image, ".entry gnm_axpby(")) << c.image.substr(0, 1200);
    // __launch_bounds__(GNM_BLOCK) reaches the PTX as the block's maximum thread count.
    EXPECT_TRUE(contains(c.image, ".maxntid 256")) << c.image.substr(0, 1200);
    // The parameter list: long long, float, pointer, float, pointer.
    EXPECT_TRUE(contains(c.image, ".param .u64 gnm_axpby_param_0")) << c.image.substr(0, 1200);
    EXPECT_TRUE(contains(c.image, ".param .f32 gnm_axpby_param_1")) << c.image.substr(0, 1200);
    EXPECT_TRUE(contains(c.image, ".param .f32 gnm_axpby_param_3")) << c.image.substr(0, 1200);
    EXPECT_FALSE(contains(c.image, "gnm_axpby_param_5")) << "more than five parameters";
  }
}

TEST(Ch07NvrtcKernel, CompilesToACubinForAnSmTarget) {
  SKIP_WITHOUT_NVRTC();
  const auto k = make_axpby_kernel("sm_90", 128);
  const rtc::Compiled c = compile(k);
  ASSERT_EQ(c.kind, rtc::CodeKind::cubin);
  ASSERT_GE(c.image.size(), 4u);
  EXPECT_EQ(c.image.substr(0, 4), std::string("\x7f"
                                              "ELF"));  // a cubin is an ELF file
  EXPECT_TRUE(contains(c.image, "gnm_axpby")) << "the cubin's symbol table lacks the entry";
}

TEST(Ch07NvrtcKernel, TheHelperNeedsDefaultDevice) {
  SKIP_WITHOUT_NVRTC();
  auto k = make_axpby_kernel("compute_90", 256);
  ASSERT_NO_THROW((void)compile(k));
  // Without -default-device, axpby_one is a host function and the kernel cannot call it.
  k.options.extra.erase(
      std::remove(k.options.extra.begin(), k.options.extra.end(), std::string("-default-device")),
      k.options.extra.end());
  const std::string what = error_of([&] { (void)compile(k); });
  EXPECT_TRUE(contains(what, "NVRTC could not compile")) << what;
}

TEST(Ch07NvrtcKernel, BadBlockSizesAreNamed) {
  for (int block : {0, -32, 16, 33, 1056, 2048}) {
    const std::string what = error_of([&] { (void)make_axpby_kernel("compute_90", block); });
    EXPECT_TRUE(contains(what, "block = " + std::to_string(block))) << what;
  }
}

TEST(Ch07NvrtcKernel, EmptyArchAsksTheDevice) {
  if (gnm::cuda::driver::available()) {
    // On a GPU machine: the device's own cubin target, e.g. sm_90.
    const auto k = make_axpby_kernel("", 256);
    EXPECT_EQ(k.options.arch, gnm::cuda::driver::device_arch(0, "sm"));
  } else {
    // Without a driver the question cannot be answered: a CudaError, not a guess.
    try {
      (void)make_axpby_kernel("", 256);
      ADD_FAILURE() << "an empty arch without a driver must throw gnm::CudaError";
    } catch (const gnm::CudaError& e) {
      EXPECT_FALSE(std::string(e.what()).empty());
    } catch (const std::exception& e) {
      ADD_FAILURE() << "expected gnm::CudaError, got: " << e.what();
    }
  }
}

TEST(Ch07NvrtcLaunchConfig, CoversEveryElementWithACappedGrid) {
  struct Case {
    std::int64_t n;
    int block;
    unsigned grid;
  };
  for (const Case c :
       {Case{1, 256, 1}, Case{255, 256, 1}, Case{256, 256, 1}, Case{257, 256, 2},
        Case{1000003, 256, 3907}, Case{97, 32, 4}, Case{1025, 1024, 2}, Case{5000011, 128, 4096}}) {
    const auto cfg = axpby_launch_config(c.n, c.block);
    EXPECT_EQ(cfg.grid.x, c.grid) << "n = " << c.n << ", block = " << c.block;
    EXPECT_EQ(cfg.grid.y, 1u);
    EXPECT_EQ(cfg.grid.z, 1u);
    EXPECT_EQ(cfg.block.x, static_cast<unsigned>(c.block));
    EXPECT_EQ(cfg.block.y, 1u);
    EXPECT_EQ(cfg.block.z, 1u);
    EXPECT_EQ(cfg.shared_bytes, 0u);
    EXPECT_EQ(cfg.stream, nullptr);
  }
  const auto huge = axpby_launch_config(std::numeric_limits<std::int64_t>::max(), 1024);
  EXPECT_EQ(huge.grid.x, static_cast<unsigned>(gnm::ch07::kAxpbyMaxGrid));
  const auto empty = axpby_launch_config(0, 64);
  EXPECT_EQ(empty.grid.x, 0u);
  EXPECT_EQ(empty.block.x, 64u);
  // The stream goes through unchanged (a made-up handle: nothing dereferences it here).
  auto* fake = reinterpret_cast<cudaStream_t>(std::uintptr_t{0x1000});
  EXPECT_EQ(axpby_launch_config(10, 32, fake).stream, fake);
}

TEST(Ch07NvrtcLaunchConfig, BadSizesAreNamed) {
  bool shape = false;
  try {
    (void)axpby_launch_config(-5, 256);
  } catch (const gnm::ShapeError& e) {
    shape = true;
    EXPECT_TRUE(contains(e.what(), "n = -5")) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected gnm::ShapeError, got: " << e.what();
  }
  EXPECT_TRUE(shape) << "a negative n must throw gnm::ShapeError";
  for (int block : {0, 16, 48, 2048}) {
    const std::string what = error_of([&] { (void)axpby_launch_config(100, block); });
    EXPECT_TRUE(contains(what, "block = " + std::to_string(block))) << what;
  }
}

// The launcher's checks come before the driver is touched, so they run without a GPU.
TEST(Ch07NvrtcLaunch, ArgumentChecksComeBeforeTheDriver) {
  const auto cfg = axpby_launch_config(16, 32);
  float dummy_x = 0.0f;
  float dummy_y = 0.0f;
  auto* fake_f = reinterpret_cast<CUfunction>(std::uintptr_t{0x2000});
  // n == 0: nothing to do, not even with null pointers.
  bool returned = false;
  try {
    launch_axpby(nullptr, axpby_launch_config(0, 32), 0, 1.0f, nullptr, 1.0f, nullptr);
    returned = true;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "n == 0 must launch nothing and throw nothing: " << e.what();
  }
  EXPECT_TRUE(returned);
  EXPECT_TRUE(contains(
      error_of([&] { launch_axpby(fake_f, cfg, 16, 1.0f, nullptr, 1.0f, &dummy_y); }), "n = 16"));
  EXPECT_FALSE(
      error_of([&] { launch_axpby(fake_f, cfg, 16, 1.0f, &dummy_x, 1.0f, nullptr); }).empty());
  EXPECT_FALSE(
      error_of([&] { launch_axpby(nullptr, cfg, 16, 1.0f, &dummy_x, 1.0f, &dummy_y); }).empty());
  // A configuration that launches nothing for n > 0 would silently skip the work.
  EXPECT_FALSE(error_of([&] {
                 launch_axpby(fake_f, axpby_launch_config(0, 32), 16, 1.0f, &dummy_x, 1.0f,
                              &dummy_y);
               }).empty());
  bool shape = false;
  try {
    launch_axpby(fake_f, cfg, -1, 1.0f, &dummy_x, 1.0f, &dummy_y);
  } catch (const gnm::ShapeError&) {
    shape = true;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected gnm::ShapeError, got: " << e.what();
  }
  EXPECT_TRUE(shape);
}
