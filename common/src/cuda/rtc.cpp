// NVRTC through dlopen, and the disk cache of compiled kernels (see gnm/cuda/rtc.hpp).
#include "gnm/cuda/rtc.hpp"

#include <cuda.h>  // CUDA_VERSION: which libnvrtc.so.N matches the headers
#include <dlfcn.h>
#include <nvrtc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "gnm/core/check.hpp"
#include "gnm/core/file.hpp"
#include "gnm/cuda/driver.hpp"

namespace gnm::cuda::rtc {
namespace {

struct Nvrtc {
  decltype(&::nvrtcVersion) version = nullptr;
  decltype(&::nvrtcGetErrorString) error_string = nullptr;
  decltype(&::nvrtcCreateProgram) create = nullptr;
  decltype(&::nvrtcDestroyProgram) destroy = nullptr;
  decltype(&::nvrtcCompileProgram) compile = nullptr;
  decltype(&::nvrtcGetProgramLogSize) log_size = nullptr;
  decltype(&::nvrtcGetProgramLog) log = nullptr;
  decltype(&::nvrtcGetPTXSize) ptx_size = nullptr;
  decltype(&::nvrtcGetPTX) ptx = nullptr;
  decltype(&::nvrtcGetCUBINSize) cubin_size = nullptr;
  decltype(&::nvrtcGetCUBIN) cubin = nullptr;
  std::string version_text;  // "13.0"
  std::string error;         // empty when loaded
};

template <class Fn>
void resolve(void* lib, const char* name, Fn& fn, std::string& error) {
  fn = reinterpret_cast<Fn>(dlsym(lib, name));
  if (!fn && error.empty()) error = std::string("libnvrtc has no symbol ") + name;
}

Nvrtc load_nvrtc() {
  Nvrtc n;
  std::vector<std::string> names;
  if (const char* env = std::getenv("GNM_NVRTC_LIBRARY"); env && *env) names.emplace_back(env);
  names.push_back("libnvrtc.so." + std::to_string(CUDA_VERSION / 1000));
  names.emplace_back("libnvrtc.so");
  void* lib = nullptr;
  for (const auto& name : names) {
    if ((lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
  }
  if (!lib) {
    n.error = "NVRTC is not available (" + names.front() +
              " not found): install the CUDA toolkit's nvrtc or set GNM_NVRTC_LIBRARY";
    return n;
  }
  resolve(lib, "nvrtcVersion", n.version, n.error);
  resolve(lib, "nvrtcGetErrorString", n.error_string, n.error);
  resolve(lib, "nvrtcCreateProgram", n.create, n.error);
  resolve(lib, "nvrtcDestroyProgram", n.destroy, n.error);
  resolve(lib, "nvrtcCompileProgram", n.compile, n.error);
  resolve(lib, "nvrtcGetProgramLogSize", n.log_size, n.error);
  resolve(lib, "nvrtcGetProgramLog", n.log, n.error);
  resolve(lib, "nvrtcGetPTXSize", n.ptx_size, n.error);
  resolve(lib, "nvrtcGetPTX", n.ptx, n.error);
  resolve(lib, "nvrtcGetCUBINSize", n.cubin_size, n.error);
  resolve(lib, "nvrtcGetCUBIN", n.cubin, n.error);
  if (!n.error.empty()) return n;
  int major = 0;
  int minor = 0;
  n.version(&major, &minor);
  n.version_text = std::to_string(major) + "." + std::to_string(minor);
  return n;
}

const Nvrtc& nvrtc() {
  static const Nvrtc instance = load_nvrtc();
  GNM_CHECK_AS(NotImplemented, instance.error.empty(), instance.error);
  return instance;
}

// "compute_90", "sm_90", "sm_90a", "sm_100f": a prefix, at least two digits, one optional letter.
bool valid_arch(std::string_view arch) {
  std::string_view rest;
  if (arch.substr(0, 8) == "compute_") rest = arch.substr(8);
  else if (arch.substr(0, 3) == "sm_") rest = arch.substr(3);
  else return false;
  std::size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
  const std::size_t tail = rest.size() - digits;
  return digits >= 2 && (tail == 0 || (tail == 1 && rest.back() >= 'a' && rest.back() <= 'z'));
}

std::string resolve_arch(const Options& o) {
  const std::string arch = o.arch.empty() ? driver::device_arch(0, "sm") : o.arch;
  GNM_CHECK(valid_arch(arch), "arch must look like compute_90 or sm_90", arch);
  return arch;
}

std::vector<std::string> nvrtc_options(const Options& o, const std::string& arch) {
  std::vector<std::string> opts{"--gpu-architecture=" + arch, "-std=" + o.std};
  if (o.fast_math) opts.emplace_back("--use_fast_math");
  opts.insert(opts.end(), o.extra.begin(), o.extra.end());
  return opts;
}

// Everything the output depends on. The source goes last, after its length, so no choice of
// name or option text can make two different inputs produce the same key.
std::string cache_key(std::string_view source, std::string_view name,
                      const std::vector<std::string>& opts) {
  std::string key = "gnm-rtc 1\nnvrtc " + nvrtc().version_text + "\nname " +
                    std::to_string(name.size()) + " " + std::string(name) + "\n";
  for (const auto& o : opts) key += "option " + std::to_string(o.size()) + " " + o + "\n";
  key += "source " + std::to_string(source.size()) + "\n";
  key += source;
  return key;
}

std::string hex16(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// File layout: one header line, then the key, the log and the image, back to back:
//   gnm-rtc-cache 1 <ptx|cubin> <key bytes> <log bytes> <image bytes> <fnv1a64 of the three>\n
std::string encode(const std::string& key, const Compiled& c) {
  const std::string body = key + c.log + c.image;
  return "gnm-rtc-cache 1 " + std::string(c.kind == CodeKind::ptx ? "ptx" : "cubin") + " " +
         std::to_string(key.size()) + " " + std::to_string(c.log.size()) + " " +
         std::to_string(c.image.size()) + " " + hex16(fnv1a64(body)) + "\n" + body;
}

// Returns "" and fills `out` when `file` is a complete, intact entry for `key`; else the reason.
std::string decode(const std::string& file, const std::string& key, Compiled& out) {
  const auto eol = file.find('\n');
  if (eol == std::string::npos) return "no header line";
  std::istringstream header(file.substr(0, eol));
  std::string magic, kind, sum;
  int format = 0;
  std::size_t key_len = 0, log_len = 0, image_len = 0;
  if (!(header >> magic >> format >> kind >> key_len >> log_len >> image_len >> sum) ||
      magic != "gnm-rtc-cache" || format != 1 || (kind != "ptx" && kind != "cubin")) {
    return "malformed header";
  }
  const std::size_t body = eol + 1;
  // Compare sizes before any substr: a truncated file fails here, before a byte is used.
  // Checked one length at a time so that absurd lengths cannot overflow the sum.
  const std::size_t avail = file.size() - body;
  if (key_len > avail || log_len > avail - key_len || image_len != avail - key_len - log_len) {
    return "truncated or padded";
  }
  if (hex16(fnv1a64(std::string_view(file).substr(body))) != sum) return "checksum mismatch";
  if (std::string_view(file).substr(body, key_len) != key) return "written for another key";
  out.kind = kind == "ptx" ? CodeKind::ptx : CodeKind::cubin;
  out.log = file.substr(body + key_len, log_len);
  out.image = file.substr(body + key_len + log_len, image_len);
  return "";
}

std::string program_log(const Nvrtc& n, nvrtcProgram prog) {
  std::size_t size = 0;
  if (n.log_size(prog, &size) != NVRTC_SUCCESS || size == 0) return "";
  std::string log(size, '\0');
  if (n.log(prog, log.data()) != NVRTC_SUCCESS) return "";
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n' || log.back() == ' ')) {
    log.pop_back();
  }
  return log;
}

Compiled run_nvrtc(std::string_view source, std::string_view name, const std::string& arch,
                   const std::vector<std::string>& opts) {
  const Nvrtc& n = nvrtc();
  const std::string src(source);  // NVRTC wants NUL-terminated strings
  const std::string prog_name(name);
  nvrtcProgram prog = nullptr;
  nvrtcResult r = n.create(&prog, src.c_str(), prog_name.c_str(), 0, nullptr, nullptr);
  GNM_CHECK(r == NVRTC_SUCCESS, "nvrtcCreateProgram failed", n.error_string(r), prog_name);
  // Destroys the program on every path out, including the throws below.
  struct Guard {
    const Nvrtc& n;
    nvrtcProgram& p;
    ~Guard() { n.destroy(&p); }
  } guard{n, prog};
  std::vector<const char*> argv;
  for (const auto& o : opts) argv.push_back(o.c_str());
  r = n.compile(prog, static_cast<int>(argv.size()), argv.data());
  Compiled c;
  c.arch = arch;
  c.log = program_log(n, prog);
  if (r != NVRTC_SUCCESS) {
    throw Error("NVRTC could not compile '" + prog_name + "' for " + arch + " (" +
                    n.error_string(r) + "):\n" + c.log,
                __FILE__, __LINE__);
  }
  c.kind = arch.rfind("sm_", 0) == 0 ? CodeKind::cubin : CodeKind::ptx;
  std::size_t size = 0;
  if (c.kind == CodeKind::cubin) {
    r = n.cubin_size(prog, &size);
    c.image.resize(size);
    if (r == NVRTC_SUCCESS) r = n.cubin(prog, c.image.data());
  } else {
    r = n.ptx_size(prog, &size);
    c.image.resize(size);
    if (r == NVRTC_SUCCESS) r = n.ptx(prog, c.image.data());
    while (!c.image.empty() && c.image.back() == '\0') c.image.pop_back();  // size counts the NUL
  }
  GNM_CHECK(r == NVRTC_SUCCESS, "could not fetch NVRTC's output", n.error_string(r), prog_name);
  return c;
}

}  // namespace

std::uint64_t fnv1a64(std::string_view bytes) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;  // offset basis
  for (const char ch : bytes) {
    h ^= static_cast<unsigned char>(ch);
    h *= 0x100000001b3ull;  // FNV prime
  }
  return h;
}

std::string nvrtc_version() { return nvrtc().version_text; }

bool nvrtc_available() noexcept {
  try {
    (void)nvrtc();
    return true;
  } catch (...) {
    return false;
  }
}

std::filesystem::path default_cache_dir() {
  if (const char* dir = std::getenv("GNM_RTC_CACHE_DIR"); dir && *dir) return dir;
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::filesystem::path(home) / ".cache" / "gnm" / "rtc";
  }
  return std::filesystem::temp_directory_path() / "gnm-rtc";
}

Compiler::Compiler(std::filesystem::path cache_dir) : cache_dir_(std::move(cache_dir)) {}

std::filesystem::path Compiler::cache_path(std::string_view source, std::string_view name,
                                           const Options& options) const {
  GNM_CHECK(!cache_dir_.empty(), "this Compiler has no cache directory");
  const std::string key = cache_key(source, name, nvrtc_options(options, resolve_arch(options)));
  return cache_dir_ / (hex16(fnv1a64(key)) + ".rtc");
}

Compiled Compiler::compile(std::string_view source, std::string_view name, const Options& options) {
  const std::string arch = resolve_arch(options);
  const auto opts = nvrtc_options(options, arch);
  const std::string key = cache_key(source, name, opts);
  const std::filesystem::path path =
      cache_dir_.empty() ? std::filesystem::path() : cache_dir_ / (hex16(fnv1a64(key)) + ".rtc");

  std::error_code ec;
  if (!path.empty() && std::filesystem::exists(path, ec)) {
    Compiled cached;
    std::string why;
    try {
      why = decode(read_file(path), key, cached);
    } catch (const IoError& e) {
      why = e.what();
    }
    if (why.empty()) {
      cached.arch = arch;
      cached.from_cache = true;
      std::lock_guard lock(mutex_);
      ++stats_.hits;
      return cached;
    }
    std::fprintf(stderr, "gnm rtc: ignoring cache file %s (%s); recompiling\n",
                 path.string().c_str(), why.c_str());
    std::lock_guard lock(mutex_);
    ++stats_.rejected;
  }

  const auto t0 = std::chrono::steady_clock::now();
  Compiled c = run_nvrtc(source, name, arch, opts);
  const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - t0;
  const double ms = elapsed.count();
  bool write_failed = false;
  if (!path.empty()) {
    try {
      write_file_atomic(path, encode(key, c));
    } catch (const IoError&) {
      write_failed = true;  // a read-only or full cache costs a recompile next time, nothing more
    }
  }
  std::lock_guard lock(mutex_);
  ++stats_.misses;
  stats_.compile_ms += ms;
  if (write_failed) ++stats_.write_failures;
  return c;
}

Stats Compiler::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace gnm::cuda::rtc
