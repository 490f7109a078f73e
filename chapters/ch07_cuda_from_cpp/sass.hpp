// Reading cuobjdump's output (7.5): the SASS of each function, and a function's PTX body. Plain
// text processing, tested on the CPU against canned listings (tests/ch07/test_sass.cpp).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace chapter07 {

/// One SASS instruction as cuobjdump -sass prints it:
/// `/*0070*/                   SHFL.BFLY PT, R5, R2, 0x10, 0x1f ;   /* 0x0e001f0002057f89 */`.
struct SassInstruction {
  std::string offset;     ///< "0070": the byte offset in the function.
  std::string predicate;  ///< "@P0", "@!PT", or "" when unpredicated.
  std::string opcode;     ///< "SHFL.BFLY": the mnemonic with its modifiers.
  std::string text;       ///< The instruction without its offset and encoding comments.
};

/// The SASS of every function in a `cuobjdump -sass` listing, by function name (as cuobjdump
/// prints it after "Function :"). Functions that appear in several ELF images (several
/// architectures) keep the first listing.
std::map<std::string, std::vector<SassInstruction>> parse_sass(std::string_view listing);

/// How many instructions' opcodes start with `prefix` ("LDG.E.CONSTANT", "SHFL.BFLY", "HMMA")
/// — a prefix ending in '.' or a whole opcode; "LDG.E" also counts "LDG.E.CONSTANT".
int count_opcode(const std::vector<SassInstruction>& code, std::string_view prefix);

/// The body of PTX function `name` in a PTX text: from its `.entry name(` (or `.func`) line to the
/// next `.entry`/`.func` or the end; empty when there is none.
std::string ptx_function(std::string_view ptx, std::string_view name);

/// How many times `needle` occurs in `text`.
int count_occurrences(std::string_view text, std::string_view needle);

}  // namespace chapter07
