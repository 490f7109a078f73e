/// \file
/// Run-time compilation with NVRTC: a kernel source string to PTX or cubin, cached on disk.
///
/// NVRTC, like the driver, is loaded at run time: dlopen of libnvrtc.so.N (N the toolkit's major
/// version), then libnvrtc.so; GNM_NVRTC_LIBRARY overrides the path. Linking it would make every
/// gnm binary need the toolkit's libnvrtc (≈ 100 MB with its builtins) just to start, also on
/// machines that only have a driver; and the static libnvrtc would add that much to every binary.
/// Without NVRTC, compile() throws gnm::NotImplemented saying so; nothing else is affected.
///
/// The disk cache maps (source, program name, options, NVRTC version) to the compiled code. The
/// file name is the FNV-1a 64 hash of that key text; the file stores the full key text too and is
/// used only when it matches byte for byte, so a hash collision costs a recompile, never a wrong
/// kernel. Each file also carries its payload lengths and an FNV-1a checksum, so a truncated or
/// damaged file is rejected (counted in Stats::rejected, noted on stderr) and rewritten, never
/// half-read. Files are written with gnm::write_file_atomic, so concurrent processes see an old
/// file or a new one. A failed cache write is counted, not thrown: the compiled code is still good.
///
/// \code
/// gnm::cuda::rtc::Compiler compiler;                  // cache in GNM_RTC_CACHE_DIR or ~/.cache
/// gnm::cuda::rtc::Options options;
/// options.arch = "sm_90";                            // a cubin for Hopper
/// auto code = compiler.compile(source, "saxpy.cu", options);
/// auto module = gnm::cuda::driver::Module::load(code.image);
/// \endcode
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

/// Run-time compilation of CUDA C++ with NVRTC.
namespace gnm::cuda::rtc {

/// How to compile.
struct Options {
  /// Target: "compute_XY" gives PTX (JIT-compiled by the driver at load, any later GPU),
  /// "sm_XY" (optionally with a suffix such as "sm_90a") gives a cubin for exactly that
  /// architecture. Empty: "sm_XY" of device 0, which needs a driver.
  std::string arch;
  std::string std = "c++17";         ///< Language standard (-std=...).
  bool fast_math = false;            ///< --use_fast_math (approximate division, sqrt, exp, ...).
  std::vector<std::string> extra;    ///< Further NVRTC options, e.g. "-DTILE=32", in order.
};

/// The result of a compilation.
enum class CodeKind {
  ptx,    ///< PTX text (for a compute_XY target).
  cubin,  ///< A cubin ELF image (for an sm_XY target).
};

/// Compiled code, ready for gnm::cuda::driver::Module::load.
struct Compiled {
  CodeKind kind = CodeKind::ptx;  ///< PTX or cubin.
  std::string arch;               ///< The target actually used, e.g. "compute_90".
  std::string image;              ///< The PTX text (without a trailing NUL) or the cubin bytes.
  std::string log;                ///< NVRTC's log (warnings); empty when it had nothing to say.
  bool from_cache = false;        ///< True when read from the disk cache rather than compiled.
};

/// What a Compiler has done so far.
struct Stats {
  std::uint64_t hits = 0;            ///< Compilations answered from the disk cache.
  std::uint64_t misses = 0;          ///< Compilations that ran NVRTC.
  std::uint64_t rejected = 0;        ///< Cache files ignored as corrupt or for another key.
  std::uint64_t write_failures = 0;  ///< Cache files that could not be written.
  double compile_ms = 0.0;           ///< Total time spent in NVRTC (misses only).
};

/// FNV-1a, 64-bit: a fast, non-cryptographic hash (the cache compares the full key anyway).
std::uint64_t fnv1a64(std::string_view bytes) noexcept;

/// NVRTC's version as "major.minor", e.g. "13.0"; throws NotImplemented when NVRTC is missing.
std::string nvrtc_version();

/// True when libnvrtc could be loaded; never throws.
bool nvrtc_available() noexcept;

/// The cache directory: $GNM_RTC_CACHE_DIR when set and non-empty, else $HOME/.cache/gnm/rtc,
/// else gnm-rtc in the system's temporary directory.
std::filesystem::path default_cache_dir();

/// Compiles kernel sources with NVRTC through a disk cache. Thread-safe.
class Compiler {
 public:
  /// A compiler caching in `cache_dir` (created on first write); an empty path disables the cache.
  explicit Compiler(std::filesystem::path cache_dir = default_cache_dir());

  /// Compiles `source` (a whole translation unit; kernels extern "C" to keep their names) as
  /// program `name` (used in diagnostics). Throws gnm::Error with NVRTC's log when it does not
  /// compile, gnm::Error naming a malformed `options.arch`, NotImplemented without NVRTC.
  Compiled compile(std::string_view source, std::string_view name, const Options& options);

  /// The cache file compile() would use for these inputs (it may not exist).
  std::filesystem::path cache_path(std::string_view source, std::string_view name,
                                   const Options& options) const;

  /// A copy of the counters.
  Stats stats() const;

  /// The cache directory (empty when caching is off).
  const std::filesystem::path& cache_dir() const noexcept { return cache_dir_; }

 private:
  std::filesystem::path cache_dir_;
  mutable std::mutex mutex_;  // guards stats_
  Stats stats_;
};

}  // namespace gnm::cuda::rtc
