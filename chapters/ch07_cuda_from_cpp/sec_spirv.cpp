// 7.4 SPIR-V: the OpenCL C kernels of 7.3 compiled offline — clang to SPIR (LLVM bitcode for the
// spir64 target), llvm-spirv to SPIR-V — validated with spirv-val, looked inside, and loaded on
// every OpenCL device: as SPIR-V where the device takes it (Debian's PoCL 3.1 does not, and says
// so), else as SPIR bitcode, and from source for comparison. The build does the same steps
// (common/src/opencl/opencl.cmake) and embeds the results; this section runs the tools itself so
// that each step can be timed and seen.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/gemm.hpp"
#include "gnm/opencl/context.hpp"
#include "gnm/opencl/device.hpp"
#include "gnm/opencl/kernels.hpp"
#include "gnm/opencl/program.hpp"
#include "sections.hpp"
#include "spirv.hpp"
#include "tools.hpp"

#ifndef GNM_CH07_CLANG
#define GNM_CH07_CLANG ""
#endif
#ifndef GNM_CH07_LLVM_SPIRV
#define GNM_CH07_LLVM_SPIRV ""
#endif
#ifndef GNM_CH07_SPIRV_VAL
#define GNM_CH07_SPIRV_VAL ""
#endif

namespace chapter07 {
namespace {

namespace fs = std::filesystem;
namespace ocl = gnm::opencl;
using namespace gnm::cells;

constexpr double kUnitRoundoff = gnm::kEpsF32 / 2.0;

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<std::byte> read_bytes(const fs::path& path) {
  const std::string s = gnm::read_file(path);
  std::vector<std::byte> out(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::byte>(s[i]);
  return out;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

struct Offline {
  std::string name;  // "vector", "sgemm"
  std::vector<std::byte> spir, spirv;
  bool ok = false;
};

//! [offline_compile]
// OpenCL C → SPIR → SPIR-V for one kernel file, the way opencl.cmake does it, one row per step.
Offline compile_offline(const ocl::EmbeddedKernel& file, const fs::path& dir, const fs::path& clang,
                        const fs::path& llvm_spirv, const std::optional<fs::path>& spirv_val,
                        Table& t) {
  Offline out;
  out.name = std::string(file.name);
  const fs::path cl = dir / (out.name + ".cl");
  const fs::path bc = dir / (out.name + ".bc");
  const fs::path spv = dir / (out.name + ".spv");
  gnm::write_file_atomic(cl, file.source);
  // -O0 without optnone: the driver optimises anyway, and llvm-spirv 14 mistranslates some of
  // clang -O2's loops (see opencl.cmake).
  std::vector<std::string> to_spir{clang.string()};
  for (auto& w : split_words(ocl::kernel_build_options())) to_spir.push_back(w);
  for (const char* w :
       {"-target", "spir64", "-O0", "-Xclang", "-disable-O0-optnone", "-c", "-emit-llvm", "-o"}) {
    to_spir.emplace_back(w);
  }
  to_spir.push_back(bc.string());
  to_spir.push_back(cl.string());
  struct Step {
    const char* what;
    std::vector<std::string> argv;
    fs::path output;
  };
  std::vector<Step> steps{
      {"OpenCL C → SPIR (clang)", to_spir, bc},
      {"SPIR → SPIR-V 1.0 (llvm-spirv)",
       {llvm_spirv.string(), "--spirv-max-version=1.0", bc.string(), "-o", spv.string()},
       spv}};
  if (spirv_val) {
    steps.push_back({"validate (spirv-val)",
                     {spirv_val->string(), "--target-env", "opencl1.2", spv.string()},
                     fs::path()});
  }
  out.ok = true;
  for (const auto& step : steps) {
    const ToolRun run = run_tool(step.argv);
    std::error_code ec;
    const auto bytes = step.output.empty() ? std::uintmax_t{0} : fs::file_size(step.output, ec);
    const bool ok = run.exit_code == 0 && (step.output.empty() || (!ec && bytes > 0));
    t.add({str(out.name + ".cl"), str(step.what), num(run.elapsed_ms),
           step.output.empty() ? str("-") : integer(static_cast<std::int64_t>(ec ? 0 : bytes)),
           ok ? str("ok") : str("FAILED: " + last_line(run.output)), flag(ok)});
    out.ok = out.ok && ok;
    if (!ok) return out;
  }
  out.spir = read_bytes(bc);
  out.spirv = read_bytes(spv);
  return out;
}
//! [offline_compile]

// saxpy (the vector file) or the tiled SGEMM (the sgemm file) from `program`, against double
// references; true when every element is within its bound.
bool run_program(ocl::Context& ctx, const ocl::Program& program, const std::string& file) {
  if (file == "vector") {
    constexpr int n = 1000;
    std::vector<float> x(n), y(n);
    gnm::fill_uniform(x, 401, -1.0f, 1.0f);
    gnm::fill_uniform(y, 402, -1.0f, 1.0f);
    ocl::Buffer<float> dx(ctx, std::span<const float>(x)), dy(ctx, std::span<const float>(y));
    ocl::Kernel k(program, "saxpy");
    k.set_arg(0, n);
    k.set_arg(1, 3.0f);
    k.set_arg(2, dx);
    k.set_arg(3, dy);
    k.launch(ocl::Range(1024), ocl::Range(ocl::kSaxpyGroup)).wait();
    const auto out = dy.to_vector();
    for (int i = 0; i < n; ++i) {
      const double ref = 3.0 * static_cast<double>(x[i]) + static_cast<double>(y[i]);
      if (!(std::fabs(static_cast<double>(out[i]) - ref) <= 2 * kUnitRoundoff * 4.0)) return false;
    }
    return true;
  }
  constexpr int M = 37, N = 41, K = 29;  // none a multiple of the 16×16 tile
  std::vector<float> A(M * K), B(K * N);
  gnm::fill_uniform(A, 403, -1.0f, 1.0f);
  gnm::fill_uniform(B, 404, -1.0f, 1.0f);
  std::vector<double> ref(M * N), mass(M * N);
  gnm::cpu::sgemm_reference(M, N, K, A.data(), K, B.data(), N, ref, mass);
  ocl::Buffer<float> da(ctx, std::span<const float>(A)), db(ctx, std::span<const float>(B));
  ocl::Buffer<float> dc(ctx, static_cast<std::size_t>(M * N));
  ocl::Kernel k(program, "sgemm_tiled");
  k.set_arg(0, M);
  k.set_arg(1, N);
  k.set_arg(2, K);
  k.set_arg(3, 1.0f);
  k.set_arg(4, da);
  k.set_arg(5, db);
  k.set_arg(6, 0.0f);
  k.set_arg(7, dc);
  k.launch(ocl::Range(48, 48), ocl::Range(ocl::kSgemmTile, ocl::kSgemmTile)).wait();
  const auto out = dc.to_vector();
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double bound = (K + 3) * kUnitRoundoff * mass[i] + 1e-30;
    if (!(std::fabs(static_cast<double>(out[i]) - ref[i]) <= bound)) return false;
  }
  return true;
}

//! [load_forms]
// Loads one offline-compiled file on one device in each form. A form the device does not take
// must be refused with NotImplemented (and is then "verified": the refusal is the right answer);
// a form it takes must run correctly.
void load_forms(const ocl::DeviceInfo& device, const Offline& off, Table& t, Section& s) {
  ocl::Context ctx(device);
  const std::string& label = device.name;
  struct Form {
    const char* name;
    const char* api;
    bool accepted;
  };
  const Form forms[] = {
      {"SPIR-V 1.0", "clCreateProgramWithIL", device.accepts_spirv()},
      {"SPIR 1.2 bitcode", "clCreateProgramWithBinary -x spir", device.accepts_spir()},
      {"OpenCL C source", "clCreateProgramWithSource", true},
  };
  for (const auto& f : forms) {
    std::string result;
    bool ok = false;
    try {
      const std::string form = f.name;
      const ocl::Program program =
          form == "SPIR-V 1.0" ? ocl::Program::from_spirv(ctx, off.spirv)
          : form == "SPIR 1.2 bitcode"
              ? ocl::Program::from_spir(ctx, off.spir)
              : ocl::Program::from_source(ctx, ocl::embedded_kernel(off.name).source,
                                          ocl::kernel_build_options());
      ok = f.accepted && run_program(ctx, program, off.name);
      result = ok ? "loaded, results match" : "loaded, WRONG results";
    } catch (const gnm::NotImplemented& e) {
      ok = !f.accepted;  // refusing what the device does not list is correct
      // The message's first sentence names the reason ("... accepts no SPIR-V: ... is empty.").
      const std::string what = e.what();
      const auto stop = what.find(". ");
      result = "not accepted: " + (stop == std::string::npos ? what : what.substr(0, stop + 1));
    } catch (const gnm::Error& e) {
      result = std::string("FAILED: ") + e.what();
    }
    // The engine's messages end with " [file:line]"; the table keeps the first line only.
    result = split_lines(result).front();
    t.add({str(label), str(off.name + ".cl"), str(f.name), str(f.api), str(result), flag(ok)});
    s.verified = s.verified && ok;
  }
}
//! [load_forms]

Section skipped(const char* title, const std::string& why) {
  std::printf("%s skipped: %s\n", title, why.c_str());
  Table t(title, {"status"});
  t.add({str("skipped: " + why)});
  Section s;
  s.json = t.json_member();
  return s;
}

}  // namespace

Section run_spirv(const Config& /*cfg*/) {
  const auto clang = find_tool("clang-14", "GNM_CLANG", GNM_CH07_CLANG);
  const auto llvm_spirv = find_tool("llvm-spirv-14", "GNM_LLVM_SPIRV", GNM_CH07_LLVM_SPIRV);
  const auto spirv_val = find_tool("spirv-val", "GNM_SPIRV_VAL", GNM_CH07_SPIRV_VAL);
  if (!clang || !llvm_spirv) {
    return skipped("7.4 offline compile",
                   "clang-14 and llvm-spirv-14 not found (Debian packages clang-14 llvm-spirv-14 "
                   "spirv-tools; scripts/setup.sh installs them)");
  }
  Section s;
  TempDir dir("spirv");
  Table steps("7.4 offline compile", {"file", "step", "ms", "bytes", "result", "verified"});
  std::vector<Offline> modules;
  for (const auto& file : ocl::embedded_kernels()) {
    modules.push_back(compile_offline(file, dir.path(), *clang, *llvm_spirv, spirv_val, steps));
    s.verified = s.verified && modules.back().ok;
  }
  if (!spirv_val)
    steps.add({str("-"), str("validate (spirv-val)"), str("-"), str("-"),
               str("skipped: spirv-val not found (spirv-tools)"), flag(true)});
  s.add(steps);

  //! [inspect_spirv]
  Table inside("7.4 SPIR-V modules", {"file", "bytes", "SPIR-V", "generator", "memory model",
                                      "capabilities", "entry points", "verified"});
  for (const auto& m : modules) {
    if (!m.ok) continue;
    const SpirvInfo info = inspect_spirv(m.spirv);
    const std::string entries = join(info.entry_points, ", ");
    // An OpenCL module: Kernel capability, physical 64-bit pointers, the OpenCL memory model, and
    // every __kernel as a Kernel entry point.
    bool ok = info.addressing == "Physical64" && info.memory_model == "OpenCL";
    for (const char* want : {"Kernel saxpy", "Kernel sgemm_naive", "Kernel sgemm_tiled"}) {
      const bool in_this_file = (m.name == "vector") == (std::string(want) == "Kernel saxpy");
      if (in_this_file) ok = ok && entries.find(want) != std::string::npos;
    }
    inside.add({str(m.name + ".spv"), integer(static_cast<std::int64_t>(m.spirv.size())),
                str(spirv_version_name(info.version)), str(spirv_generator_name(info.generator)),
                str(info.addressing + " / " + info.memory_model), str(join(info.capabilities, " ")),
                str(entries), flag(ok)});
    s.verified = s.verified && ok;
  }
  s.add(inside);
  //! [inspect_spirv]

  std::vector<ocl::DeviceInfo> devices;
  try {
    devices = ocl::devices();
  } catch (const gnm::NotImplemented&) {
  }
  if (devices.empty()) {
    merge(s, skipped("7.4 loading", "no OpenCL device (install pocl-opencl-icd)"));
    return s;
  }
  Table loading("7.4 loading", {"device", "file", "form", "API", "result", "verified"});
  for (const auto& d : devices) {
    for (const auto& m : modules) {
      if (m.ok) load_forms(d, m, loading, s);
    }
  }
  s.add(loading);
  return s;
}

}  // namespace chapter07
