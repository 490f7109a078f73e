// Exercise 4.1: the move operations of a move-only buffer (see exercises/ch04/move_buffer.hpp).
#include "move_buffer.hpp"

#include <atomic>
#include <utility>

#include "gnm/core/check.hpp"

namespace gnm::ch04 {
namespace {
std::atomic<std::int64_t> g_live{0};  // buffers allocated and not yet freed
}  // namespace

MoveBuffer::MoveBuffer(std::size_t size) {
  if (size == 0) return;
  data_ = new float[size]();  // () zero-initialises
  size_ = size;
  g_live.fetch_add(1, std::memory_order_relaxed);
}

//! [move]
MoveBuffer::MoveBuffer(MoveBuffer&& other) {
  // BEGIN SOLUTION("ex 4.1", "copy other's pointer and size into this object, then set other's to nullptr and 0 (std::exchange does both in one step)")
  data_ = std::exchange(other.data_, nullptr);
  size_ = std::exchange(other.size_, 0);
  // END SOLUTION
}

MoveBuffer& MoveBuffer::operator=(MoveBuffer&& other) {
  // BEGIN SOLUTION("ex 4.1", "if &other != this: free this buffer's memory (as the destructor does), then take other's pointer and size and empty other; return *this")
  if (this != &other) {
    if (data_ != nullptr) {
      delete[] data_;
      g_live.fetch_sub(1, std::memory_order_relaxed);
    }
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
  // END SOLUTION
}
//! [move]

MoveBuffer::~MoveBuffer() {
  if (data_ == nullptr) return;
  delete[] data_;
  g_live.fetch_sub(1, std::memory_order_relaxed);
}

float& MoveBuffer::at(std::size_t i) {
  GNM_CHECK(i < size_, "index out of range (a moved-from buffer has size 0)", i, size_);
  return data_[i];
}

std::int64_t MoveBuffer::live_allocations() noexcept {
  return g_live.load(std::memory_order_relaxed);
}

}  // namespace gnm::ch04
