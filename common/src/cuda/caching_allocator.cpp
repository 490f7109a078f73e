// The caching allocator's bookkeeping: host code only, built with and without CUDA. The CUDA
// backend lives in caching_allocator_cuda.cpp.
#include "gnm/cuda/caching_allocator.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <sstream>
#include <string>

#include "gnm/core/check.hpp"

namespace gnm::cuda {
namespace {

std::size_t round_up(std::size_t n, std::size_t multiple) {
  return (n + multiple - 1) / multiple * multiple;
}

// "1234567 B (1.18 MiB)": exact for tests and scripts, readable for people.
std::string bytes_text(std::size_t bytes) {
  if (bytes == CachingAllocator::kNoCap) return "none";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%zu B (%.2f MiB)", bytes,
                static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

}  // namespace

OutOfMemoryError::OutOfMemoryError(const std::string& message, std::size_t requested_bytes,
                                   std::size_t cap_bytes, std::size_t in_use_bytes,
                                   std::size_t cached_bytes)
    : Error(message),
      requested_(requested_bytes),
      cap_(cap_bytes),
      in_use_(in_use_bytes),
      cached_(cached_bytes) {}

double CachingAllocator::Stats::fragmentation() const noexcept {
  if (reserved_bytes == 0) return 0.0;
  return 1.0 - static_cast<double>(requested_bytes) / static_cast<double>(reserved_bytes);
}

std::size_t CachingAllocator::round_size(std::size_t bytes) {
  GNM_CHECK(bytes <= kMaxBytes, "allocation request too large", bytes, kMaxBytes);
  if (bytes == 0) return 0;
  // Note [Size classes]: four classes per power of two, then the small or large granularity.
  const std::size_t octave = std::bit_floor(bytes);
  const std::size_t step = std::max<std::size_t>(octave / 4, 1);
  const std::size_t quarter = round_up(bytes, step);
  return quarter <= kSmallMaxBytes ? round_up(quarter, kSmallRoundBytes)
                                   : round_up(quarter, kLargeRoundBytes);
}

std::size_t CachingAllocator::segment_bytes_for(std::size_t class_bytes) {
  return class_bytes <= kSmallMaxBytes ? kSegmentBytes : class_bytes;
}

CachingAllocator::CachingAllocator(std::unique_ptr<DeviceMemoryBackend> backend,
                                   std::size_t cap_bytes)
    : backend_(std::move(backend)), cap_(cap_bytes) {
  GNM_CHECK(backend_ != nullptr, "the caching allocator needs a backend");
}

CachingAllocator::~CachingAllocator() {
  // A destructor must not throw: failures of the backend here (a dead context at exit) are
  // ignored, the process is giving the memory back anyway.
  try {
    for (auto& segment : segments_) {
      for (Block& b : segment->blocks) release_event(b);
      backend_->free(segment->base);
    }
    for (EventHandle e : spare_events_) backend_->destroy_event(e);
  } catch (...) {  // NOLINT(bugprone-empty-catch)
  }
}

void* CachingAllocator::allocate(std::size_t bytes, StreamHandle stream) {
  if (bytes == 0) return nullptr;
  if (bytes > kMaxBytes) throw_oom("the request is larger than 1 PiB", bytes, bytes, bytes);
  const std::size_t class_bytes = round_size(bytes);
  const std::lock_guard lock(mutex_);
  Block* b = take_cached(class_bytes, stream);
  if (b) {
    ++stats_.cache_hits;
    if (b->segment->live_blocks == 0) free_segment_bytes_ -= b->segment->bytes;
  } else {
    b = new_segment(class_bytes, bytes);
    ++stats_.cache_misses;
  }
  b->live = true;
  b->stream = stream;
  b->requested_bytes = bytes;
  ++b->segment->live_blocks;
  ++stats_.allocations;
  stats_.requested_bytes += bytes;
  stats_.allocated_bytes += class_bytes;
  stats_.cached_bytes = stats_.reserved_bytes - stats_.allocated_bytes;
  stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
  // A new slab adds its unused blocks to the cache: Note [Cache limit].
  if (stats_.cached_bytes > cache_limit_ && free_segment_bytes_ > 0) enforce_cache_limit_locked();
  return b->ptr;
}

CachingAllocator::Block* CachingAllocator::take_cached(std::size_t class_bytes,
                                                       StreamHandle stream) {
  const auto bin = bins_.find(class_bytes);
  if (bin == bins_.end() || bin->second.empty()) return nullptr;
  std::vector<Block*>& blocks = bin->second;
  // Newest first (LIFO): the most recently freed block is the likeliest to be in L2 still.
  // Pass 1: same stream, or never used / already known complete — no event query needed.
  // Pass 2: another stream, only once its free-time event has completed.
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = blocks.size(); i-- > 0;) {
      Block* b = blocks[i];
      const bool same = b->stream == stream || b->event == nullptr;
      bool ok = same;
      if (!same && pass == 1 && backend_->query_event(b->event)) {
        ok = true;
        ++stats_.cross_stream_reuses;
        release_event(*b);
      }
      if (ok) {
        blocks.erase(blocks.begin() + static_cast<std::ptrdiff_t>(i));
        return b;
      }
    }
  }
  return nullptr;
}

CachingAllocator::Block* CachingAllocator::new_segment(std::size_t class_bytes,
                                                       std::size_t requested) {
  const std::size_t seg_bytes = segment_bytes_for(class_bytes);
  void* base = backend_malloc_or_throw(seg_bytes, class_bytes, requested);
  auto segment = std::make_unique<Segment>();
  segment->base = base;
  segment->bytes = seg_bytes;
  // A slab: the segment is cut into blocks of one class at once; all but the first go to the bin
  // as ready blocks (no event: no stream has used them).
  const std::size_t count = seg_bytes / class_bytes;
  segment->blocks.resize(count);
  std::vector<Block*>& bin = bins_[class_bytes];
  for (std::size_t i = 0; i < count; ++i) {
    Block& b = segment->blocks[i];
    b.ptr = static_cast<std::byte*>(base) + i * class_bytes;
    b.class_bytes = class_bytes;
    b.segment = segment.get();
    blocks_[b.ptr] = &b;
  }
  // Pushed in reverse so that LIFO hands out the lowest addresses first (easier to read in tests).
  for (std::size_t i = count; i-- > 1;) bin.push_back(&segment->blocks[i]);
  Block* first = &segment->blocks[0];
  segments_.push_back(std::move(segment));
  stats_.reserved_bytes += seg_bytes;
  stats_.peak_reserved_bytes = std::max(stats_.peak_reserved_bytes, stats_.reserved_bytes);
  return first;
}

void* CachingAllocator::backend_malloc_or_throw(std::size_t bytes, std::size_t class_bytes,
                                                std::size_t requested) {
  // Cap first: hitting it releases the cache once, then fails with the numbers.
  if (cap_ != kNoCap && stats_.reserved_bytes + bytes > cap_) {
    ++stats_.cache_flushes;
    empty_cache_locked();
    if (stats_.reserved_bytes + bytes > cap_) {
      throw_oom("the memory cap would be exceeded", requested, class_bytes, bytes);
    }
  }
  void* p = backend_->malloc(bytes);
  if (!p) {
    // The device itself is full (other processes, or fragmentation of its address space):
    // give back what the cache holds and try once more.
    ++stats_.cache_flushes;
    empty_cache_locked();
    p = backend_->malloc(bytes);
    if (!p) throw_oom(nullptr, requested, class_bytes, bytes);
  }
  ++stats_.backend_mallocs;
  return p;
}

void CachingAllocator::throw_oom(const char* why, std::size_t requested, std::size_t class_bytes,
                                 std::size_t segment_bytes) const {
  const std::size_t in_use = stats_.allocated_bytes;
  const std::size_t cached = stats_.reserved_bytes - stats_.allocated_bytes;
  // why == nullptr: the backend itself had no memory left.
  const std::string kind = backend_->memory_kind();
  std::ostringstream msg;
  msg << "out of " << kind << " memory: "
      << (why ? std::string(why) : "the " + kind + " is out of memory")
      << " [requested = " << bytes_text(requested) << ", class = " << bytes_text(class_bytes)
      << ", backend request = " << bytes_text(segment_bytes) << ", cap = " << bytes_text(cap_)
      << ", in use = " << bytes_text(in_use) << ", cached = " << bytes_text(cached)
      << ", reserved = " << bytes_text(stats_.reserved_bytes) << "]";
  throw OutOfMemoryError(msg.str(), requested, cap_, in_use, cached);
}

void CachingAllocator::deallocate(void* ptr) {
  if (!ptr) return;
  const std::lock_guard lock(mutex_);
  const auto it = blocks_.find(ptr);
  if (it == blocks_.end()) {
    GNM_CHECK(false, "deallocate: pointer was not allocated by this allocator", ptr);
  }
  Block& b = *it->second;
  GNM_CHECK(b.live, "deallocate: double free of a block", ptr, b.class_bytes);
  // Note [Stream-ordered reuse]: the event marks the end of the block's last use on its stream.
  if (!b.event) {
    if (spare_events_.empty()) {
      b.event = backend_->create_event();
    } else {
      b.event = spare_events_.back();
      spare_events_.pop_back();
    }
  }
  backend_->record_event(b.event, b.stream);
  b.live = false;
  if (--b.segment->live_blocks == 0) {
    free_segment_bytes_ += b.segment->bytes;
    b.segment->freed_at = ++tick_;
  }
  stats_.requested_bytes -= b.requested_bytes;
  stats_.allocated_bytes -= b.class_bytes;
  stats_.cached_bytes = stats_.reserved_bytes - stats_.allocated_bytes;
  b.requested_bytes = 0;
  bins_[b.class_bytes].push_back(&b);
  if (stats_.cached_bytes > cache_limit_ && free_segment_bytes_ > 0) enforce_cache_limit_locked();
}

void CachingAllocator::release_event(Block& block) {
  if (block.event) spare_events_.push_back(block.event);
  block.event = nullptr;
}

void CachingAllocator::empty_cache() {
  const std::lock_guard lock(mutex_);
  empty_cache_locked();
}

void CachingAllocator::empty_cache_locked() {
  // Only whole segments go back: a slab with one live block stays (its free blocks stay cached).
  for (auto& seg : segments_) seg->doomed = seg->live_blocks == 0;
  free_doomed_segments_locked();
}

void CachingAllocator::enforce_cache_limit_locked() {
  // Note [Cache limit]: least recently freed first, so that the blocks a loop is still cycling
  // through stay. Runs only while over the limit with a free segment left, so this scan over the
  // segments (tens to hundreds) is paid at most once per free that empties a segment.
  std::vector<Segment*> idle;
  for (auto& seg : segments_) {
    if (seg->live_blocks == 0) idle.push_back(seg.get());
  }
  std::sort(idle.begin(), idle.end(),
            [](const Segment* a, const Segment* b) { return a->freed_at < b->freed_at; });
  std::size_t cached = stats_.cached_bytes;
  for (Segment* seg : idle) {
    if (cached <= cache_limit_) break;
    seg->doomed = true;
    cached -= seg->bytes;
    ++stats_.limit_frees;
  }
  free_doomed_segments_locked();
}

void CachingAllocator::free_doomed_segments_locked() {
  std::vector<std::unique_ptr<Segment>> keep;
  std::vector<std::unique_ptr<Segment>> drop;
  for (auto& seg : segments_) (seg->doomed ? drop : keep).push_back(std::move(seg));
  segments_ = std::move(keep);
  if (drop.empty()) return;
  // A segment holds one class (a slab, or one large block): only those bins hold its blocks.
  for (auto& seg : drop) {
    std::erase_if(bins_[seg->blocks.front().class_bytes],
                  [](const Block* b) { return b->segment->doomed; });
  }
  for (auto& seg : drop) {
    for (Block& b : seg->blocks) {
      if (b.event && !backend_->query_event(b.event)) backend_->synchronize_event(b.event);
      release_event(b);
      blocks_.erase(b.ptr);
    }
    backend_->free(seg->base);
    ++stats_.backend_frees;
    stats_.reserved_bytes -= seg->bytes;
    free_segment_bytes_ -= seg->bytes;
  }
  stats_.cached_bytes = stats_.reserved_bytes - stats_.allocated_bytes;
}

CachingAllocator::Stats CachingAllocator::stats() const {
  const std::lock_guard lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peaks() {
  const std::lock_guard lock(mutex_);
  stats_.peak_allocated_bytes = stats_.allocated_bytes;
  stats_.peak_reserved_bytes = stats_.reserved_bytes;
}

std::size_t CachingAllocator::memory_cap() const {
  const std::lock_guard lock(mutex_);
  return cap_;
}

void CachingAllocator::set_memory_cap(std::size_t cap_bytes) {
  const std::lock_guard lock(mutex_);
  cap_ = cap_bytes;
}

std::size_t CachingAllocator::cache_limit() const {
  const std::lock_guard lock(mutex_);
  return cache_limit_;
}

void CachingAllocator::set_cache_limit(std::size_t limit_bytes) {
  const std::lock_guard lock(mutex_);
  cache_limit_ = limit_bytes;
  if (stats_.cached_bytes > cache_limit_ && free_segment_bytes_ > 0) enforce_cache_limit_locked();
}

}  // namespace gnm::cuda
