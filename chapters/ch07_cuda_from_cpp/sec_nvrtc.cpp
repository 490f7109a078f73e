// 7.2 The driver API and NVRTC: a kernel that exists only as a string (exercise 7.1) is compiled
// at run time to PTX and to a cubin, through the engine's disk cache (first compile against
// cache hit, the cache file and its key), and on a GPU loaded with the driver API and launched.
// NVRTC needs no GPU, so everything up to the launch runs on any machine with the toolkit.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "gnm/core/random.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/device.hpp"
#include "gnm/cuda/driver.hpp"
#include "gnm/cuda/rtc.hpp"
#include "gnm/cuda/stream.hpp"
#include "nvrtc_launch.hpp"
#include "sections.hpp"
#include "tools.hpp"

namespace chapter07 {
namespace {

namespace fs = std::filesystem;
namespace rtc = gnm::cuda::rtc;
namespace driver = gnm::cuda::driver;
using namespace gnm::cells;

constexpr int kBlock = 256;

// The PTX lines a reader looks at first: the ISA version, the target, the entry and its
// parameters and launch bounds.
std::vector<std::string> ptx_header_lines(const std::string& ptx) {
  std::vector<std::string> out;
  for (const auto& raw : split_lines(ptx)) {
    const std::string line = trim(raw);
    if (line.rfind(".version", 0) == 0 || line.rfind(".target", 0) == 0 ||
        line.rfind(".address_size", 0) == 0 || line.find(".entry") != std::string::npos ||
        line.rfind(".param", 0) == 0 || line.rfind(".maxntid", 0) == 0) {
      out.push_back(line);
    }
  }
  return out;
}

struct CompileRow {
  rtc::Compiled code;
  bool verified = false;
  double first_ms = 0;  // NVRTC itself (on a fresh cache directory)
  double hit_ms = 0;    // reading the cache file back
};

//! [cache_timing]
// Compiles `k` twice with two Compiler objects on the same directory: the first runs NVRTC (on a
// fresh directory), the second finds the file the first wrote. Nothing is cached in memory, so
// the second compile is what a second run of the program sees.
CompileRow compile_twice(const gnm::ch07::RtcKernel& k, const fs::path& dir, bool fresh,
                         Table& table) {
  rtc::Compiler first(dir);
  gnm::HostTimer t1;
  CompileRow row{first.compile(k.source, k.name, k.options)};
  row.first_ms = t1.elapsed_ms();
  rtc::Compiler second(dir);
  gnm::HostTimer t2;
  const rtc::Compiled again = second.compile(k.source, k.name, k.options);
  row.hit_ms = t2.elapsed_ms();
  const fs::path file = first.cache_path(k.source, k.name, k.options);
  std::error_code ec;
  row.verified = again.from_cache && again.image == row.code.image &&
                 (!fresh || !row.code.from_cache) && fs::exists(file, ec);
  table.add({str(k.options.arch), str(row.code.kind == rtc::CodeKind::ptx ? "PTX" : "cubin"),
             num(row.first_ms), num(row.hit_ms),
             integer(static_cast<std::int64_t>(row.code.image.size())),
             str(file.filename().string()), flag(row.verified)});
  return row;
}
//! [cache_timing]

// How the cache file's name (the FNV-1a hash of source, name, options and NVRTC version) moves
// when one input changes: every change must give another file.
bool cache_key_table(const fs::path& dir, Section& s) {
  rtc::Compiler compiler(dir);
  const auto base = gnm::ch07::make_axpby_kernel("compute_90", kBlock);
  const fs::path base_file = compiler.cache_path(base.source, base.name, base.options);
  Table t("7.2 cache keys", {"change", "cache file", "new file"});
  t.add({str("none"), str(base_file.filename().string()), str("-")});
  bool all_new = true;
  auto variant = [&](const char* what, gnm::ch07::RtcKernel k) {
    const fs::path f = compiler.cache_path(k.source, k.name, k.options);
    const bool differs = f != base_file;
    all_new = all_new && differs;
    t.add({str(what), str(f.filename().string()), flag(differs)});
  };
  variant("block 128 (-DGNM_BLOCK=128)", gnm::ch07::make_axpby_kernel("compute_90", 128));
  variant("target compute_80", gnm::ch07::make_axpby_kernel("compute_80", kBlock));
  auto fast = base;
  fast.options.fast_math = true;
  variant("--use_fast_math", fast);
  auto edited = base;
  edited.source += "\n// one more line\n";
  variant("a comment added to the source", edited);
  auto renamed = base;
  renamed.name = "other.cu";
  variant("program name", renamed);
  s.add(t);
  return all_new;
}

//! [driver_launch]
// Loads `image` with the driver API and runs y = a x + b y on n elements: verified once against a
// double reference, then timed with CUDA events (median of `repeats` after a warm-up).
void launch_and_time(const rtc::Compiled& code, std::int64_t n, int repeats, Table& table,
                     Section& s) {
  gnm::HostTimer load_timer;
  const driver::Module module = driver::Module::load(code.image);  // PTX: the driver JITs it here
  const double load_ms = load_timer.elapsed_ms();
  const CUfunction f = module.function(gnm::ch07::kAxpbyEntry);

  const float a = 2.0f, b = 0.5f;
  std::vector<float> x(static_cast<std::size_t>(n)), y(x.size());
  gnm::fill_uniform(x, 71, -1.0f, 1.0f);
  gnm::fill_uniform(y, 72, -1.0f, 1.0f);
  std::vector<double> ref(x.size());
  for (std::size_t i = 0; i < ref.size(); ++i) {
    ref[i] = static_cast<double>(a) * static_cast<double>(x[i]) +
             static_cast<double>(b) * static_cast<double>(y[i]);
  }
  gnm::cuda::DeviceBuffer<float> d_x(x.size()), d_y(y.size());
  d_x.copy_from_host(x);
  d_y.copy_from_host(y);
  const auto config = gnm::ch07::axpby_launch_config(n, kBlock);
  gnm::ch07::launch_axpby(f, config, n, a, d_x.data(), b, d_y.data());
  driver::synchronize();
  std::vector<float> out(y.size());
  d_y.copy_to_host(out);
  // fmaf(a, x, fl(b y)): two roundings of terms below |a| + |b| (see the exercise's GPU test).
  const gnm::Tolerance tol{gnm::kEpsF32 * static_cast<double>(std::fabs(a) + std::fabs(b)),
                           gnm::kEpsF32};
  const auto cmp = gnm::compare(out, ref, tol);
  if (!cmp.ok) std::printf("7.2 %s: %s\n", code.arch.c_str(), cmp.report.c_str());

  // Timing rewrites y each time (y ← a x + b y stays bounded for |b| < 1).
  gnm::cuda::Event start, stop;
  std::vector<double> ms;
  for (int r = -1; r < repeats; ++r) {  // r == -1: warm-up
    start.record();
    gnm::ch07::launch_axpby(f, config, n, a, d_x.data(), b, d_y.data());
    stop.record();
    stop.synchronize();
    if (r >= 0) ms.push_back(gnm::cuda::Event::elapsed_ms(start, stop));
  }
  const double median = gnm::summarize(ms).median_ms;
  const double gbs = 12.0 * static_cast<double>(n) / (median * 1e6);  // read x, y; write y
  table.add({str(code.kind == rtc::CodeKind::ptx ? "PTX (JIT at load)" : "cubin"), str(code.arch),
             num(load_ms), num(median, 4), num(gbs, 4), sci(cmp.max_abs_error), flag(cmp.ok)});
  s.verified = s.verified && cmp.ok;
  s.figures.emplace_back("7.2 axpby GB/s (" + code.arch + ")", gbs);
}
//! [driver_launch]

}  // namespace

Section run_nvrtc(const Config& cfg) {
  Section s;
  if (!rtc::nvrtc_available()) {
    Table t("7.2 NVRTC compile", {"status"});
    t.add(
        {str("skipped: NVRTC is not available (libnvrtc.so from the CUDA toolkit; "
             "GNM_NVRTC_LIBRARY names another path)")});
    s.add(t);
    return s;
  }
  // A fresh directory unless --cache-dir: the first compile must really run NVRTC.
  std::optional<TempDir> temp;
  fs::path dir = cfg.cache_dir;
  const bool fresh = dir.empty();
  if (fresh) {
    temp.emplace("rtc");
    dir = temp->path();
  }
  std::printf("NVRTC %s, cache directory %s%s\n", rtc::nvrtc_version().c_str(),
              dir.string().c_str(), fresh ? " (fresh, removed at exit)" : "");

  Table compile_table("7.2 NVRTC compile", {"target", "output", "first compile ms", "cache hit ms",
                                            "bytes", "cache file", "verified"});
  std::vector<std::string> archs{"compute_90", "sm_90"};
  const auto report = gnm::cuda::query_devices();
  if (!report.devices.empty()) {
    // The device's own targets too, when it is not a Hopper.
    for (const std::string prefix : {"compute", "sm"}) {
      const std::string a = driver::device_arch(0, prefix);
      if (std::find(archs.begin(), archs.end(), a) == archs.end()) archs.push_back(a);
    }
  }
  std::vector<rtc::Compiled> codes;
  for (const auto& arch : archs) {
    const CompileRow row =
        compile_twice(gnm::ch07::make_axpby_kernel(arch, kBlock), dir, fresh, compile_table);
    s.verified = s.verified && row.verified;
    s.figures.emplace_back("7.2 NVRTC compile ms (" + arch + ")", row.first_ms);
    s.figures.emplace_back("7.2 cache hit ms (" + arch + ")", row.hit_ms);
    codes.push_back(row.code);
  }
  s.add(compile_table);

  // What the PTX says about the kernel.
  Table ptx_table("7.2 PTX", {"line"});
  bool has_target = false, has_entry = false;
  for (const auto& line : ptx_header_lines(codes.front().image)) {
    ptx_table.add({str(line)});
    has_target = has_target || line == ".target sm_90";
    has_entry = has_entry || line.find(".entry gnm_axpby(") != std::string::npos;
  }
  s.add(ptx_table);
  if (!has_target || !has_entry) {
    std::printf("7.2: the PTX lacks '.target sm_90' or '.entry gnm_axpby('\n");
    s.verified = false;
  }
  s.verified = cache_key_table(dir, s) && s.verified;

  if (auto skip = skip_without_gpu("7.2 driver API launch")) {
    merge(s, *skip);
    return s;
  }
  // On a device: its own PTX and cubin (JIT-compiled at load and native).
  const std::int64_t n = cfg.quick ? (std::int64_t{1} << 20) : (std::int64_t{1} << 26);
  Table launch_table("7.2 driver API launch",
                     {"image", "arch", "load ms", "kernel ms", "GB/s", "max error", "verified"});
  for (const std::string prefix : {"compute", "sm"}) {
    const auto k = gnm::ch07::make_axpby_kernel(driver::device_arch(0, prefix), kBlock);
    rtc::Compiler compiler(dir);
    launch_and_time(compiler.compile(k.source, k.name, k.options), n, cfg.repeats(20, 3),
                    launch_table, s);
  }
  s.add(launch_table);
  return s;
}

}  // namespace chapter07
