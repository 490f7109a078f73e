// Section 5.3's workload, shared by the chapter program and ch05_bench: the tensor allocations of
// a simulated training step, served by malloc/free, new/delete, gnm::Arena or gnm::PoolAllocator.
//
// A step allocates `sizes.size()` tensors of 64 B … 64 KiB (log-uniform, fixed by a seed), writes
// the first and last byte of each (so the memory is really used), and frees them in one of two
// orders:
//   StepScoped  — forward allocates everything, the step ends, everything is freed (newest first):
//                 the arena's best case, one reset();
//   Interleaved — a backward pass: walking the activations newest first, each gets a gradient of
//                 its size, then both are freed — memory is released one buffer at a time, which
//                 an arena cannot do (it keeps everything until the step's reset()).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "gnm/core/arena.hpp"

namespace chapter5 {

enum class Pattern { StepScoped, Interleaved };

// Log-uniform sizes in [64, 65536] bytes: as many tiny bias vectors as large activations.
std::vector<std::size_t> tensor_sizes(std::size_t count, std::uint64_t seed);

// The four allocators behind one interface: allocate, deallocate (with the size, as sized delete
// and the pool want it), end_step (where the arena frees everything), peak bytes in use.
struct MallocAlloc {
  static constexpr const char* kName = "malloc/free";
  void* allocate(std::size_t bytes) {
    void* p = std::malloc(bytes);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void deallocate(void* p, std::size_t) { std::free(p); }
  void end_step() {}
};

struct NewDeleteAlloc {
  static constexpr const char* kName = "new/delete";
  void* allocate(std::size_t bytes) { return ::operator new(bytes); }
  void deallocate(void* p, std::size_t bytes) { ::operator delete(p, bytes); }
  void end_step() {}
};

struct ArenaAlloc {
  static constexpr const char* kName = "gnm::Arena";
  gnm::Arena arena{1 << 20};  // 1 MiB blocks: a step (~2 MB) takes a few, reused every step
  void* allocate(std::size_t bytes) { return arena.allocate(bytes, 64); }
  void deallocate(void*, std::size_t) {}  // nothing is freed one at a time…
  void end_step() { arena.reset(); }      // …everything is freed here, in O(1)
};

struct PoolAlloc {
  static constexpr const char* kName = "gnm::PoolAllocator";
  gnm::PoolAllocator pool;
  void* allocate(std::size_t bytes) { return pool.allocate(bytes); }
  void deallocate(void* p, std::size_t bytes) { pool.deallocate(p, bytes); }
  void end_step() {}
};

struct StepStats {
  std::size_t allocations = 0;
  std::size_t peak_live_bytes = 0;  // bytes requested and not yet freed, at the worst moment
  std::uint64_t checksum = 0;       // of the bytes written and read back
};

// One simulated step on `alloc` (see the file comment). `ptrs` is scratch space, reused.
//! [alloc_step]
template <class Alloc>
StepStats run_step(Alloc& alloc, std::span<const std::size_t> sizes, Pattern pattern,
                   std::vector<void*>& ptrs) {
  StepStats s;
  std::size_t live = 0;
  auto use = [&](void* p, std::size_t bytes) {
    auto* b = static_cast<unsigned char*>(p);
    b[0] = static_cast<unsigned char>(bytes);
    b[bytes - 1] = static_cast<unsigned char>(bytes >> 8);
    s.checksum = s.checksum * 31 + b[0] + b[bytes - 1];
  };
  ptrs.resize(sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) {  // forward: activations
    ptrs[i] = alloc.allocate(sizes[i]);
    use(ptrs[i], sizes[i]);
    live += sizes[i];
    s.peak_live_bytes = std::max(s.peak_live_bytes, live);
  }
  for (std::size_t i = sizes.size(); i-- > 0;) {  // newest first
    if (pattern == Pattern::Interleaved) {        // backward: a gradient per activation
      void* grad = alloc.allocate(sizes[i]);
      use(grad, sizes[i]);
      s.peak_live_bytes = std::max(s.peak_live_bytes, live + sizes[i]);
      alloc.deallocate(grad, sizes[i]);
      ++s.allocations;
    }
    alloc.deallocate(ptrs[i], sizes[i]);
    live -= sizes[i];
  }
  alloc.end_step();
  s.allocations += sizes.size();
  return s;
}
//! [alloc_step]

}  // namespace chapter5
