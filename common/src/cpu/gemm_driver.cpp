// The loops around the micro-kernel (GotoBLAS/BLIS order) and how they are split over threads.
//
//   for jc in N by NC:                       B panel KC×NC → L3, shared by all threads
//     for pc in K by KC:
//       pack op(B)[pc:+KC, jc:+NC]           in parallel, one NR micro-panel per chunk
//       for ic in M by MC:       (parallel)  each thread packs its own MC×KC block of A → its L2
//         for jr in NC by NR:                the KC×NR micro-panel of B stays in L1 …
//           for ir in MC by MR:              … while the MR×KC micro-panels of A stream past it
//             micro_kernel                   MR×NR tile of C in registers
//
// The tile (MR×NR) and block sizes (MC, KC, NC) come from the KernelSpec chosen at run time
// (gemm_select.cpp): 6×16 for AVX2, 14×32 for AVX-512.
//
// Threads split the ic loop (and, when M has too few row blocks for the threads, also the jr
// loop): each thread streams its own block of A from its own L2 against the shared packed B.
// The two parallel_for calls of each (jc, pc) step (pack B, then compute) are the only
// synchronisation: every thread must see the whole packed panel before it computes, and the next
// step's packing must not overwrite the panel while another thread still reads it.
#include <algorithm>
#include <cstddef>
#include <functional>

#include "gemm_internal.hpp"
#include "gnm/core/aligned_buffer.hpp"

namespace gnm::cpu::detail {
namespace {

// Note [Packing buffers]: each thread keeps grow-only buffers for its packed blocks, so a GEMM
// allocates nothing after the first call on a thread (a fresh 4 MiB buffer would cost ~1000 page
// faults, a quarter of a millisecond, on every call). The cost is up to MC×KC + KC×NC floats
// (~4.2 MiB) per thread that has run a GEMM, kept until the thread exits.
enum Slot { kSlotA = 0, kSlotB = 1 };

float* scratch(Slot slot, std::size_t count) {
  thread_local AlignedBuffer<float> buffers[2];
  AlignedBuffer<float>& buf = buffers[slot];
  if (buf.size() < count) buf = AlignedBuffer<float>(count);
  return buf.data();
}

// Below this many FLOPs the product runs on the calling thread: ~2 MFLOP take ~20 µs on one core,
// about what handing work to a worker costs when it has gone to sleep (Note [Spin then sleep]).
constexpr double kSerialFlops = 2.0e6;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// A partial tile (mr × nr at the edge of C): the full kernel into a scratch tile (the packed
// panels are zero-padded), then only the valid part goes to C, so C's padding and the memory past
// it are never touched.
void edge_tile(const KernelSpec& k, std::int64_t kc, const float* a, const float* b, float* c,
               std::int64_t ldc, std::int64_t mr, std::int64_t nr, float alpha, float beta) {
  alignas(64) float tile[kMaxTile];
  k.micro(kc, a, b, tile, k.nr, 1.0f, 0.0f);
  for (std::int64_t i = 0; i < mr; ++i) {
    float* ci = c + i * ldc;
    const float* ti = tile + i * k.nr;
    if (beta == 0.0f) {
      for (std::int64_t j = 0; j < nr; ++j) ci[j] = alpha * ti[j];
    } else {
      for (std::int64_t j = 0; j < nr; ++j) ci[j] = alpha * ti[j] + beta * ci[j];
    }
  }
}

// C block (mc × nc, row stride ldc) = alpha · packed A block · packed B panel + beta · C.
void macro_kernel(const KernelSpec& k, std::int64_t kc, std::int64_t mc, std::int64_t nc,
                  const float* pa, const float* pb, float* c, std::int64_t ldc, float alpha,
                  float beta) {
  for (std::int64_t j = 0; j < nc; j += k.nr) {
    const std::int64_t nr = std::min(k.nr, nc - j);
    const float* bp = pb + j * kc;
    for (std::int64_t i = 0; i < mc; i += k.mr) {
      const std::int64_t mr = std::min(k.mr, mc - i);
      float* cij = c + i * ldc + j;
      if (mr == k.mr && nr == k.nr) {
        k.micro(kc, pa + i * kc, bp, cij, ldc, alpha, beta);
      } else {
        edge_tile(k, kc, pa + i * kc, bp, cij, ldc, mr, nr, alpha, beta);
      }
    }
  }
}

// Runs fn over [0, n) on the pool, or directly when there is no pool (the serial path).
template <class Fn>
void for_range(ThreadPool* pool, std::int64_t n, std::int64_t grain, const Fn& fn) {
  if (pool == nullptr) {
    fn(std::int64_t{0}, n);
  } else {
    // std::cref: the std::function then holds a reference, not a heap copy of the closure.
    pool->parallel_for(0, n, grain, std::cref(fn));
  }
}

}  // namespace

void gemm_blocked(const GemmArgs& g, const KernelSpec& k, ThreadPool& thread_pool) {
  const double flops = 2.0 * static_cast<double>(g.M) * static_cast<double>(g.N) *
                       static_cast<double>(g.K);
  ThreadPool* pool = thread_pool.size() > 1 && flops >= kSerialFlops ? &thread_pool : nullptr;
  const std::int64_t threads = pool ? pool->size() : 1;

  // Row blocks: at most MC rows each, as many as a multiple of the thread count, and sizes that
  // differ by at most one micro-panel (MR rows), so that the threads get equal shares.
  const std::int64_t row_panels = ceil_div(g.M, k.mr);
  std::int64_t m_blocks = ceil_div(g.M, k.mc);
  m_blocks = std::min(ceil_div(m_blocks, threads) * threads, row_panels);
  const std::int64_t mc = ceil_div(row_panels, m_blocks) * k.mr;  // the largest block
  // First row of block b: blocks hold row_panels / m_blocks micro-panels, the first
  // row_panels % m_blocks of them one more.
  auto block_start = [&](std::int64_t b) {
    const std::int64_t panel = (row_panels / m_blocks) * b + std::min(b, row_panels % m_blocks);
    return std::min(panel * k.mr, g.M);
  };

  const std::int64_t kc_max = std::min(k.kc, g.K);
  const std::int64_t nc_max = std::min(k.nc, ceil_div(g.N, k.nr) * k.nr);
  float* pb = scratch(kSlotB, static_cast<std::size_t>(kc_max * nc_max));

  for (std::int64_t jc = 0; jc < g.N; jc += k.nc) {
    const std::int64_t nc = std::min(k.nc, g.N - jc);
    const std::int64_t col_panels = ceil_div(nc, k.nr);
    // Too few row blocks to keep every thread busy (small M): split the columns as well.
    const std::int64_t n_splits =
        m_blocks >= threads ? 1 : std::min(col_panels, ceil_div(2 * threads, m_blocks));
    const std::int64_t items = m_blocks * n_splits;

    for (std::int64_t pc = 0; pc < g.K; pc += k.kc) {
      const std::int64_t kc = std::min(k.kc, g.K - pc);
      // Later K blocks accumulate onto what the first one wrote.
      const float beta = pc == 0 ? g.beta : 1.0f;

      for_range(pool, col_panels, 4, [&](std::int64_t lo, std::int64_t hi) {
        const std::int64_t j = lo * k.nr;
        pack_b(g, k.nr, pc, kc, jc + j, std::min(hi * k.nr, nc) - j, pb + j * kc);
      });

      for_range(pool, items, 1, [&](std::int64_t lo, std::int64_t hi) {
        float* pa = scratch(kSlotA, static_cast<std::size_t>(mc * kc));
        std::int64_t packed_block = -1;  // consecutive items of one row block share its packing
        for (std::int64_t item = lo; item < hi; ++item) {
          const std::int64_t ib = item / n_splits;
          const std::int64_t js = item % n_splits;
          const std::int64_t i0 = block_start(ib);
          const std::int64_t m = block_start(ib + 1) - i0;
          if (ib != packed_block) {
            pack_a(g, k.mr, i0, m, pc, kc, pa);
            packed_block = ib;
          }
          // Column split js covers micro-panels [p0, p1) of the packed B panel.
          const std::int64_t p0 = col_panels * js / n_splits;
          const std::int64_t p1 = col_panels * (js + 1) / n_splits;
          const std::int64_t j0 = p0 * k.nr;
          const std::int64_t n = std::min(p1 * k.nr, nc) - j0;
          if (n <= 0) continue;
          macro_kernel(k, kc, m, n, pa, pb + j0 * kc, g.C + i0 * g.ldc + jc + j0, g.ldc, g.alpha,
                       beta);
        }
      });
    }
  }
}

}  // namespace gnm::cpu::detail
