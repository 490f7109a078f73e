/// \file
/// Two host allocators for many small, short-lived objects: a bump `Arena` and a size-class
/// `PoolAllocator`.
///
/// Both exist because `malloc` is a general-purpose allocator: it takes a lock or a per-thread
/// cache, searches bins and keeps headers, so a training step that creates thousands of small
/// tensors pays that price thousands of times (chapter 5.3 measures it).
///
/// - `Arena` hands out memory by bumping an offset inside big blocks. Nothing is freed one at a
///   time: `rewind()` to a marker or `reset()` frees everything allocated since, in O(1) (plus the
///   destructors of non-trivial objects). The autodiff tape of chapter 3 keeps its nodes in one.
/// - `PoolAllocator` keeps freed blocks in free lists by power-of-two size class and hands them out
///   again, so buffers can be released in any order — the saved values of a tape freed as soon as
///   the backward pass has used them, for instance. Its statistics give the peak live bytes.
///
/// Neither is thread-safe: give each thread its own (that is also what makes them fast).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace gnm {

/// A monotonic (bump) allocator over a list of blocks, with markers to free everything after a
/// point at once.
///
/// Pointers stay valid until the arena is rewound past them, reset or destroyed; blocks are never
/// moved. Objects made with create() have their destructors run, newest first, when the arena is
/// rewound past them, reset or destroyed. Move-only.
class Arena {
 public:
  /// A position in the arena, from mark(); rewind() frees everything allocated after it.
  struct Marker {
    std::size_t block = 0;        ///< Index of the block being filled.
    std::size_t offset = 0;       ///< Bytes used in that block.
    std::size_t used = 0;         ///< bytes_used() at the time of the mark.
    const void* destructors = nullptr;  ///< Newest registered destructor at the time of the mark.
  };

  /// An arena that takes memory from the system in blocks of `block_bytes` (>= 64; bigger
  /// requests get a block of their own size). gnm::Error naming the value otherwise.
  explicit Arena(std::size_t block_bytes = 64 * 1024);
  /// Runs the remaining destructors (newest first) and frees every block.
  ~Arena();
  /// Takes `other`'s blocks and objects; `other` is left empty.
  Arena(Arena&& other) noexcept;
  /// Frees this arena's contents, then takes `other`'s; `other` is left empty.
  Arena& operator=(Arena&& other) noexcept;
  Arena(const Arena&) = delete;             ///< Not copyable: it owns its blocks.
  Arena& operator=(const Arena&) = delete;  ///< Not copyable: it owns its blocks.

  /// `bytes` of uninitialised memory aligned to `align` (a power of two, at most 4096;
  /// gnm::Error naming it otherwise). Zero bytes gives a valid, unique, aligned pointer.
  void* allocate(std::size_t bytes, std::size_t align = alignof(std::max_align_t));

  /// Constructs a `T` in the arena. A non-trivially destructible `T` is destroyed when the arena
  /// is rewound past it, reset or destroyed.
  template <class T, class... Args>
  T* create(Args&&... args) {
    if constexpr (std::is_trivially_destructible_v<T>) {
      return ::new (allocate(sizeof(T), alignof(T))) T(std::forward<Args>(args)...);
    } else {
      // The bookkeeping node is allocated first so that, once T is built, registering its
      // destructor cannot fail and leak it.
      auto* node = static_cast<DestructorNode*>(allocate(sizeof(DestructorNode), alignof(DestructorNode)));
      T* object = ::new (allocate(sizeof(T), alignof(T))) T(std::forward<Args>(args)...);
      *node = DestructorNode{[](void* p) noexcept { static_cast<T*>(p)->~T(); }, object, destructors_};
      destructors_ = node;
      return object;
    }
  }

  /// `n` uninitialised elements of a trivially copyable `T`, aligned for `T`.
  template <class T>
  std::span<T> allocate_array(std::size_t n) {
    static_assert(std::is_trivially_copyable_v<T>, "allocate_array holds plain data; use create() for objects");
    check_array_size(n, sizeof(T));
    return {static_cast<T*>(allocate(n * sizeof(T), alignof(T))), n};
  }

  /// The current position, to rewind() to later.
  Marker mark() const noexcept { return {current_, offset_, used_, destructors_}; }

  /// Frees everything allocated after `m` (running destructors, newest first) and keeps the
  /// blocks for reuse. Markers taken after `m` become invalid; rewinding to one that is ahead of
  /// the current position is a gnm::Error naming both positions.
  void rewind(const Marker& m);

  /// Frees everything (running destructors) and keeps the blocks for reuse.
  void reset() { rewind(Marker{}); }

  /// Bytes handed out since the start or the last reset, counting alignment padding and the
  /// unused tail of blocks that were full.
  std::size_t bytes_used() const noexcept { return used_; }
  /// The largest bytes_used() seen since construction.
  std::size_t peak_bytes_used() const noexcept { return peak_; }
  /// Bytes held from the system (all blocks).
  std::size_t bytes_reserved() const noexcept;
  /// Number of blocks held from the system.
  std::size_t block_count() const noexcept { return blocks_.size(); }

 private:
  struct DestructorNode {
    void (*destroy)(void*) noexcept;
    void* object;
    DestructorNode* next;
  };
  struct Block {
    std::byte* data;
    std::size_t size;
  };

  static void check_array_size(std::size_t n, std::size_t elem);
  void run_destructors_until(const void* stop) noexcept;
  void free_blocks() noexcept;

  std::size_t block_bytes_;
  std::vector<Block> blocks_;
  std::size_t current_ = 0;  // block being filled (== blocks_.size() before the first allocation)
  std::size_t offset_ = 0;   // bytes used in blocks_[current_]
  std::size_t used_ = 0;
  std::size_t peak_ = 0;
  DestructorNode* destructors_ = nullptr;
};

/// A caching allocator with power-of-two size classes from 64 B: freed blocks go to their class's
/// free list and are handed out again by the next request of that class.
///
/// Every block starts with a 64-byte header (one cache line, which keeps the user pointer 64-byte
/// aligned) holding its class and state. That buys checked frees: a pointer that is not from this
/// pool, a double free or a size from another class is a gnm::Error, never a corrupt free list.
/// All memory, cached or still live, goes back to the system when the pool is destroyed.
class PoolAllocator {
 public:
  /// Counters since construction.
  struct Stats {
    std::size_t live_bytes = 0;          ///< Bytes requested and not yet deallocated.
    std::size_t peak_live_bytes = 0;     ///< Largest live_bytes seen.
    std::size_t cached_bytes = 0;        ///< Class bytes sitting in free lists.
    std::size_t allocations = 0;         ///< Calls to allocate().
    std::size_t reuses = 0;              ///< Of those, served from a free list.
    std::size_t system_allocations = 0;  ///< Of those, that went to the system.
  };

  /// Smallest size class in bytes.
  static constexpr std::size_t kMinClassBytes = 64;
  /// Largest request served (4 GiB); bigger ones are a gnm::Error naming the size.
  static constexpr std::size_t kMaxBytes = std::size_t{1} << 32;

  /// An empty pool; it takes memory from the system on demand.
  PoolAllocator() = default;
  /// Frees every block, cached or still live.
  ~PoolAllocator();
  PoolAllocator(const PoolAllocator&) = delete;             ///< Not copyable: blocks know their pool.
  PoolAllocator& operator=(const PoolAllocator&) = delete;  ///< Not copyable: blocks know their pool.

  /// At least `bytes` of uninitialised memory, 64-byte aligned (zero bytes gives a valid block).
  void* allocate(std::size_t bytes);
  /// Returns a block from allocate(p's size) to its free list. `bytes` must be the size it was
  /// allocated with (or any size of the same class); nullptr is ignored.
  void deallocate(void* p, std::size_t bytes);

  /// Current counters.
  const Stats& stats() const noexcept { return stats_; }
  /// Gives every cached (free) block back to the system.
  void release_cached() noexcept;
  /// The size class (a power of two >= 64) that serves a request of `bytes`.
  static std::size_t class_bytes(std::size_t bytes);

 private:
  static std::size_t class_index(std::size_t bytes);
  void unlink_and_free(void* block) noexcept;
  std::vector<std::vector<std::byte*>> free_;  // by class index; pointers to block starts (headers)
  void* all_ = nullptr;  // head of the intrusive list of every block, live or cached
  Stats stats_;
};

}  // namespace gnm
