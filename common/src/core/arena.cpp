// Arena and PoolAllocator (see gnm/core/arena.hpp for the contract).
#include "gnm/core/arena.hpp"

#include <algorithm>
#include <bit>
#include <limits>

#include "gnm/core/check.hpp"

namespace gnm {
namespace {

constexpr std::size_t kBlockAlign = 64;
constexpr std::size_t kMaxAlign = 4096;

std::byte* system_allocate(std::size_t bytes) {
  return static_cast<std::byte*>(::operator new(bytes, std::align_val_t{kBlockAlign}));
}
void system_free(std::byte* p) noexcept { ::operator delete(p, std::align_val_t{kBlockAlign}); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Arena
// ---------------------------------------------------------------------------------------------

Arena::Arena(std::size_t block_bytes) : block_bytes_(block_bytes) {
  GNM_CHECK(block_bytes >= 64, "an arena block must hold at least 64 bytes", block_bytes);
}

Arena::~Arena() {
  run_destructors_until(nullptr);
  free_blocks();
}

Arena::Arena(Arena&& other) noexcept
    : block_bytes_(other.block_bytes_),
      blocks_(std::exchange(other.blocks_, {})),
      current_(std::exchange(other.current_, 0)),
      offset_(std::exchange(other.offset_, 0)),
      used_(std::exchange(other.used_, 0)),
      peak_(std::exchange(other.peak_, 0)),
      destructors_(std::exchange(other.destructors_, nullptr)) {}

Arena& Arena::operator=(Arena&& other) noexcept {
  if (this != &other) {
    run_destructors_until(nullptr);
    free_blocks();
    block_bytes_ = other.block_bytes_;
    blocks_ = std::exchange(other.blocks_, {});
    current_ = std::exchange(other.current_, 0);
    offset_ = std::exchange(other.offset_, 0);
    used_ = std::exchange(other.used_, 0);
    peak_ = std::exchange(other.peak_, 0);
    destructors_ = std::exchange(other.destructors_, nullptr);
  }
  return *this;
}

void Arena::free_blocks() noexcept {
  for (const Block& b : blocks_) system_free(b.data);
  blocks_.clear();
  current_ = offset_ = used_ = 0;
}

void Arena::check_array_size(std::size_t n, std::size_t elem) {
  GNM_CHECK(n <= std::numeric_limits<std::size_t>::max() / elem,
            "arena array size overflows size_t", n, elem);
}

void* Arena::allocate(std::size_t bytes, std::size_t align) {
  GNM_CHECK(std::has_single_bit(align) && align <= kMaxAlign,
            "arena alignment must be a power of two no larger than 4096", align);
  GNM_CHECK(bytes <= std::numeric_limits<std::size_t>::max() / 2, "arena request too large", bytes);
  bytes = std::max<std::size_t>(bytes, 1);  // distinct pointers even for empty requests

  // Where the request would start in block b if b were filled from `offset` on.
  auto start_in = [&](const Block& b, std::size_t offset) {
    const auto base = reinterpret_cast<std::uintptr_t>(b.data);
    const std::uintptr_t aligned = (base + offset + (align - 1)) & ~std::uintptr_t{align - 1};
    return static_cast<std::size_t>(aligned - base);
  };
  auto fits = [&](const Block& b, std::size_t offset) {
    const std::size_t start = start_in(b, offset);
    return start <= b.size && bytes <= b.size - start;
  };

  if (current_ < blocks_.size() && !fits(blocks_[current_], offset_)) {
    // Move on to the next block; the tail of this one counts as used until a rewind.
    used_ += blocks_[current_].size - offset_;
    ++current_;
    offset_ = 0;
    if (current_ < blocks_.size() && !fits(blocks_[current_], 0)) {
      // A kept block too small for this request: replace it by one that fits.
      system_free(blocks_[current_].data);
      blocks_[current_].data = nullptr;
      const std::size_t size = std::max(block_bytes_, bytes + align);
      blocks_[current_] = Block{system_allocate(size), size};
    }
  }
  if (current_ == blocks_.size()) {
    const std::size_t size = std::max(block_bytes_, bytes + align);
    blocks_.push_back(Block{system_allocate(size), size});
    offset_ = 0;
  }
  Block& b = blocks_[current_];
  const std::size_t start = start_in(b, offset_);
  used_ += (start - offset_) + bytes;
  offset_ = start + bytes;
  peak_ = std::max(peak_, used_);
  return b.data + start;
}

void Arena::rewind(const Marker& m) {
  GNM_CHECK(m.used <= used_ && (m.block < blocks_.size() || (m.block == 0 && m.offset == 0)),
            "arena marker is ahead of the current position (taken after a later rewind?)",
            m.used, used_, m.block, blocks_.size());
  // Check the marker's destructor is on our list before running any, so a foreign marker is
  // reported without destroying anything.
  if (m.destructors != nullptr) {
    const DestructorNode* n = destructors_;
    while (n != nullptr && n != m.destructors) n = n->next;
    GNM_CHECK(n != nullptr, "arena marker does not belong to this arena's current state");
  }
  run_destructors_until(m.destructors);
  current_ = m.block;
  offset_ = m.offset;
  used_ = m.used;
}

void Arena::run_destructors_until(const void* stop) noexcept {
  while (destructors_ != nullptr && destructors_ != stop) {
    DestructorNode* node = destructors_;
    destructors_ = node->next;
    node->destroy(node->object);
  }
}

std::size_t Arena::bytes_reserved() const noexcept {
  std::size_t total = 0;
  for (const Block& b : blocks_) total += b.size;
  return total;
}

// ---------------------------------------------------------------------------------------------
// PoolAllocator
// ---------------------------------------------------------------------------------------------

namespace {

constexpr std::uint32_t kMagic = 0x676e6d50;  // "gnmP"
enum : std::uint32_t { kLive = 1, kFree = 2 };

// One cache line in front of every block: keeps the user pointer 64-byte aligned.
struct alignas(kBlockAlign) PoolHeader {
  std::uint32_t magic;
  std::uint32_t state;
  std::uint32_t cls;
  const void* owner;
  std::size_t requested;
  PoolHeader* prev;  // every block of the pool, live or cached, is on one list
  PoolHeader* next;
};
static_assert(sizeof(PoolHeader) == kBlockAlign);

PoolHeader* header_of(void* p) { return static_cast<PoolHeader*>(p) - 1; }

}  // namespace

std::size_t PoolAllocator::class_index(std::size_t bytes) {
  GNM_CHECK(bytes <= kMaxBytes, "pool request larger than the largest size class (4 GiB)", bytes);
  const std::size_t rounded = std::bit_ceil(std::max(bytes, kMinClassBytes));
  return static_cast<std::size_t>(std::countr_zero(rounded) - std::countr_zero(kMinClassBytes));
}

std::size_t PoolAllocator::class_bytes(std::size_t bytes) {
  return kMinClassBytes << class_index(bytes);
}

void* PoolAllocator::allocate(std::size_t bytes) {
  const std::size_t cls = class_index(bytes);
  if (free_.size() <= cls) free_.resize(cls + 1);
  ++stats_.allocations;
  PoolHeader* h = nullptr;
  if (!free_[cls].empty()) {
    h = reinterpret_cast<PoolHeader*>(free_[cls].back());
    free_[cls].pop_back();
    stats_.cached_bytes -= kMinClassBytes << cls;
    ++stats_.reuses;
  } else {
    auto* raw = system_allocate(sizeof(PoolHeader) + (kMinClassBytes << cls));
    h = ::new (raw) PoolHeader{kMagic, kFree, static_cast<std::uint32_t>(cls), this, 0, nullptr, nullptr};
    // Link into the list of all blocks (head kept in `all_`).
    h->next = static_cast<PoolHeader*>(all_);
    if (h->next != nullptr) h->next->prev = h;
    all_ = h;
    ++stats_.system_allocations;
  }
  h->state = kLive;
  h->requested = bytes;
  stats_.live_bytes += bytes;
  stats_.peak_live_bytes = std::max(stats_.peak_live_bytes, stats_.live_bytes);
  return h + 1;
}

void PoolAllocator::deallocate(void* p, std::size_t bytes) {
  if (p == nullptr) return;
  GNM_CHECK(reinterpret_cast<std::uintptr_t>(p) % kBlockAlign == 0,
            "pointer passed to PoolAllocator::deallocate was not allocated by a pool", p);
  PoolHeader* h = header_of(p);
  GNM_CHECK(h->magic == kMagic && h->owner == this,
            "pointer passed to PoolAllocator::deallocate was not allocated by this pool", p);
  GNM_CHECK(h->state == kLive, "double free of a PoolAllocator block", p, h->requested);
  const std::size_t cls = class_index(bytes);
  GNM_CHECK(cls == h->cls, "PoolAllocator::deallocate size is not the size the block was allocated with",
            bytes, h->requested);
  h->state = kFree;
  stats_.live_bytes -= h->requested;
  h->requested = 0;
  free_[cls].push_back(reinterpret_cast<std::byte*>(h));
  stats_.cached_bytes += kMinClassBytes << cls;
}

void PoolAllocator::unlink_and_free(void* block) noexcept {
  auto* h = static_cast<PoolHeader*>(block);
  if (h->prev != nullptr) h->prev->next = h->next;
  else all_ = h->next;
  if (h->next != nullptr) h->next->prev = h->prev;
  h->magic = 0;
  system_free(reinterpret_cast<std::byte*>(h));
}

void PoolAllocator::release_cached() noexcept {
  for (auto& list : free_) {
    for (std::byte* b : list) unlink_and_free(b);
    list.clear();
  }
  stats_.cached_bytes = 0;
}

PoolAllocator::~PoolAllocator() {
  // Live blocks go too: the pool owns all its memory, as an arena does.
  while (all_ != nullptr) unlink_and_free(all_);
}

}  // namespace gnm
