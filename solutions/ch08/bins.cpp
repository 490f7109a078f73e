// Exercise 8.2: the size classes and free-list bins of a caching allocator (see
// exercises/ch08/bins.hpp).
#include "bins.hpp"

#include <algorithm>
#include <bit>
#include <limits>

#include "gnm/core/check.hpp"

namespace gnm::ch08 {

namespace {

std::size_t round_up(std::size_t n, std::size_t multiple) {
  return (n + multiple - 1) / multiple * multiple;
}

}  // namespace

//! [size_class]
std::size_t size_class(std::size_t bytes) {
  // BEGIN SOLUTION("ex 8.2", "check bytes <= kMaxBytes (GNM_CHECK naming bytes and kMaxBytes); 0 -> 0; p = std::bit_floor(bytes); round up to a multiple of max(p / 4, 1); then to a multiple of 512 B if that is <= kSmallMaxBytes, else of 2 MiB")
  GNM_CHECK(bytes <= kMaxBytes, "allocation request too large", bytes, kMaxBytes);
  if (bytes == 0) return 0;
  // Four classes per power of two: the step is a quarter of the octave (1 below 4 bytes). With
  // bytes ≤ 2^50 none of the round-ups can overflow.
  const std::size_t octave = std::bit_floor(bytes);
  const std::size_t quarter = round_up(bytes, std::max<std::size_t>(octave / 4, 1));
  return quarter <= kSmallMaxBytes ? round_up(quarter, kSmallRoundBytes)
                                   : round_up(quarter, kLargeRoundBytes);
  // END SOLUTION
}
//! [size_class]

void BinCache::give(FreeBlock block) {
  // BEGIN SOLUTION("ex 8.2", "check bytes > 0, offset and bytes multiples of kSmallRoundBytes, offset + bytes does not overflow (GNM_CHECK naming block.offset and block.bytes); push the block onto bins_[block.bytes]; update free_bytes_ and free_blocks_")
  GNM_CHECK(block.bytes > 0 && block.bytes % kSmallRoundBytes == 0 &&
                block.offset % kSmallRoundBytes == 0,
            "a free block is a non-empty multiple of 512 B at a 512-B aligned offset",
            block.offset, block.bytes);
  GNM_CHECK(block.bytes <= std::numeric_limits<std::size_t>::max() - block.offset,
            "the block's end overflows", block.offset, block.bytes);
  bins_[block.bytes].push_back(block);
  free_bytes_ += block.bytes;
  ++free_blocks_;
  // END SOLUTION
}

//! [take]
std::optional<FreeBlock> BinCache::take(std::size_t bytes) {
  // BEGIN SOLUTION("ex 8.2", "check bytes >= 1; c = size_class(bytes); best fit = bins_.lower_bound(c), but only within the request's pool (small: block <= kSmallMaxBytes; large: block > kSmallMaxBytes); take the back (LIFO) block of that size; split off {offset + c, rest} when rest >= the pool's granularity")
  GNM_CHECK(bytes >= 1, "a request of 0 bytes takes no block", bytes);
  const std::size_t c = size_class(bytes);  // throws above kMaxBytes
  const bool small = c <= kSmallMaxBytes;
  // Best fit: the smallest block size ≥ c. The map is ordered, so lower_bound finds it; the pools
  // are the two ranges of the same map, split at kSmallMaxBytes.
  auto it = bins_.lower_bound(c);
  while (it != bins_.end() && it->second.empty()) ++it;  // sizes whose list was emptied
  if (it == bins_.end() || (small && it->first > kSmallMaxBytes)) return std::nullopt;
  std::vector<FreeBlock>& list = it->second;
  const FreeBlock block = list.back();  // LIFO
  list.pop_back();
  free_bytes_ -= block.bytes;
  --free_blocks_;

  const std::size_t rest = block.bytes - c;
  const std::size_t granularity = small ? kSmallRoundBytes : kLargeRoundBytes;
  if (rest < granularity) return block;  // not worth a free-list entry: hand out all of it
  give(FreeBlock{block.offset + c, rest});
  return FreeBlock{block.offset, c};
  // END SOLUTION
}
//! [take]

}  // namespace gnm::ch08
