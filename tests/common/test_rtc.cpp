// Run-time compilation (NVRTC) and its disk cache, without a GPU: NVRTC compiles for any target on
// the host, so compile-to-PTX/cubin, the cache and the error paths are all tested here. The launch
// itself is in tests/gpu/test_rtc_gpu.cu. These tests live in gnm_engine_tests (plain C++, no
// nvcc needed) and compile to nothing in the CPU-only build, which has no rtc layer.
#include <gtest/gtest.h>

#if GNM_HAVE_CUDA

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"
#include "gnm/cuda/driver.hpp"
#include "gnm/cuda/rtc.hpp"
#include "scratch.hpp"
#include "rtc_test_kernels.hpp"

namespace fs = std::filesystem;
namespace rtc = gnm::cuda::rtc;

namespace {

using gnm::test::rtc_options;
constexpr const char* kSaxpy = gnm::test::kRtcSaxpy;

fs::path scratch_dir() { return gnm::testing::scratch_dir("rtc", /*create=*/false); }

#define SKIP_WITHOUT_NVRTC() \
  if (!rtc::nvrtc_available()) GTEST_SKIP() << "libnvrtc is not installed on this machine"

}  // namespace

TEST(Rtc, Fnv1a64MatchesPublishedValues) {
  // Reference values of the FNV-1a 64 specification (offset basis for "", and for "a").
  EXPECT_EQ(rtc::fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(rtc::fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(rtc::fnv1a64("foobar"), 0x85944171f73967e8ull);
}

TEST(Rtc, DefaultCacheDirFollowsTheEnvironment) {
  const char* old = std::getenv("GNM_RTC_CACHE_DIR");
  const std::string saved = old ? old : "";
  ::setenv("GNM_RTC_CACHE_DIR", "/some/where", 1);
  EXPECT_EQ(rtc::default_cache_dir(), fs::path("/some/where"));
  ::setenv("GNM_RTC_CACHE_DIR", "", 1);  // empty counts as unset
  if (const char* home = std::getenv("HOME"); home && *home) {
    EXPECT_EQ(rtc::default_cache_dir(), fs::path(home) / ".cache" / "gnm" / "rtc");
  }
  if (old) {
    ::setenv("GNM_RTC_CACHE_DIR", saved.c_str(), 1);
  } else {
    ::unsetenv("GNM_RTC_CACHE_DIR");
  }
}

TEST(Rtc, SaxpyCompilesToPtxWithAnUnmangledEntry) {
  SKIP_WITHOUT_NVRTC();
  rtc::Compiler compiler{fs::path()};  // no cache
  const auto c = compiler.compile(kSaxpy, "saxpy.cu", rtc_options("compute_90"));
  EXPECT_EQ(c.kind, rtc::CodeKind::ptx);
  EXPECT_EQ(c.arch, "compute_90");
  EXPECT_FALSE(c.from_cache);
  EXPECT_NE(c.image.find(".entry saxpy("), std::string::npos) << c.image;
  EXPECT_NE(c.image.find(".target sm_90"), std::string::npos);
  EXPECT_EQ(c.image.find('\0'), std::string::npos);  // no trailing NUL in the text
  EXPECT_EQ(compiler.stats().misses, 1u);
  EXPECT_EQ(compiler.stats().hits, 0u);
  EXPECT_FALSE(rtc::nvrtc_version().empty());
}

TEST(Rtc, SmTargetGivesACubin) {
  SKIP_WITHOUT_NVRTC();
  rtc::Compiler compiler{fs::path()};
  const auto c = compiler.compile(kSaxpy, "saxpy.cu", rtc_options("sm_90", true));
  EXPECT_EQ(c.kind, rtc::CodeKind::cubin);
  ASSERT_GE(c.image.size(), 4u);
  EXPECT_EQ(c.image.substr(0, 4), std::string("\x7f" "ELF"));  // a cubin is an ELF image
}

TEST(Rtc, SecondCompileIsACacheHitAndNewOptionsAMiss) {
  SKIP_WITHOUT_NVRTC();
  const fs::path dir = scratch_dir();
  rtc::Compiler compiler(dir);
  const rtc::Options opts = rtc_options("compute_90");
  const auto first = compiler.compile(kSaxpy, "saxpy.cu", opts);
  EXPECT_TRUE(fs::exists(compiler.cache_path(kSaxpy, "saxpy.cu", opts)));
  const auto second = compiler.compile(kSaxpy, "saxpy.cu", opts);
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(second.image, first.image);
  EXPECT_EQ(second.kind, first.kind);
  EXPECT_EQ(compiler.stats().misses, 1u);  // NVRTC ran once
  EXPECT_EQ(compiler.stats().hits, 1u);
  EXPECT_GT(compiler.stats().compile_ms, 0.0);

  // A new process (a new Compiler) finds the same file.
  rtc::Compiler other(dir);
  EXPECT_TRUE(other.compile(kSaxpy, "saxpy.cu", opts).from_cache);

  // Any change to the options, the name or the source is another key.
  const auto fast = compiler.compile(kSaxpy, "saxpy.cu", rtc_options("compute_90", true));
  EXPECT_FALSE(fast.from_cache);
  EXPECT_FALSE(compiler.compile(kSaxpy, "saxpy.cu", rtc_options("compute_80")).from_cache);
  EXPECT_FALSE(compiler.compile(kSaxpy, "saxpy.cu", rtc_options("compute_90", false, {"-DX=1"}))
                   .from_cache);
  EXPECT_FALSE(compiler.compile(std::string(kSaxpy) + "\n", "saxpy.cu", opts).from_cache);
  EXPECT_FALSE(compiler.compile(kSaxpy, "other.cu", opts).from_cache);
  EXPECT_EQ(compiler.stats().misses, 6u);
  EXPECT_EQ(compiler.stats().hits, 1u);
  EXPECT_EQ(compiler.stats().rejected, 0u);
  fs::remove_all(dir);
}

TEST(Rtc, CorruptOrForeignCacheFilesAreRejectedAndRewritten) {
  SKIP_WITHOUT_NVRTC();
  const fs::path dir = scratch_dir();
  rtc::Compiler compiler(dir);
  const rtc::Options opts = rtc_options("compute_90");
  const auto good = compiler.compile(kSaxpy, "saxpy.cu", opts);
  const fs::path path = compiler.cache_path(kSaxpy, "saxpy.cu", opts);
  const std::string intact = gnm::read_file(path);

  // Truncated in the middle of the code, at the end of the header, and to nothing.
  for (const std::size_t keep : {intact.size() / 2, intact.find('\n') + 1, std::size_t{0}}) {
    gnm::write_file_atomic(path, intact.substr(0, keep));
    const auto again = compiler.compile(kSaxpy, "saxpy.cu", opts);
    EXPECT_FALSE(again.from_cache) << keep;
    EXPECT_EQ(again.image, good.image) << keep;
    EXPECT_EQ(gnm::read_file(path), intact) << "the entry is rewritten whole";
  }
  // One flipped byte in the code: same length, so only the checksum can catch it.
  std::string flipped = intact;
  flipped[flipped.size() - 10] ^= 0x01;
  gnm::write_file_atomic(path, flipped);
  EXPECT_FALSE(compiler.compile(kSaxpy, "saxpy.cu", opts).from_cache);
  // An intact entry for another key under this name (as after a hash collision).
  const rtc::Options fast = rtc_options("compute_90", true);
  compiler.compile(kSaxpy, "saxpy.cu", fast);
  fs::copy_file(compiler.cache_path(kSaxpy, "saxpy.cu", fast), path,
                fs::copy_options::overwrite_existing);
  const auto foreign = compiler.compile(kSaxpy, "saxpy.cu", opts);
  EXPECT_FALSE(foreign.from_cache);
  EXPECT_EQ(foreign.image, good.image);

  const auto s = compiler.stats();
  EXPECT_EQ(s.rejected, 5u);
  EXPECT_EQ(s.hits, 0u);
  EXPECT_EQ(s.misses, 7u);
  EXPECT_TRUE(compiler.compile(kSaxpy, "saxpy.cu", opts).from_cache);  // healed
  fs::remove_all(dir);
}

TEST(Rtc, UnwritableCacheStillCompiles) {
  SKIP_WITHOUT_NVRTC();
  const fs::path dir = scratch_dir();
  fs::create_directories(dir);
  gnm::write_file_atomic(dir / "file", "x");
  rtc::Compiler compiler(dir / "file" / "rtc");  // a path under a regular file cannot be created
  const auto c = compiler.compile(kSaxpy, "saxpy.cu", rtc_options("compute_90"));
  EXPECT_FALSE(c.image.empty());
  EXPECT_EQ(compiler.stats().write_failures, 1u);
  fs::remove_all(dir);
}

TEST(Rtc, CompileErrorCarriesTheNvrtcLog) {
  SKIP_WITHOUT_NVRTC();
  const fs::path dir = scratch_dir();
  rtc::Compiler compiler(dir);
  const char* broken = "extern \"C\" __global__ void k(float* y) {\n  y[0] = undefined_name;\n}\n";
  try {
    compiler.compile(broken, "broken.cu", rtc_options("compute_90"));
    FAIL() << "expected gnm::Error";
  } catch (const gnm::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("broken.cu"), std::string::npos) << what;
    EXPECT_NE(what.find("compute_90"), std::string::npos) << what;
    // NVRTC's log line: file(line): error: identifier "undefined_name" is undefined
    EXPECT_NE(what.find("broken.cu(2): error"), std::string::npos) << what;
    EXPECT_NE(what.find("undefined_name"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(dir)) << "nothing is cached for a failed compilation";
  fs::remove_all(dir);
}

TEST(Rtc, MalformedArchIsRejectedByName) {
  rtc::Compiler compiler{fs::path()};
  for (const char* arch : {"sm90", "compute_9", "sm_", "gfx90a", "sm_90ab"}) {
    try {
      compiler.compile(kSaxpy, "saxpy.cu", rtc_options(arch));
      ADD_FAILURE() << arch;
    } catch (const gnm::Error& e) {
      EXPECT_NE(std::string(e.what()).find(arch), std::string::npos) << e.what();
    }
  }
}

TEST(Rtc, WithoutADriverLaunchingIsACudaErrorNotACrash) {
  if (gnm::cuda::driver::available()) GTEST_SKIP() << "a CUDA driver is present";
  EXPECT_NE(gnm::cuda::driver::unavailable_reason().find("libcuda.so.1"), std::string::npos);
  try {
    auto module = gnm::cuda::driver::Module::load("// not even PTX");
    FAIL() << "expected gnm::CudaError";
  } catch (const gnm::CudaError& e) {
    EXPECT_EQ(e.code(), 35);
    EXPECT_NE(std::string(e.what()).find("no CUDA driver (libcuda.so.1 not found)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(gnm::cuda::driver::version(), gnm::CudaError);
  EXPECT_THROW(gnm::cuda::driver::synchronize(), gnm::CudaError);
  // An empty arch asks the device for its architecture: no driver, so a CudaError too.
  rtc::Compiler compiler{fs::path()};
  EXPECT_THROW(compiler.compile(kSaxpy, "saxpy.cu", rtc::Options{}), gnm::CudaError);
  // An empty module holds nothing to unload and names no function.
  gnm::cuda::driver::Module empty;
  EXPECT_EQ(empty.get(), nullptr);
  EXPECT_THROW(empty.function("saxpy"), gnm::Error);
}

#endif  // GNM_HAVE_CUDA
