// Decoding SPIR-V's module-level instructions (see spirv.hpp). The numbers are the SPIR-V
// specification's enumerants; only the ones this chapter prints are named.
#include "spirv.hpp"

#include <cstring>

#include "gnm/core/check.hpp"

namespace chapter07 {
namespace {

constexpr std::uint32_t kMagic = 0x07230203;
constexpr std::uint32_t kOpMemoryModel = 14;
constexpr std::uint32_t kOpEntryPoint = 15;
constexpr std::uint32_t kOpCapability = 17;

std::string capability_name(std::uint32_t c) {
  switch (c) {
    case 0: return "Matrix";
    case 1: return "Shader";     // Vulkan / OpenGL: what shader compilers (and Rust-GPU) emit
    case 4: return "Addresses";  // physical pointers: OpenCL
    case 5: return "Linkage";
    case 6: return "Kernel";  // OpenCL kernels
    case 7: return "Vector16";
    case 8: return "Float16Buffer";
    case 9: return "Float16";
    case 10: return "Float64";
    case 11: return "Int64";
    case 18: return "Groups";
    case 22: return "Int16";
    case 38: return "GenericPointer";
    case 39: return "Int8";
    default: return "capability " + std::to_string(c);
  }
}

std::string addressing_name(std::uint32_t a) {
  switch (a) {
    case 0: return "Logical";  // no pointer arithmetic: Vulkan shaders
    case 1: return "Physical32";
    case 2: return "Physical64";  // 64-bit pointers: OpenCL on 64-bit devices
    case 5348: return "PhysicalStorageBuffer64";
    default: return "addressing " + std::to_string(a);
  }
}

std::string memory_model_name(std::uint32_t m) {
  switch (m) {
    case 0: return "Simple";
    case 1: return "GLSL450";
    case 2: return "OpenCL";
    case 3: return "Vulkan";
    default: return "memory model " + std::to_string(m);
  }
}

std::string execution_model_name(std::uint32_t e) {
  switch (e) {
    case 0: return "Vertex";
    case 4: return "Fragment";
    case 5: return "GLCompute";  // a Vulkan compute shader
    case 6: return "Kernel";     // an OpenCL kernel
    default: return "model " + std::to_string(e);
  }
}

// A literal string operand: UTF-8 bytes, NUL-terminated, padded to whole words.
std::string literal_string(const std::vector<std::uint32_t>& words, std::size_t first,
                           std::size_t end) {
  std::string s;
  for (std::size_t w = first; w < end; ++w) {
    for (int b = 0; b < 4; ++b) {
      const char c = static_cast<char>((words[w] >> (8 * b)) & 0xffu);
      if (c == '\0') return s;
      s.push_back(c);
    }
  }
  return s;
}

}  // namespace

SpirvInfo inspect_spirv(std::span<const std::byte> module) {
  GNM_CHECK(module.size() >= 20 && module.size() % 4 == 0,
            "a SPIR-V module is a whole number of 32-bit words, at least the 5-word header",
            module.size());
  std::vector<std::uint32_t> words(module.size() / 4);
  std::memcpy(words.data(), module.data(), module.size());  // SPIR-V files are little-endian
  GNM_CHECK(words[0] == kMagic, "not SPIR-V: wrong magic number (want 0x07230203)", words[0]);
  SpirvInfo info;
  info.version = words[1];
  info.generator = words[2];
  info.bound = words[3];
  for (std::size_t at = 5; at < words.size();) {
    const std::uint32_t count = words[at] >> 16;
    const std::uint32_t opcode = words[at] & 0xffffu;
    GNM_CHECK(count >= 1 && at + count <= words.size(),
              "malformed SPIR-V: an instruction runs past the end", at, count);
    if (opcode == kOpCapability && count >= 2) {
      info.capabilities.push_back(capability_name(words[at + 1]));
    } else if (opcode == kOpMemoryModel && count >= 3) {
      info.addressing = addressing_name(words[at + 1]);
      info.memory_model = memory_model_name(words[at + 2]);
    } else if (opcode == kOpEntryPoint && count >= 4) {
      info.entry_points.push_back(execution_model_name(words[at + 1]) + " " +
                                  literal_string(words, at + 3, at + count));
    }
    at += count;
  }
  return info;
}

std::string spirv_version_name(std::uint32_t version) {
  return std::to_string((version >> 16) & 0xffu) + "." + std::to_string((version >> 8) & 0xffu);
}

std::string spirv_generator_name(std::uint32_t generator) {
  const std::uint32_t tool = generator >> 16;
  switch (tool) {
    case 6: return "Khronos LLVM/SPIR-V Translator";
    case 7: return "Khronos SPIR-V Tools Assembler";
    case 8: return "Khronos Glslang";
    case 21: return "Google Clspv";
    case 27: return "Embark Rust GPU";
    case 28: return "gfx-rs Naga";
    default: return "tool " + std::to_string(tool);
  }
}

}  // namespace chapter07
