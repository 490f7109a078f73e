// Section 5.3: allocator cost for many small tensors.
#include "allocators.hpp"

#include <cstdio>
#include <sstream>

#include "alloc_workload.hpp"
#include "gnm/core/host_info.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/timer.hpp"

namespace chapter5 {
namespace {

struct Measured {
  double ns_per_alloc = 0;
  StepStats stats;
};

template <class Alloc>
Measured measure(Alloc& alloc, const std::vector<std::size_t>& sizes, Pattern pattern,
                 std::size_t steps) {
  std::vector<void*> ptrs;
  Measured m;
  m.stats = run_step(alloc, sizes, pattern, ptrs);  // warm-up: the first step fills the caches
  std::vector<double> samples;
  for (std::size_t s = 0; s < steps; ++s) {
    gnm::HostTimer t;
    const StepStats st = run_step(alloc, sizes, pattern, ptrs);
    samples.push_back(t.elapsed_ms() * 1e6 / static_cast<double>(st.allocations));
    if (st.checksum != m.stats.checksum) m.stats.checksum = 0;  // must repeat exactly
  }
  m.ns_per_alloc = gnm::summarize(samples).median_ms;  // (the samples are ns per allocation)
  return m;
}

}  // namespace

AllocTable run_allocators(bool quick) {
  AllocTable t;
  t.tensors_per_step = 256;
  t.steps = quick ? 20 : 400;
  const auto sizes = tensor_sizes(t.tensors_per_step, 53);
  for (Pattern pattern : {Pattern::StepScoped, Pattern::Interleaved}) {
    const char* pname = pattern == Pattern::StepScoped ? "step-scoped" : "interleaved";
    std::uint64_t want = 0;
    auto add = [&](const char* name, const Measured& m, std::size_t held, bool extra_ok) {
      if (want == 0) want = m.stats.checksum;
      AllocRow r;
      r.allocator = name;
      r.pattern = pname;
      r.ns_per_alloc = m.ns_per_alloc;
      r.mallocs_per_s = 1e9 / m.ns_per_alloc;
      r.peak_held = held;
      r.ok = extra_ok && m.stats.checksum != 0 && m.stats.checksum == want;
      t.rows.push_back(r);
    };
    {
      MallocAlloc a;
      const Measured m = measure(a, sizes, pattern, t.steps);
      add(MallocAlloc::kName, m, m.stats.peak_live_bytes, true);  // requested bytes (no insight)
    }
    {
      NewDeleteAlloc a;
      const Measured m = measure(a, sizes, pattern, t.steps);
      add(NewDeleteAlloc::kName, m, m.stats.peak_live_bytes, true);
    }
    {
      //! [arena_use]
      ArenaAlloc a;
      const Measured m = measure(a, sizes, pattern, t.steps);
      // The arena frees nothing before end_step(): its peak is every byte the step asked for,
      // gradients included — the price of O(1) frees.
      const bool ok = a.arena.bytes_used() == 0 && a.arena.peak_bytes_used() >= m.stats.peak_live_bytes;
      add(ArenaAlloc::kName, m, a.arena.peak_bytes_used(), ok);
      //! [arena_use]
    }
    {
      PoolAlloc a;
      const Measured m = measure(a, sizes, pattern, t.steps);
      const auto& st = a.pool.stats();
      // After the warm-up step every request is served from a free list.
      const bool ok = st.live_bytes == 0 && st.reuses + st.system_allocations == st.allocations &&
                      st.system_allocations <= 2 * t.tensors_per_step;
      add(PoolAlloc::kName, m, st.cached_bytes, ok);  // every block, rounded to its class
    }
  }
  t.verified = true;
  for (const auto& r : t.rows) t.verified = t.verified && r.ok;
  return t;
}

void print(const AllocTable& t) {
  std::printf("== 5.3 Allocators for many small tensors ==\n");
  std::printf("  %zu tensors of 64 B … 64 KiB per step, %zu steps; peak held: bytes the allocator\n"
              "  keeps at its worst moment (malloc and new: the bytes requested)\n",
              t.tensors_per_step, t.steps);
  std::printf("  %-20s %-12s %10s %14s %12s\n", "allocator", "pattern", "ns/alloc", "allocs/s",
              "peak held");
  for (const auto& r : t.rows) {
    std::printf("  %-20s %-12s %10.1f %14.3g %12s%s\n", r.allocator.c_str(), r.pattern.c_str(),
                r.ns_per_alloc, r.mallocs_per_s, gnm::format_bytes(static_cast<double>(r.peak_held)).c_str(),
                r.ok ? "" : "  FAILED");
  }
  std::printf("  5.3: %s\n\n", t.verified ? "ok" : "FAILED");
}

std::string to_json(const AllocTable& t) {
  std::ostringstream j;
  j << "{\"tensors_per_step\": " << t.tensors_per_step << ", \"steps\": " << t.steps
    << ", \"rows\": [";
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    j << (i ? ", " : "") << "{\"allocator\": " << gnm::json_quote(r.allocator)
      << ", \"pattern\": " << gnm::json_quote(r.pattern)
      << ", \"ns/alloc\": " << gnm::json_number(r.ns_per_alloc)
      << ", \"allocs/s\": " << gnm::json_number(r.mallocs_per_s)
      << ", \"peak held (bytes)\": " << r.peak_held << ", \"ok\": " << (r.ok ? "true" : "false") << "}";
  }
  j << "], \"verified\": " << (t.verified ? "true" : "false") << "}";
  return j.str();
}

}  // namespace chapter5
