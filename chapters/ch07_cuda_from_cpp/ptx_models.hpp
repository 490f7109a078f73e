// Host models of the four PTX instructions in ptx_kernels.cuh, for the host CUDA emulator
// (tests/emu/cuda_host_emulator.hpp, included first). Each is written from the PTX ISA's
// description of the instruction, not from the kernels that use it, so that running the kernels
// through these models checks the kernels' indexing against our reading of the ISA. What they
// cannot show: the real instructions' behaviour where our reading is wrong, and the hardware's
// accumulation order and rounding inside mma (unspecified by the ISA; tests use a tolerance).
#pragma once

#if !defined(GNM_CUDA_HOST_EMULATOR)
#error "ptx_models.hpp is for the host emulator: include cuda_host_emulator.hpp first"
#endif

#include <bit>
#include <cstdint>
#include <string>

namespace chapter07::ptx_model {

/// ld.global.nc.f32: on the host every load is coherent, so the read-only path is a plain load.
inline float ld_nc(const float* p) { return *p; }

/// shfl.sync.bfly.b32 d, v, offset, 0x1f, 0xffffffff: the value of lane (lane XOR offset) of the
/// whole warp (clamp 0x1f: one 32-lane segment), all 32 lanes taking part: the emulator's
/// __shfl_xor_sync with width 32.
inline float shfl_bfly(float v, int offset) { return __shfl_xor_sync(0xffffffffu, v, offset, 32); }

/// cvt.rna.tf32.f32: x rounded to tf32 (1 sign, 8 exponent, 10 mantissa bits) to nearest, ties
/// away from zero, returned as the .b32 bit pattern of an fp32 value whose low 13 bits are 0.
/// Rounding the magnitude is integer arithmetic on the bits: adding half a tf32 ulp (bit 12) to
/// the sign-magnitude pattern and truncating rounds ties up in magnitude, i.e. away from zero; a
/// carry out of the mantissa moves into the exponent (1.11…1 → 10.0), and past the largest finite
/// tf32 into the infinity pattern (round-to-nearest overflows to ∞). Subnormals round the same way
/// in their fixed-point mantissa (we read the ISA as not flushing them; the kernels never feed
/// any). ±∞ stay; a NaN stays a NaN (quiet, its payload cut to the top bits: its exact payload on
/// the GPU is not modelled).
inline unsigned cvt_rna_tf32_f32(float x) {
  const auto u = std::bit_cast<std::uint32_t>(x);
  if ((u & 0x7f800000u) == 0x7f800000u) {
    if ((u & 0x007fffffu) == 0) return u;     // ±∞
    return (u & 0xffffe000u) | 0x00400000u;  // NaN: masking alone could make it ∞
  }
  return (u + 0x00001000u) & 0xffffe000u;
}

/// The three operands of mma.m16n8k8 (C and D share one layout).
enum class Operand { A, B, C };

/// Position of a fragment register's element in its tile.
struct Element {
  int row;
  int col;
};

/// The fragment layout of mma.m16n8k8 with .tf32 A/B and .f32 C/D, transcribed from the PTX ISA
/// ("Matrix Fragments for mma.m16n8k8", the .tf32 case): with groupID = lane >> 2 and
/// threadID_in_group = lane % 4,
///   A (16×8, .row, registers a0..a3): row = groupID for a0 and a2, groupID + 8 for a1 and a3;
///                                     col = threadID_in_group for a0 and a1, + 4 for a2 and a3.
///   B (8×8, .col, registers b0, b1):  row = threadID_in_group for b0, + 4 for b1; col = groupID.
///   C, D (16×8, registers c0..c3):    row = groupID for c0 and c1, groupID + 8 for c2 and c3;
///                                     col = threadID_in_group · 2 + (i & 1) for ci.
constexpr Element fragment_element(Operand op, int reg, int lane) {
  const int group = lane >> 2;
  const int tig = lane % 4;
  switch (op) {
    case Operand::A:
      switch (reg) {
        case 0: return {group, tig};
        case 1: return {group + 8, tig};
        case 2: return {group, tig + 4};
        default: return {group + 8, tig + 4};
      }
    case Operand::B:
      return reg == 0 ? Element{tig, group} : Element{tig + 4, group};
    case Operand::C:
    default:
      switch (reg) {
        case 0: return {group, tig * 2};
        case 1: return {group, tig * 2 + 1};
        case 2: return {group + 8, tig * 2};
        default: return {group + 8, tig * 2 + 1};
      }
  }
}

namespace detail {

// An operand of a tf32 mma as an fp32 value: the .b32 register's tf32 bits (its low 13 bits are
// not part of a tf32 value; our kernels only pass cvt.rna results, whose low bits are 0).
inline float tf32_value(unsigned bits) { return std::bit_cast<float>(bits & 0xffffe000u); }

// Does `lane` need element (row, col) of operand `op` for its own D elements? A row of A for each
// of its D rows, a column of B for each of its D columns.
inline bool needs(Operand op, int lane, Element e) {
  for (int i = 0; i < 4; ++i) {
    const Element d = fragment_element(Operand::C, i, lane);
    if (op == Operand::A && e.row == d.row) return true;
    if (op == Operand::B && e.col == d.col) return true;
  }
  return false;
}

// The lanes whose registers `reg_lo`, `reg_hi` of `op` hold something `lane` needs, in order.
inline int sources(Operand op, int reg_lo, int reg_hi, int lane, int (&out)[32]) {
  int count = 0;
  for (int src = 0; src < 32; ++src) {
    if (needs(op, lane, fragment_element(op, reg_lo, src)) ||
        needs(op, lane, fragment_element(op, reg_hi, src))) {
      out[count++] = src;
    }
  }
  return count;
}

// Gathers registers reg_lo and reg_hi of operand `op` from the lanes that hold elements this lane
// needs, into `tile` (row-major, `cols` wide), marking what arrived in `have`. Two 32-bit
// registers travel in one 64-bit shuffle. Every lane runs the same number of shuffles (the most
// any lane needs), as a full-mask shuffle requires.
inline void gather(Operand op, int reg_lo, int reg_hi, unsigned lo, unsigned hi, int cols,
                   float* tile, bool* have) {
  const int lane = gnm::emu::lane_id();
  int mine[32];
  const int count = sources(op, reg_lo, reg_hi, lane, mine);
  int rounds = 0;
  for (int other = 0; other < 32; ++other) {
    int unused[32];
    const int c = sources(op, reg_lo, reg_hi, other, unused);
    rounds = c > rounds ? c : rounds;
  }
  const std::uint64_t packed = (std::uint64_t{hi} << 32) | lo;
  for (int r = 0; r < rounds; ++r) {
    const int src = r < count ? mine[r] : lane;
    const std::uint64_t got = __shfl_sync(0xffffffffu, packed, src);
    if (r >= count) continue;
    const Element e_lo = fragment_element(op, reg_lo, src);
    const Element e_hi = fragment_element(op, reg_hi, src);
    tile[e_lo.row * cols + e_lo.col] = tf32_value(static_cast<unsigned>(got));
    tile[e_hi.row * cols + e_hi.col] = tf32_value(static_cast<unsigned>(got >> 32));
    have[e_lo.row * cols + e_lo.col] = true;
    have[e_hi.row * cols + e_hi.col] = true;
  }
}

}  // namespace detail

/// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {d0..d3}, {a0..a3}, {b0, b1}, {d0..d3}:
/// D = A·B + C for the warp's 16×8×8 tile, C being the incoming d0..d3. Warp-cooperative, as the
/// instruction is: every lane publishes its A and B fragments through the emulator's shuffles
/// (which insist that all 32 lanes take part), gathers the rows of A and columns of B its own D
/// elements need, places them with fragment_element(), and computes each of its D elements as
/// c + Σ_k a·b in fp32, k = 0…7 in order (products of tf32 values are exact in fp32; the
/// hardware's order and internal rounding of the sum are unspecified, so tests use a tolerance).
/// C and D share a layout, so each lane's own ci is the addend of its di.
inline void mma_m16n8k8_tf32(float& d0, float& d1, float& d2, float& d3, unsigned a0, unsigned a1,
                             unsigned a2, unsigned a3, unsigned b0, unsigned b1) {
  float a[16 * 8] = {};
  float b[8 * 8] = {};
  bool have_a[16 * 8] = {};
  bool have_b[8 * 8] = {};
  detail::gather(Operand::A, 0, 1, a0, a1, 8, a, have_a);
  detail::gather(Operand::A, 2, 3, a2, a3, 8, a, have_a);
  detail::gather(Operand::B, 0, 1, b0, b1, 8, b, have_b);
  const int lane = gnm::emu::lane_id();
  float* d[4] = {&d0, &d1, &d2, &d3};
  for (int i = 0; i < 4; ++i) {
    const Element e = fragment_element(Operand::C, i, lane);
    float acc = *d[i];
    for (int k = 0; k < 8; ++k) {
      if (!have_a[e.row * 8 + k] || !have_b[k * 8 + e.col]) {
        gnm::emu::t_launch->fail("mma model: lane " + std::to_string(lane) +
                                 " lacks an element of row " + std::to_string(e.row) +
                                 " of A or column " + std::to_string(e.col) + " of B");
      }
      acc += a[e.row * 8 + k] * b[k * 8 + e.col];
    }
    *d[i] = acc;
  }
}

}  // namespace chapter07::ptx_model
