// Looking inside a SPIR-V module (7.4): its header, capabilities, addressing and memory model,
// and entry points — what separates an OpenCL kernel module from a Vulkan shader module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace chapter07 {

/// What a SPIR-V binary declares about itself.
struct SpirvInfo {
  std::uint32_t version = 0;              ///< Header word 1: 0x00010000 is SPIR-V 1.0.
  std::uint32_t generator = 0;            ///< Header word 2: tool id << 16 | tool version.
  std::uint32_t bound = 0;                ///< Header word 3: every result id is below it.
  std::vector<std::string> capabilities;  ///< OpCapability names ("Kernel", "Addresses", ...).
  std::string addressing;    ///< OpMemoryModel's addressing model ("Physical64", "Logical").
  std::string memory_model;  ///< OpMemoryModel's memory model ("OpenCL", "GLSL450", "Vulkan").
  std::vector<std::string> entry_points;  ///< "Kernel saxpy", "GLCompute main", ...
};

/// Decodes the header and the module-level instructions of a SPIR-V binary (little-endian words).
/// gnm::Error when it is not SPIR-V: too short, a size that is not a multiple of 4, the wrong magic
/// number, or an instruction that runs past the end.
SpirvInfo inspect_spirv(std::span<const std::byte> module);

/// "1.0" for 0x00010000.
std::string spirv_version_name(std::uint32_t version);

/// The generator's name from the SPIR-V registry for the tools this project meets
/// ("Khronos LLVM/SPIR-V Translator", "rust-gpu", ...), else "tool N".
std::string spirv_generator_name(std::uint32_t generator);

}  // namespace chapter07
