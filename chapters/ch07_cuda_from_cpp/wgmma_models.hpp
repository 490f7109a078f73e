// Host models of the PTX instructions in wgmma_kernels.cuh, for the host CUDA emulator
// (tests/emu/cuda_host_emulator.hpp, included first), plus host stand-ins for the CUDA types the
// kernels name (__nv_bfloat16, float2, CUtensorMap). Each model is written from the PTX ISA's
// description of its instruction (sections "Asynchronous Warpgroup Level Matrix Instructions",
// "mbarrier", "cp.async.bulk.tensor", "Tensor Map"), not from the kernel, so running the kernel
// through them checks it against our reading of the ISA. What they cannot show: the real
// instructions where our reading is wrong (hence the unit tests against hand-worked numbers in
// tests/emu/test_ch07_wgmma_emulated.cpp), the tensor cores' summation order and rounding
// (tests use a tolerance), speed, and the asynchrony of TMA (a copy lands when it is issued here).
//
//   shared memory   32-bit shared addresses name bytes of gnm::emu::dynamic_shared(), whose first
//                   byte is address shared_base() (0x400 by default: not 0, so a host pointer
//                   passed where an address belongs fails loudly; a test may make it unaligned).
//   mbarrier        an arrival count and a transaction count per phase, with the real phase
//                   semantics: a phase completes when both are zero; try_wait.parity(p) is true
//                   once the phase with parity p has completed, i.e. while the current phase's
//                   parity is not p. State sits in a registry keyed by address, behind a mutex
//                   (so ThreadSanitizer sees the release/acquire the instruction gives).
//   TMA             copies the box from global memory (zeros outside the tensor), writes it with
//                   the 128-byte swizzle, then completes its byte count on the mbarrier.
//   wgmma           queued per thread and executed LATE, at the wait_group that retires its
//                   group, reading shared memory then: a kernel that lets a stage be refilled
//                   before its wgmma has completed reads the new data here, as it could on a GPU.
//   globaltimer     steady_clock nanoseconds, times a speed-up tests may raise (so the kernel's
//                   10 s watchdog fires after a fraction of that in a negative control).
//   setmaxnreg, fences  no-ops (they order or resize nothing the host can see).
#pragma once

#if !defined(GNM_CUDA_HOST_EMULATOR)
#error "wgmma_models.hpp is for the host emulator: include cuda_host_emulator.hpp first"
#endif

#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// ---- CUDA types the kernels name ----------------------------------------------------------

/// Host stand-in for CUDA's __nv_bfloat16: the 16 bits (sign, 8 exponent, 7 mantissa).
struct __nv_bfloat16 {
  std::uint16_t bits;
};

/// fp32 → bf16, round to nearest even (CUDA's __float2bfloat16); a NaN stays a (quiet) NaN.
inline __nv_bfloat16 __float2bfloat16(float x) {
  const auto u = std::bit_cast<std::uint32_t>(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return {static_cast<std::uint16_t>((u >> 16) | 0x0040u)};
  const std::uint32_t rounded = u + 0x7fffu + ((u >> 16) & 1u);  // ties go to the even result
  return {static_cast<std::uint16_t>(rounded >> 16)};
}

/// bf16 → fp32 (exact: the bf16 bits are the top half of the fp32 pattern).
inline float __bfloat162float(__nv_bfloat16 h) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(h.bits) << 16);
}

/// Host stand-in for CUDA's float2 (8-byte aligned, like the device type).
struct alignas(8) float2 {
  float x, y;
};

inline float2 make_float2(float x, float y) { return float2{x, y}; }

// A kernel parameter the GPU reads in place from the constant bank; nothing to do on the host.
#define __grid_constant__

/// Host model of a 2-D tiled CUtensorMap: what cuTensorMapEncodeTiled was given (the real one is
/// an opaque 128-byte blob only the TMA unit reads). Built by wgmma_model::encode_tensor_map.
struct CUtensorMap {
  const void* base = nullptr;          ///< global address of element (0, 0)
  std::uint64_t dims[2] = {};          ///< elements per dimension, innermost first
  std::uint64_t row_stride_bytes = 0;  ///< bytes between consecutive indices of dimension 1
  std::uint32_t box[2] = {};           ///< box size in elements, innermost first
  std::uint32_t element_bytes = 0;     ///< bytes per element
  bool swizzle_128b = false;           ///< CU_TENSOR_MAP_SWIZZLE_128B, else no swizzle
};

namespace gnm::ch07::wgmma_model {

/// Reports a misuse the hardware would not catch cleanly: inside an emulated launch it makes
/// emu_launch throw afterwards; outside one (a unit test of a model) it throws at once.
inline void report(const std::string& what) {
  if (gnm::emu::t_launch != nullptr) {
    gnm::emu::t_launch->fail("wgmma model: " + what);
  } else {
    throw std::logic_error("wgmma model: " + what);
  }
}

/// Faults a negative-control test injects, each equivalent to one bug in the kernel (all off by
/// default): a wrong descriptor field, a flipped mbarrier parity, a wrong expect_tx count.
struct Faults {
  std::atomic<std::uint64_t> descriptor_xor{0};   ///< XORed into both wgmma descriptors
  std::atomic<std::uint32_t> flip_parity_at{0};   ///< waits on this barrier use the other parity
  std::atomic<std::uint32_t> extra_expect_tx{0};  ///< added to every arrive.expect_tx count
  /// When nonzero, wait_group executes no wgmma before this many TMA loads have landed: it forces
  /// the interleaving in which the producer runs ahead of the consumers, so a kernel that refills
  /// a stage too early reads overwritten data every time, not only when the scheduler says so.
  std::atomic<std::uint32_t> hold_mma_until_loads{0};
  std::atomic<std::uint32_t> loads_issued{0};  ///< TMA loads landed (the model counts them)
};

inline Faults& faults() {
  static Faults f;
  return f;
}

// ---- shared memory ------------------------------------------------------------------------

/// The default shared address of the first byte of gnm::emu::dynamic_shared().
inline constexpr std::uint32_t kSharedBase = 0x400;

/// The shared address of the first byte of gnm::emu::dynamic_shared() (set it between launches
/// only; a GPU guarantees 16-byte alignment of dynamic shared memory, no more).
inline std::atomic<std::uint32_t>& shared_base() {
  static std::atomic<std::uint32_t> base{kSharedBase};
  return base;
}

/// cvta.to.shared: the shared address of a byte of the dynamic shared memory.
inline std::uint32_t shared_address(const void* p) {
  const auto* base = gnm::emu::dynamic_shared();
  const auto* q = static_cast<const unsigned char*>(p);
  if (base == nullptr || q < base || q >= base + gnm::emu::dynamic_shared_bytes()) {
    report("shared_address of a pointer outside the dynamic shared memory");
    return 0;
  }
  return shared_base().load() + static_cast<std::uint32_t>(q - base);
}

/// The host bytes [address, address + bytes) of shared memory, or nullptr (reported) when they
/// leave the dynamic shared memory.
inline unsigned char* shared_bytes(std::uint32_t address, std::size_t bytes) {
  unsigned char* base = gnm::emu::dynamic_shared();
  const std::size_t size = gnm::emu::dynamic_shared_bytes();
  const std::uint32_t first = shared_base().load();
  if (base == nullptr || address < first || address - first > size ||
      bytes > size - (address - first)) {
    report("shared address " + std::to_string(address) + " (+" + std::to_string(bytes) +
           " bytes) outside the dynamic shared memory");
    return nullptr;
  }
  return base + (address - first);
}

// ---- mbarrier -----------------------------------------------------------------------------

/// One mbarrier object: the state the ISA gives it (phase, pending arrivals, tx-count).
struct Barrier {
  std::mutex mutex;
  std::condition_variable completed_phase;
  std::uint32_t expected = 0;  ///< arrivals per phase (mbarrier.init's count)
  std::uint32_t pending = 0;   ///< arrivals the current phase still waits for
  std::int64_t tx = 0;         ///< transaction bytes the current phase still waits for
  std::uint64_t phases = 0;    ///< completed phases; the current phase's parity is phases & 1
};

/// All barriers, by shared address (a registry: the 8 bytes of shared memory stay untouched).
struct BarrierRegistry {
  std::mutex mutex;
  std::map<std::uint32_t, std::unique_ptr<Barrier>> barriers;
};

inline BarrierRegistry& barrier_registry() {
  static BarrierRegistry registry;
  return registry;
}

/// The barrier at `address` (created on first use; it must be 8-byte aligned shared memory).
inline Barrier& barrier_at(std::uint32_t address) {
  if (address % 8 != 0) report("mbarrier address " + std::to_string(address) + " not 8-aligned");
  shared_bytes(address, 8);
  BarrierRegistry& r = barrier_registry();
  const std::lock_guard<std::mutex> lock(r.mutex);
  std::unique_ptr<Barrier>& b = r.barriers[address];
  if (!b) b = std::make_unique<Barrier>();
  return *b;
}

// Completes the current phase if nothing is pending (caller holds b.mutex).
inline void complete_if_done(Barrier& b) {
  if (b.pending == 0 && b.tx == 0) {
    ++b.phases;
    b.pending = b.expected;
    b.completed_phase.notify_all();
  }
}

/// mbarrier.init.shared::cta.b64 [bar], count: phase 0, `count` arrivals pending, tx-count 0.
inline void mbarrier_init(std::uint32_t bar, std::uint32_t count) {
  if (count == 0 || count >= (1u << 20)) report("mbarrier.init count out of [1, 2^20 - 1]");
  Barrier& b = barrier_at(bar);
  const std::lock_guard<std::mutex> lock(b.mutex);
  b.expected = count;
  b.pending = count;
  b.tx = 0;
  b.phases = 0;
}

/// The expect-tx operation: the current phase also waits for `bytes` more transaction bytes.
inline void mbarrier_expect_tx(std::uint32_t bar, std::uint32_t bytes) {
  Barrier& b = barrier_at(bar);
  const std::lock_guard<std::mutex> lock(b.mutex);
  b.tx += bytes;
}

/// The complete-tx operation (what an asynchronous copy does when its bytes have landed).
inline void mbarrier_complete_tx(std::uint32_t bar, std::uint32_t bytes) {
  Barrier& b = barrier_at(bar);
  const std::lock_guard<std::mutex> lock(b.mutex);
  b.tx -= bytes;
  complete_if_done(b);
}

/// mbarrier.arrive.shared::cta.b64: one arrival (release).
inline void mbarrier_arrive(std::uint32_t bar) {
  Barrier& b = barrier_at(bar);
  const std::lock_guard<std::mutex> lock(b.mutex);
  if (b.expected == 0) report("arrive on an mbarrier that was never initialized");
  if (b.pending == 0) return;  // unreachable: a phase completes as its last arrival lands
  --b.pending;
  complete_if_done(b);
}

/// mbarrier.arrive.expect_tx.shared::cta.b64: expect-tx(bytes), then one arrival.
inline void mbarrier_arrive_expect_tx(std::uint32_t bar, std::uint32_t bytes) {
  Barrier& b = barrier_at(bar);
  const std::lock_guard<std::mutex> lock(b.mutex);
  if (b.expected == 0) report("arrive on an mbarrier that was never initialized");
  b.tx += bytes + faults().extra_expect_tx.load();
  if (b.pending > 0) --b.pending;
  complete_if_done(b);
}

/// mbarrier.try_wait.parity.shared::cta.b64: true once the phase with parity `parity` has
/// completed — the current phase if its parity is `parity`, else the one before it, which has
/// (acquire). Like the instruction it may suspend the thread for a while (here up to 200 µs)
/// before answering false. True at once after a __trap(), so the grid drains.
inline bool mbarrier_try_wait_parity(std::uint32_t bar, std::uint32_t parity) {
  if (bar == faults().flip_parity_at.load()) parity ^= 1u;
  Barrier& b = barrier_at(bar);
  std::unique_lock<std::mutex> lock(b.mutex);
  auto done = [&] { return (b.phases & 1u) != (parity & 1u) || gnm::emu::trapped(); };
  if (done()) return true;
  b.completed_phase.wait_for(lock, std::chrono::microseconds(200));
  return done();
}

/// fence.mbarrier_init.release.cluster: nothing to order on the host (the registry's mutex does).
inline void fence_mbarrier_init() {}

// ---- TMA ----------------------------------------------------------------------------------

/// A tensor map model for `base` from the parameters the launcher gives cuTensorMapEncodeTiled.
template <typename Spec>
CUtensorMap encode_tensor_map(const void* base, const Spec& spec) {
  CUtensorMap m;
  m.base = base;
  m.dims[0] = spec.dims[0];
  m.dims[1] = spec.dims[1];
  m.row_stride_bytes = spec.row_stride_bytes;
  m.box[0] = spec.box[0];
  m.box[1] = spec.box[1];
  m.element_bytes = spec.element_bytes;
  m.swizzle_128b = spec.swizzle_128b;
  if (spec.element_strides[0] != 1 || spec.element_strides[1] != 1 || !spec.oob_zero_fill) {
    throw std::logic_error("wgmma model: only element strides 1 and zero fill are modelled");
  }
  return m;
}

/// Where byte `byte` of row `row` of a box lands, relative to the box's first byte. With the
/// 128-byte swizzle each row is 128 bytes and its eight 16-byte chunks are permuted: chunk c goes
/// to chunk c XOR (row mod 8). Without swizzle rows are packed (row pitch = the box's row bytes).
inline std::uint32_t tma_box_offset(std::uint32_t row, std::uint32_t byte, std::uint32_t row_bytes,
                                    bool swizzle_128b) {
  if (!swizzle_128b) return row * row_bytes + byte;
  const std::uint32_t chunk = (byte / 16) ^ (row % 8);
  return row * 128 + chunk * 16 + byte % 16;
}

/// cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
/// [dst], [map, {c0, c1}], [bar]: the box whose first element is (c0 = innermost, c1) — elements
/// outside the tensor read as zero and still count — written to dst, then complete-tx of the box's
/// byte count on `bar`. Checks the rules this kernel could break: dst 128-byte aligned (1024 with
/// the 128-byte swizzle, whose pattern repeats every 8 rows of 128 bytes: this model applies it
/// per box row, the hardware per address), and box rows of exactly 128 bytes under that swizzle.
inline void tma_load_2d(std::uint32_t dst, const CUtensorMap* map, std::uint32_t bar, int c0,
                        int c1) {
  const CUtensorMap& m = *map;
  const std::uint32_t row_bytes = m.box[0] * m.element_bytes;
  const std::uint32_t box_bytes = row_bytes * m.box[1];
  if (dst % (m.swizzle_128b ? 1024u : 128u) != 0) {
    report("TMA destination " + std::to_string(dst) + " not aligned for its swizzle mode");
  }
  if (m.swizzle_128b && row_bytes != 128) {
    report("TMA box rows of " + std::to_string(row_bytes) +
           " bytes with the 128-byte swizzle (this model needs exactly 128)");
  }
  unsigned char* out = shared_bytes(dst, box_bytes);
  if (out != nullptr) {
    const auto* in = static_cast<const unsigned char*>(m.base);
    for (std::uint32_t r = 0; r < m.box[1]; ++r) {
      const std::int64_t row = std::int64_t{c1} + r;
      for (std::uint32_t e = 0; e < m.box[0]; ++e) {
        const std::int64_t col = std::int64_t{c0} + e;
        const bool inside = row >= 0 && col >= 0 && static_cast<std::uint64_t>(row) < m.dims[1] &&
                            static_cast<std::uint64_t>(col) < m.dims[0];
        unsigned char* o = out + tma_box_offset(r, e * m.element_bytes, row_bytes, m.swizzle_128b);
        if (inside) {
          std::memcpy(o,
                      in + static_cast<std::uint64_t>(row) * m.row_stride_bytes +
                          static_cast<std::uint64_t>(col) * m.element_bytes,
                      m.element_bytes);
        } else {
          std::memset(o, 0, m.element_bytes);
        }
      }
    }
  }
  faults().loads_issued.fetch_add(1);  // after the data, before the barrier sees it
  mbarrier_complete_tx(bar, box_bytes);
}

// ---- wgmma --------------------------------------------------------------------------------

/// The fields of a wgmma shared-memory matrix descriptor (PTX ISA, "Matrix Descriptor Format"):
/// bits 0–13 start address >> 4, 16–29 leading-dimension byte offset >> 4, 32–45 stride-dimension
/// byte offset >> 4, 49–51 base offset, 62–63 swizzle mode (0 none, 1 128B, 2 64B, 3 32B).
struct Descriptor {
  std::uint32_t start = 0;        ///< shared address of the matrix
  std::uint32_t leading = 0;      ///< LBO in bytes
  std::uint32_t stride = 0;       ///< SBO in bytes
  std::uint32_t base_offset = 0;  ///< 0 when the swizzle pattern starts on a 1024-byte boundary
  std::uint32_t swizzle = 0;      ///< swizzle mode
};

inline Descriptor decode_descriptor(std::uint64_t desc) {
  Descriptor d;
  d.start = static_cast<std::uint32_t>(desc & 0x3FFFu) << 4;
  d.leading = static_cast<std::uint32_t>((desc >> 16) & 0x3FFFu) << 4;
  d.stride = static_cast<std::uint32_t>((desc >> 32) & 0x3FFFu) << 4;
  d.base_offset = static_cast<std::uint32_t>((desc >> 49) & 0x7u);
  d.swizzle = static_cast<std::uint32_t>((desc >> 62) & 0x3u);
  return d;
}

/// The 128-byte swizzle as the ISA applies it to a shared address: the 16-byte chunk bits (4–6)
/// are XORed with the 128-byte row bits (7–9), i.e. with the row's index mod 8 inside each
/// 1024-byte block (CUTLASS calls this Swizzle<3, 4, 3>).
constexpr std::uint32_t swizzle_128b(std::uint32_t address) {
  return address ^ (((address >> 7) & 0x7u) << 4);
}

/// Shared address of element (row, k) of a K-major bf16 operand (row = M index of A or N index
/// of B; k < 16) described by `d`. K-major canonical layouts are built of core matrices of 8 rows
/// × 16 bytes. With the 128-byte swizzle, a core-matrix row is a 16-byte piece of a 128-byte row,
/// the 8 rows of a group lie 128 bytes apart, groups of 8 rows lie SBO apart, and moving along K
/// inside the 128-byte row moves the address (LBO unused). Without swizzle, core matrices are 128
/// contiguous bytes: SBO apart along M/N, LBO apart along K.
inline std::uint32_t operand_address(const Descriptor& d, int row, int k) {
  const auto r = static_cast<std::uint32_t>(row);
  const auto kk = static_cast<std::uint32_t>(k);
  if (d.swizzle == 1) {
    return swizzle_128b(d.start + (r / 8) * d.stride + (r % 8) * 128 + kk * 2);
  }
  return d.start + (r / 8) * d.stride + (kk / 8) * d.leading + (r % 8) * 16 + (kk % 8) * 2;
}

/// Element (row, k) of a bf16 operand in shared memory, as fp32.
inline float operand(const Descriptor& d, int row, int k) {
  const unsigned char* p = shared_bytes(operand_address(d, row, k), 2);
  if (p == nullptr) return 0.0f;
  __nv_bfloat16 h;
  std::memcpy(&h, p, 2);
  return __bfloat162float(h);
}

/// Position of an accumulator register's element in the 64×N tile.
struct Element {
  int row;
  int col;
};

/// Where register i (0…127) of a thread's m64n256 fp32 accumulator sits in the 64×256 tile, per
/// the ISA's figure "WGMMA .m64nNk16 register fragment layout for accumulator matrix D": warp w
/// of the warpgroup owns rows 16w…16w+15; with g = lane / 4 and t = lane % 4, registers
/// 4j…4j+3 hold (16w+g, 8j+2t), (16w+g, 8j+2t+1), (16w+g+8, 8j+2t), (16w+g+8, 8j+2t+1).
constexpr Element accumulator_element(int thread_in_warpgroup, int i) {
  const int warp = thread_in_warpgroup / 32;
  const int lane = thread_in_warpgroup % 32;
  const int j = i / 4;
  return {16 * warp + lane / 4 + 8 * ((i % 4) / 2), 8 * j + 2 * (lane % 4) + (i % 2)};
}

/// One thread's part of wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 d, a-desc, b-desc,
/// scale-d = 1, imm-scale-a = imm-scale-b = 1, imm-trans-a = imm-trans-b = 0 (both K-major):
/// d += A (64×16) · B (256×16)ᵀ, each of its 128 elements summed in fp32, k = 0…15 in order (the
/// products of bf16 values are exact in fp32; the hardware's order and rounding are not specified).
inline void execute_m64n256k16(float* d, std::uint64_t desc_a, std::uint64_t desc_b,
                               int thread_in_warpgroup) {
  const Descriptor a = decode_descriptor(desc_a);
  const Descriptor b = decode_descriptor(desc_b);
  for (const Descriptor* x : {&a, &b}) {
    if ((x->swizzle != 0 && x->swizzle != 1) || x->base_offset != 0) {
      report("descriptor with swizzle mode " + std::to_string(x->swizzle) + " / base offset " +
             std::to_string(x->base_offset) + " (not modelled)");
      return;
    }
  }
  float a_rows[2][16];  // the two rows of A this thread's accumulators need
  for (int h = 0; h < 2; ++h) {
    const int row = accumulator_element(thread_in_warpgroup, 2 * h).row;
    for (int k = 0; k < 16; ++k) a_rows[h][k] = operand(a, row, k);
  }
  for (int i = 0; i < 128; i += 2) {
    const Element e = accumulator_element(thread_in_warpgroup, i);
    float b0[16], b1[16];
    for (int k = 0; k < 16; ++k) {
      b0[k] = operand(b, e.col, k);
      b1[k] = operand(b, e.col + 1, k);
    }
    const float* arow = a_rows[(i % 4) / 2];
    float acc0 = d[i], acc1 = d[i + 1];
    for (int k = 0; k < 16; ++k) {
      acc0 += arow[k] * b0[k];
      acc1 += arow[k] * b1[k];
    }
    d[i] = acc0;
    d[i + 1] = acc1;
  }
}

/// A wgmma issued but not yet executed.
struct PendingMma {
  float* d;
  std::uint64_t desc_a;
  std::uint64_t desc_b;
};

/// The calling thread's wgmma queue: committed groups (oldest first) and the open group.
struct MmaQueue {
  std::uint64_t serial = 0;  ///< launch these belong to (stale entries are dropped)
  std::vector<std::vector<PendingMma>> committed;
  std::vector<PendingMma> open;
};

inline MmaQueue& mma_queue() {
  thread_local MmaQueue q;
  const std::uint64_t serial = gnm::emu::launch_serial();
  if (q.serial != serial) {
    q = MmaQueue{};
    q.serial = serial;
  }
  return q;
}

/// The calling thread's index in its warpgroup.
inline int thread_in_warpgroup() { return gnm::emu::t_linear % 128; }

/// wgmma.fence.sync.aligned: orders register accesses before the wgmmas that follow; nothing to
/// do when the model executes wgmmas on the issuing thread.
inline void wgmma_fence() {}

/// wgmma.mma_async m64n256k16 bf16 → f32: queued, executed at the wait_group retiring its group.
inline void wgmma_m64n256k16_bf16(float (&d)[128], std::uint64_t desc_a, std::uint64_t desc_b) {
  const std::uint64_t fault = faults().descriptor_xor.load();
  mma_queue().open.push_back(PendingMma{d, desc_a ^ fault, desc_b ^ fault});
}

/// wgmma.commit_group.sync.aligned: the wgmmas issued since the last commit form one group.
inline void wgmma_commit_group() {
  MmaQueue& q = mma_queue();
  q.committed.push_back(std::move(q.open));
  q.open.clear();
}

/// wgmma.wait_group.sync.aligned n: returns when at most n of the newest groups are pending; here
/// the older ones are executed now, oldest first.
inline void wgmma_wait_group(int n) {
  MmaQueue& q = mma_queue();
  const int tig = thread_in_warpgroup();
  if (const std::uint32_t hold = faults().hold_mma_until_loads.load();
      hold != 0 && static_cast<int>(q.committed.size()) > n) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (faults().loads_issued.load() < hold) {
      if (std::chrono::steady_clock::now() > give_up) {
        report("wgmma held for " + std::to_string(hold) + " TMA loads, but only " +
               std::to_string(faults().loads_issued.load()) + " came in 5 s");
        break;
      }
      std::this_thread::yield();
    }
  }
  while (static_cast<int>(q.committed.size()) > n) {
    for (const PendingMma& m : q.committed.front()) {
      execute_m64n256k16(m.d, m.desc_a, m.desc_b, tig);
    }
    q.committed.erase(q.committed.begin());
  }
}

/// The compiler-ordering fence on the accumulators: nothing to order on the host.
inline void fence_accumulators(float (&)[128]) {}

/// setmaxnreg.{inc,dec}.sync.aligned.u32: checks the ISA's range (a multiple of 8 in [24, 256]).
inline void setmaxnreg(int registers) {
  if (registers % 8 != 0 || registers < 24 || registers > 256) {
    report("setmaxnreg count " + std::to_string(registers) + " not a multiple of 8 in [24, 256]");
  }
}

// ---- globaltimer --------------------------------------------------------------------------

/// How many times faster than the host's clock the modelled %globaltimer runs (1: real time).
inline std::atomic<int>& timer_speedup() {
  static std::atomic<int> speedup{1};
  return speedup;
}

/// mov.u64 %globaltimer: nanoseconds (steady_clock, times timer_speedup()).
inline std::uint64_t global_timer_ns() {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count();
  return static_cast<std::uint64_t>(ns) * static_cast<std::uint64_t>(timer_speedup().load());
}

}  // namespace gnm::ch07::wgmma_model
