// Exercise 8.2 — allocator bins: the size classes and free lists of a caching allocator.
//
// cudaMalloc and cudaFree cost tens of microseconds and cudaFree synchronizes the device, so an
// engine keeps freed blocks and hands them out again (section 8.6, gnm::cuda::CachingAllocator).
// Two decisions make such a cache work:
//   - size classes: round each request up to one of a few sizes, so a block freed by one tensor
//     fits the next tensor of about the same size;
//   - bins: free blocks kept per size, looked up by best fit, split when the rest is worth keeping.
//
// Write, in exercises/ch08/bins.cpp:
//   (a) size_class(): the engine's rounding rule (Note [Size classes] in
//       gnm/cuda/caching_allocator.hpp), described below;
//   (b) BinCache::give() and BinCache::take(): free lists by block size, best fit, the split rule.
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch08
// The tests compare (a) with gnm::cuda::CachingAllocator::round_size on every size they try, and
// (b)'s reuse order with the engine's where the two share a rule. They run on the CPU.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <vector>

namespace gnm::ch08 {

/// Largest "small" class: small blocks are carved out of 2 MiB slabs, large ones stand alone.
inline constexpr std::size_t kSmallMaxBytes = std::size_t{1} << 20;
/// Granularity of small classes: every block is a multiple of 512 B (and 512-B aligned).
inline constexpr std::size_t kSmallRoundBytes = 512;
/// Granularity of large classes: the driver maps device memory in 2 MiB pages.
inline constexpr std::size_t kLargeRoundBytes = std::size_t{2} << 20;
/// Largest request accepted (1 PiB: far above any device, and no rounding can overflow).
inline constexpr std::size_t kMaxBytes = std::size_t{1} << 50;

/// Ex 8.2a. The class (the block size handed out) for a request of `bytes`:
///
/// 1. four classes per power of two: with p the largest power of two ≤ bytes, round bytes up to
///    a multiple of max(p / 4, 1) (so the class is p, 1.25p, 1.5p, 1.75p or 2p: ≤ 25 % waste);
/// 2. then, if that is ≤ kSmallMaxBytes, round it up to a multiple of kSmallRoundBytes (512 B),
///    otherwise to a multiple of kLargeRoundBytes (2 MiB).
///
/// size_class(0) is 0; more than kMaxBytes throws gnm::Error naming `bytes` and the limit.
/// Examples: 1 → 512, 1000 → 1024, 5000 → 5120, 1 MiB + 1 → 2 MiB, 5 MiB → 6 MiB, 9 MiB → 10 MiB.
std::size_t size_class(std::size_t bytes);

/// A free block: `bytes` at byte `offset` of some segment (the bins never touch memory, so a
/// test can play with offsets alone).
struct FreeBlock {
  std::size_t offset = 0;  ///< Where the block starts.
  std::size_t bytes = 0;   ///< Its size: a multiple of kSmallRoundBytes.
  bool operator==(const FreeBlock&) const = default;  ///< Same offset and size.
};

/// Ex 8.2b. Free lists by block size, with best-fit lookup and a split rule.
///
/// Two pools, as in the engine: small blocks (≤ kSmallMaxBytes) serve only small requests and
/// large blocks (> kSmallMaxBytes) only large ones, so a 512-B tensor never pins a 64 MiB block.
class BinCache {
 public:
  /// Puts `block` on the free list of its size (the most recent one, taken first).
  /// gnm::Error naming offset and bytes when bytes is 0, either is not a multiple of
  /// kSmallRoundBytes, or offset + bytes overflows.
  void give(FreeBlock block);

  /// A block for a request of `bytes`, or std::nullopt when the request's pool holds no block
  /// large enough (the caller then asks the device for a new segment):
  ///
  /// - the class c = size_class(bytes); search the request's pool (small when c ≤
  ///   kSmallMaxBytes) for the smallest block size ≥ c (best fit); among blocks of that size take
  ///   the one given last (LIFO, like the engine: it is the likeliest to be in L2 still);
  /// - split rule: when what is left, block.bytes − c, is at least the pool's granularity
  ///   (kSmallRoundBytes for small, kLargeRoundBytes for large), return {offset, c} and give the
  ///   rest, {offset + c, block.bytes − c}, back to the bins; otherwise return the whole block
  ///   (a remainder below the granularity is not worth a free-list entry).
  ///
  /// bytes == 0 or bytes > kMaxBytes throws gnm::Error naming the value.
  std::optional<FreeBlock> take(std::size_t bytes);

  /// Total bytes on the free lists.
  std::size_t free_bytes() const noexcept { return free_bytes_; }
  /// Number of blocks on the free lists.
  std::size_t free_blocks() const noexcept { return free_blocks_; }

 private:
  std::map<std::size_t, std::vector<FreeBlock>> bins_;  // block size → free blocks (LIFO)
  std::size_t free_bytes_ = 0;
  std::size_t free_blocks_ = 0;
};

}  // namespace gnm::ch08
