// Chapter 7's readers of tool output, on the CPU: the cuobjdump SASS and PTX listings of 7.5 (on
// canned text, since the toolkit's cuobjdump is not everywhere), the SPIR-V inspector of 7.4 (on
// a hand-made module and on the engine's embedded SPIR-V), and the tool runner.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/opencl/kernels.hpp"
#include "sass.hpp"
#include "spirv.hpp"
#include "tools.hpp"

namespace {

using namespace chapter07;

// What `cuobjdump -sass -fun f,g binary` prints (abridged from a real sm_90 listing): two ELF
// images, the second repeating f, encoding words on continuation lines, a warning on stderr.
constexpr const char* kListing = R"sass(
Fatbin elf code:
================
arch = sm_90
code version = [1,8]
host = linux
compile_size = 64bit

	code for sm_90
		Function : gnm_ch07_warp_sum
	.headerflags	@"EF_CUDA_64BIT_ADDRESS EF_CUDA_SM90 EF_CUDA_VIRTUAL_SM(EF_CUDA_SM90)"
        /*0000*/                   LDC R1, c[0x0][0x28] ;              /* 0x00000a00ff017b82 */
                                                                       /* 0x000fe20000000800 */
        /*0050*/                   LDG.E R2, desc[UR4][R2.64] ;        /* 0x0000000402027981 */
                                                                       /* 0x000ea2000c1e1900 */
        /*0070*/                   SHFL.BFLY PT, R5, R2, 0x10, 0x1f ;  /* 0x0e001f0002057f89 */
                                                                       /* 0x004e2400000e0000 */
        /*0080*/                   FADD R5, R2, R5 ;                   /* 0x0000000502057221 */
        /*0090*/                   SHFL.BFLY PT, R0, R5, 0x8, 0x1f ;   /* 0x0d001f0005007f89 */
        /*00a0*/              @!P0 EXIT ;                              /* 0x000000000000894d */
        /*00b0*/                   BRA 0xb0;                           /* 0xfffffffc00fc7947 */
        /*00c0*/                   NOP;                                /* 0x0000000000007918 */
		..........

		Function : gnm_ch07_scale_nc
        /*0040*/                   LDG.E.CONSTANT R2, desc[UR4][R2.64] ;   /* 0x0000000402027981 */
        /*0050*/                   LDG.E R3, desc[UR4][R4.64] ;            /* 0x0000000404037981 */
        /*0060*/                   LDG.EL R3, desc[UR4][R4.64] ;           /* 0x0000000404037981 */
cuobjdump warning : Function listed in --function 'gnm_ch07_scale_nc' not found

Fatbin elf code:
================
	code for sm_90
		Function : gnm_ch07_warp_sum
        /*0000*/                   EXIT ;                              /* 0x000000000000794d */
)sass";

TEST(Ch07Sass, ParsesFunctionsAndInstructions) {
  const auto fns = parse_sass(kListing);
  ASSERT_EQ(fns.size(), 2u);
  const auto& sum = fns.at("gnm_ch07_warp_sum");
  // The first image's listing is kept; continuation lines and headers are not instructions.
  ASSERT_EQ(sum.size(), 8u);
  EXPECT_EQ(sum[0].offset, "0000");
  EXPECT_EQ(sum[0].opcode, "LDC");
  EXPECT_EQ(sum[0].text, "LDC R1, c[0x0][0x28]");
  EXPECT_EQ(sum[2].opcode, "SHFL.BFLY");
  EXPECT_EQ(sum[2].text, "SHFL.BFLY PT, R5, R2, 0x10, 0x1f");
  EXPECT_EQ(sum[5].predicate, "@!P0");
  EXPECT_EQ(sum[5].opcode, "EXIT");
  EXPECT_EQ(sum[6].opcode, "BRA");
  EXPECT_EQ(sum[7].opcode, "NOP");
  EXPECT_EQ(count_opcode(sum, "SHFL.BFLY"), 2);
  EXPECT_EQ(count_opcode(sum, "SHFL"), 2);
  EXPECT_EQ(count_opcode(sum, "HMMA"), 0);
}

TEST(Ch07Sass, OpcodePrefixesStopAtModifiers) {
  const auto fns = parse_sass(kListing);
  const auto& nc = fns.at("gnm_ch07_scale_nc");
  ASSERT_EQ(nc.size(), 3u);
  EXPECT_EQ(count_opcode(nc, "LDG.E.CONSTANT"), 1);
  EXPECT_EQ(count_opcode(nc, "LDG.E"), 2);  // LDG.E and LDG.E.CONSTANT, not LDG.EL
  EXPECT_EQ(count_opcode(nc, "LDG"), 3);
  EXPECT_EQ(count_opcode(nc, "LDG.E."), 1);
  EXPECT_EQ(count_opcode(nc, "LD"), 0);  // not a whole mnemonic
}

TEST(Ch07Sass, EmptyOrForeignTextGivesNothing) {
  EXPECT_TRUE(parse_sass("").empty());
  EXPECT_TRUE(parse_sass("cuobjdump info : File 'x' does not contain device code\n").empty());
}

TEST(Ch07Ptx, FindsAFunctionBodyByItsWholeName) {
  const std::string ptx =
      ".version 9.0\n.target sm_90\n"
      ".visible .entry gnm_ch07_scale_nc_extra(\n.param .u64 p\n)\n{\nret;\n}\n"
      ".visible .entry gnm_ch07_scale_nc(\n.param .u64 p\n)\n{\n"
      "ld.global.nc.f32 %f1, [%rd3];\nret;\n}\n"
      ".visible .entry gnm_ch07_warp_sum(\n)\n{\nshfl.sync.bfly.b32 %f2, %f3, %r1, 0x1f, -1;\n}\n";
  const std::string body = ptx_function(ptx, "gnm_ch07_scale_nc");
  ASSERT_FALSE(body.empty());
  EXPECT_EQ(body.rfind(".entry gnm_ch07_scale_nc(", 0), 0u) << body;
  EXPECT_EQ(count_occurrences(body, "ld.global.nc.f32 "), 1);
  EXPECT_EQ(count_occurrences(body, "shfl.sync"), 0);  // ends at the next .entry
  EXPECT_EQ(count_occurrences(ptx_function(ptx, "gnm_ch07_warp_sum"), "shfl.sync.bfly.b32 "), 1);
  EXPECT_TRUE(ptx_function(ptx, "gnm_ch07_mma_tf32").empty());
  EXPECT_TRUE(ptx_function(ptx, "gnm_ch07_scale").empty());  // a prefix is not a name
  EXPECT_EQ(count_occurrences("aaaa", "aa"), 2);
  EXPECT_EQ(count_occurrences("abc", ""), 0);
}

// A minimal OpenCL-flavoured SPIR-V module, word by word.
std::vector<std::byte> module_bytes(const std::vector<std::uint32_t>& words) {
  std::vector<std::byte> out(words.size() * 4);
  std::memcpy(out.data(), words.data(), out.size());
  return out;
}

TEST(Ch07Spirv, DecodesTheHeaderAndModuleInstructions) {
  const std::uint32_t name_saxpy = 's' | ('a' << 8) | ('x' << 16) | ('p' << 24);
  const std::uint32_t name_tail = 'y';  // "saxpy\0" padded to two words
  const auto bytes = module_bytes({
      0x07230203, 0x00010000, (6u << 16) | 14u, 42, 0,  // header: SPIR-V 1.0, translator, bound
      (2u << 16) | 17, 4,                               // OpCapability Addresses
      (2u << 16) | 17, 6,                               // OpCapability Kernel
      (3u << 16) | 14, 2, 2,                            // OpMemoryModel Physical64 OpenCL
      (5u << 16) | 15, 6, 7, name_saxpy, name_tail,     // OpEntryPoint Kernel %7 "saxpy"
  });
  const SpirvInfo info = inspect_spirv(bytes);
  EXPECT_EQ(spirv_version_name(info.version), "1.0");
  EXPECT_EQ(spirv_generator_name(info.generator), "Khronos LLVM/SPIR-V Translator");
  EXPECT_EQ(info.bound, 42u);
  EXPECT_EQ(info.capabilities, (std::vector<std::string>{"Addresses", "Kernel"}));
  EXPECT_EQ(info.addressing, "Physical64");
  EXPECT_EQ(info.memory_model, "OpenCL");
  EXPECT_EQ(info.entry_points, (std::vector<std::string>{"Kernel saxpy"}));
  EXPECT_EQ(spirv_generator_name(27u << 16), "Embark Rust GPU");
  EXPECT_EQ(spirv_generator_name(999u << 16), "tool 999");
}

TEST(Ch07Spirv, RejectsWhatIsNotSpirv) {
  EXPECT_THROW((void)inspect_spirv(module_bytes({1, 2, 3, 4, 5})), gnm::Error);  // magic
  EXPECT_THROW((void)inspect_spirv(module_bytes({0x07230203, 0x10000, 0, 1})), gnm::Error);
  auto odd = module_bytes({0x07230203, 0x10000, 0, 1, 0});
  odd.pop_back();
  EXPECT_THROW((void)inspect_spirv(odd), gnm::Error);  // not whole words
  // An instruction claiming 9 words where 2 are left.
  EXPECT_THROW(
      (void)inspect_spirv(module_bytes({0x07230203, 0x10000, 0, 1, 0, (9u << 16) | 17, 6})),
      gnm::Error);
  EXPECT_THROW((void)inspect_spirv(module_bytes({0x07230203, 0x10000, 0, 1, 0, 17})),
               gnm::Error);  // a word count of 0 would loop forever
}

TEST(Ch07Spirv, TheEngineEmbeddedModulesAreOpenClKernels) {
  const auto& vector = gnm::opencl::embedded_kernel("vector");
  const auto& sgemm = gnm::opencl::embedded_kernel("sgemm");
  if (vector.spirv.empty()) {
    GTEST_SKIP() << "built without the offline toolchain (Debian: clang-14 llvm-spirv-14)";
  }
  const SpirvInfo v = inspect_spirv(vector.spirv);
  EXPECT_EQ(spirv_version_name(v.version), "1.0");
  EXPECT_EQ(v.addressing, "Physical64");
  EXPECT_EQ(v.memory_model, "OpenCL");
  EXPECT_EQ(v.entry_points, (std::vector<std::string>{"Kernel saxpy"}));
  const SpirvInfo g = inspect_spirv(sgemm.spirv);
  EXPECT_EQ(g.entry_points.size(), 2u);
  bool kernel_cap = false;
  for (const auto& c : g.capabilities) kernel_cap = kernel_cap || c == "Kernel";
  EXPECT_TRUE(kernel_cap);
}

TEST(Ch07Tools, RunsACommandAndCapturesBothStreams) {
  const auto sh = find_tool("sh", "GNM_CH07_TEST_NO_SUCH_VARIABLE", "");
  ASSERT_TRUE(sh.has_value());
  const ToolRun run = run_tool({sh->string(), "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_NE(run.output.find("out\n"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("err\n"), std::string::npos) << run.output;
  EXPECT_GE(run.elapsed_ms, 0.0);
  EXPECT_THROW((void)run_tool({"/nonexistent/gnm-tool"}), gnm::Error);
  EXPECT_THROW((void)run_tool({}), gnm::Error);
  EXPECT_FALSE(find_tool("gnm-no-such-tool-anywhere", "GNM_CH07_TEST_NO_SUCH_VARIABLE", "/nope"));
}

TEST(Ch07Tools, TempDirIsRemovedWithItsContents) {
  std::filesystem::path kept;
  {
    TempDir dir("test");
    kept = dir.path();
    ASSERT_TRUE(std::filesystem::is_directory(kept));
    std::filesystem::create_directories(kept / "a" / "b");
  }
  EXPECT_FALSE(std::filesystem::exists(kept));
}

TEST(Ch07Tools, LinesAndTrim) {
  EXPECT_EQ(split_lines("a\r\nb\n\nc"), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_TRUE(split_lines("").empty());
  EXPECT_EQ(trim("  x y \t\n"), "x y");
  EXPECT_EQ(trim(" \n"), "");
  EXPECT_EQ(last_line("a\nCuda compilation tools, release 13.1\n\n"),
            "Cuda compilation tools, release 13.1");
  EXPECT_EQ(last_line(""), "");
}

}  // namespace
