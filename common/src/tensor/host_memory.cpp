// Host tensor memory: the host backend of the caching allocator (mmap), and the policy that
// routes Storage on Device::cpu() through one process-wide CachingAllocator.
//
// Note [Why host tensors need a cache]: glibc gives large freed blocks back to the kernel — a
// block above its mmap threshold is munmapped at once, and the top of the heap is trimmed — so
// a loop that frees and reallocates a big tensor can touch fresh pages every time, and the
// kernel zeroes each 4 KiB page on its first touch (clear_page in a profile). glibc raises its
// mmap threshold after such a free, but never above 32 MiB, so how often it happens depends on
// the sizes and the heap's history. The caching allocator of chapter 8.6 keeps freed blocks and
// hands them out again, for the host as for the device, so a steady loop maps no new pages after
// its first step. Measured on chapter 10's MLP (`ch10_training --bench`, 2 cores, noisy): at
// batch 16384 (a 51 MB input batch, above 32 MiB) 10,800 page faults per step before, none
// after the first steps, +16% samples/s; at batch 2048 +5%; at batch 128 no change (no faults
// per step before either: glibc's raised threshold already kept those blocks).
//
// Note [Host cache policy]:
// - Requests below kHostCacheMinBytes (4 KiB, one page) go to std::aligned_alloc. A block
//   smaller than a page cannot cost a page fault per allocation — glibc keeps it in its heap
//   bins — and the cache's smallest class is 512 B, so a 4-byte scalar tensor would take 8× the
//   memory it takes from glibc (16-B granularity). Speed does not decide it: an alloc/free pair
//   of a Storage measured ~70 ns through the cache and ~100–160 ns through aligned_alloc at
//   64 B–4 KiB (2 cores, one thread), and chapter 10's MLP step ran at the same speed whether
//   every size or only ≥ 64 KiB went through the cache (~51k samples/s each, noise ±2%).
// - Cached bytes are bounded by host_cache_max_bytes() (Note [Cache limit] in
//   caching_allocator.hpp): by default min(1 GiB, physical memory / 8), or the environment
//   variable GNM_HOST_CACHE_MAX_BYTES read once at the first host allocation ("0" disables the
//   cache; "512M", "2G", plain bytes). A program that once needed 10 GiB keeps at most the bound.
//   1 GiB is several times what a book program cycles through per step (chapter 10's MLP at
//   batch 16384 maps ~230 MB in all), and an eighth of memory leaves a small machine room.
// - Under AddressSanitizer the cache is off entirely: every block comes from aligned_alloc and
//   goes back with free, so ASan's redzones and quarantine still catch overflows into a
//   neighbouring block and use after free. (Poisoning cached blocks would catch use after free
//   but not an overflow into the next block of a slab, which has no redzone.)
#include "host_memory.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>

#if __has_include(<sys/mman.h>) && __has_include(<unistd.h>)
#include <sys/mman.h>
#include <unistd.h>
#define GNM_HOST_MMAP 1
#else
#define GNM_HOST_MMAP 0
#endif

#include "gnm/core/check.hpp"
#include "gnm/cuda/caching_allocator.hpp"
#include "gnm/tensor/storage.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define GNM_HOST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GNM_HOST_ASAN 1
#endif
#endif
#ifndef GNM_HOST_ASAN
#define GNM_HOST_ASAN 0
#endif

namespace gnm {
namespace cuda {

namespace {
// Host events carry no state: the host has finished with a block when it frees it.
char g_host_event_tag = 0;
}  // namespace

HostMemoryBackend::~HostMemoryBackend() {
  for (const auto& [ptr, bytes] : mapped_) {
#if GNM_HOST_MMAP
    ::munmap(ptr, bytes);
#else
    (void)bytes;
    std::free(ptr);
#endif
  }
}

void* HostMemoryBackend::malloc(std::size_t bytes) {
#if GNM_HOST_MMAP
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    if (err == ENOMEM) return nullptr;  // the allocator empties its cache and retries
    GNM_CHECK(false, "mmap of host memory failed", bytes, std::strerror(err));
  }
#else
  void* p = std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
  if (p == nullptr) return nullptr;
  std::memset(p, 0, bytes);
#endif
  try {
    mapped_.emplace(p, bytes);
  } catch (...) {
#if GNM_HOST_MMAP
    ::munmap(p, bytes);
#else
    std::free(p);
#endif
    throw;
  }
  return p;
}

void HostMemoryBackend::free(void* ptr) {
  const auto it = mapped_.find(ptr);
  GNM_CHECK(it != mapped_.end(), "host backend: free of memory it did not map", ptr);
#if GNM_HOST_MMAP
  GNM_CHECK(::munmap(ptr, it->second) == 0, "munmap of host memory failed", ptr, it->second,
            std::strerror(errno));
#else
  std::free(ptr);
#endif
  mapped_.erase(it);
}

EventHandle HostMemoryBackend::create_event() { return &g_host_event_tag; }
void HostMemoryBackend::destroy_event(EventHandle) {}
void HostMemoryBackend::record_event(EventHandle, StreamHandle) {}
bool HostMemoryBackend::query_event(EventHandle) { return true; }
void HostMemoryBackend::synchronize_event(EventHandle) {}

}  // namespace cuda

namespace {

constexpr std::size_t kHostAlignment = 64;  // one cache line; also what AVX-512 loads like
constexpr bool kAsan = GNM_HOST_ASAN != 0;

std::size_t default_max_bytes() {
  constexpr std::size_t kGiB = std::size_t{1} << 30;
#if GNM_HOST_MMAP
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) {
    return std::min(kGiB, static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) / 8);
  }
#endif
  return kGiB;
}

// "0", "1048576", "512K", "64M", "2G" (binary multiples, either case); anything else is an error
// naming the text, at the first host allocation.
std::size_t parse_max_bytes(const char* text) {
  const std::string s = text;
  std::size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  const std::string rest = s.substr(digits);
  int shift = -1;
  if (rest.empty()) shift = 0;
  if (rest == "k" || rest == "K") shift = 10;
  if (rest == "m" || rest == "M") shift = 20;
  if (rest == "g" || rest == "G") shift = 30;
  GNM_CHECK(digits > 0 && digits <= 15 && shift >= 0,
            "GNM_HOST_CACHE_MAX_BYTES must be a byte count such as 0, 1048576, 512M or 2G", s);
  const std::size_t n = std::stoull(s.substr(0, digits));
  GNM_CHECK(n <= (std::size_t{1} << (50 - shift)), "GNM_HOST_CACHE_MAX_BYTES is too large", s);
  return n << shift;
}

// Host allocations fail with std::bad_alloc, as they did before the cache and as the C API
// expects (GNM_ERROR_OUT_OF_MEMORY); what() keeps the allocator's message with the sizes.
class HostOutOfMemory final : public std::bad_alloc {
 public:
  explicit HostOutOfMemory(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

struct HostCache {
  cuda::CachingAllocator alloc{std::make_unique<cuda::HostMemoryBackend>()};
  // alloc.cache_limit() without its mutex, for the "is the cache on" test of every allocation.
  std::atomic<std::size_t> max_bytes{0};
  std::atomic<std::size_t> uncached_allocations{0};
};

std::size_t initial_max_bytes() {
  if (kAsan) return 0;
  const char* env = std::getenv("GNM_HOST_CACHE_MAX_BYTES");
  return (env != nullptr && *env != '\0') ? parse_max_bytes(env) : default_max_bytes();
}

// Created at the first host allocation and never destroyed: tensors may be freed after main()
// returns (statics), and freeing into a destroyed allocator would be worse than the process exit
// unmapping its pages. A bad GNM_HOST_CACHE_MAX_BYTES throws here, and again at every attempt.
HostCache& host_cache() {
  static HostCache* cache = [] {
    const std::size_t max_bytes = initial_max_bytes();
    auto* c = new HostCache;
    c->alloc.set_cache_limit(max_bytes);
    c->max_bytes.store(max_bytes, std::memory_order_relaxed);
    return c;
  }();
  return *cache;
}

}  // namespace

namespace detail {

void* host_allocate(std::size_t nbytes, bool& from_cache) {
  from_cache = false;
  if (!kAsan && nbytes >= kHostCacheMinBytes) {
    HostCache& cache = host_cache();
    if (cache.max_bytes.load(std::memory_order_relaxed) > 0) {
      try {
        void* p = cache.alloc.allocate(nbytes);
        from_cache = true;
        return p;
      } catch (const cuda::OutOfMemoryError& e) {
        throw HostOutOfMemory(e.what());
      }
    }
  }
  const std::size_t rounded = (nbytes + kHostAlignment - 1) / kHostAlignment * kHostAlignment;
  void* p = std::aligned_alloc(kHostAlignment, rounded);
  if (p == nullptr) throw std::bad_alloc();
  if (!kAsan) host_cache().uncached_allocations.fetch_add(1, std::memory_order_relaxed);
  return p;
}

void host_deallocate(void* ptr, bool from_cache) noexcept {
  if (from_cache) {
    host_cache().alloc.deallocate(ptr);
  } else {
    std::free(ptr);
  }
}

}  // namespace detail

HostAllocatorStats host_allocator_stats() {
  HostAllocatorStats out;
  if (kAsan) return out;
  HostCache& cache = host_cache();
  const cuda::CachingAllocator::Stats s = cache.alloc.stats();
  out.in_use_bytes = s.allocated_bytes;
  out.cached_bytes = s.cached_bytes;
  out.reserved_bytes = s.reserved_bytes;
  out.peak_in_use_bytes = s.peak_allocated_bytes;
  out.peak_reserved_bytes = s.peak_reserved_bytes;
  out.allocations = s.allocations;
  out.cache_hits = s.cache_hits;
  out.backend_allocations = s.backend_mallocs;
  out.backend_frees = s.backend_frees;
  out.uncached_allocations = cache.uncached_allocations.load(std::memory_order_relaxed);
  out.max_cached_bytes = cache.max_bytes.load(std::memory_order_relaxed);
  return out;
}

void empty_host_cache() {
  if (!kAsan) host_cache().alloc.empty_cache();
}

std::size_t host_cache_max_bytes() {
  return kAsan ? 0 : host_cache().max_bytes.load(std::memory_order_relaxed);
}

void set_host_cache_max_bytes(std::size_t bytes) {
  if (kAsan) return;
  HostCache& cache = host_cache();
  cache.max_bytes.store(bytes, std::memory_order_relaxed);
  cache.alloc.set_cache_limit(bytes);
}

}  // namespace gnm
