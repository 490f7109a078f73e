// Exercise 4.1: the move operations of MoveBuffer. A move hands over the pointer, leaves the
// source empty, never copies an element, and never leaks or frees twice (live_allocations()
// counts what is allocated and not yet freed). Every test moves, so each fails on the stub.
#include <gtest/gtest.h>

#include <type_traits>
#include <utility>
#include <vector>

#include "gnm/core/error.hpp"
#include "move_buffer.hpp"

namespace {

using gnm::ch04::MoveBuffer;

static_assert(!std::is_copy_constructible_v<MoveBuffer> && !std::is_copy_assignable_v<MoveBuffer>,
              "MoveBuffer is move-only");

TEST(Ch04MoveBuffer, MoveConstructionHandsOverThePointer) {
  const auto live = MoveBuffer::live_allocations();
  {
    MoveBuffer a(100);
    a.at(7) = 3.5f;
    float* const p = a.data();
    MoveBuffer b(std::move(a));
    EXPECT_EQ(b.data(), p) << "a move must not allocate or copy";
    EXPECT_EQ(b.size(), 100u);
    EXPECT_EQ(b.at(7), 3.5f);
    EXPECT_EQ(a.data(), nullptr) << "the moved-from buffer must be empty";  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.size(), 0u);
    EXPECT_TRUE(a.empty());
    EXPECT_EQ(MoveBuffer::live_allocations(), live + 1) << "one buffer, one allocation";
  }
  EXPECT_EQ(MoveBuffer::live_allocations(), live) << "freed exactly once";
}

TEST(Ch04MoveBuffer, UseAfterMoveIsReportedNotRead) {
  MoveBuffer a(4);
  MoveBuffer b(std::move(a));
  EXPECT_THROW(a.at(0), gnm::Error);  // NOLINT(bugprone-use-after-move)
  EXPECT_NO_THROW(b.at(3));
}

TEST(Ch04MoveBuffer, MoveAssignmentFreesTheOldBuffer) {
  const auto live = MoveBuffer::live_allocations();
  {
    MoveBuffer a(10), b(20);
    float* const pb = b.data();
    EXPECT_EQ(MoveBuffer::live_allocations(), live + 2);
    a = std::move(b);
    EXPECT_EQ(MoveBuffer::live_allocations(), live + 1) << "a's old buffer must be freed";
    EXPECT_EQ(a.data(), pb);
    EXPECT_EQ(a.size(), 20u);
    EXPECT_EQ(b.data(), nullptr);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(b.size(), 0u);
  }
  EXPECT_EQ(MoveBuffer::live_allocations(), live);
}

TEST(Ch04MoveBuffer, MoveAssignmentIntoAnEmptyBufferAndFromAnEmptyOne) {
  const auto live = MoveBuffer::live_allocations();
  {
    MoveBuffer empty, full(5);
    empty = std::move(full);
    EXPECT_EQ(empty.size(), 5u);
    EXPECT_TRUE(full.empty());  // NOLINT(bugprone-use-after-move)
    MoveBuffer other(3);
    other = std::move(full);  // from a moved-from buffer: other becomes empty, its memory freed
    EXPECT_TRUE(other.empty());
    EXPECT_EQ(other.data(), nullptr);
    EXPECT_EQ(MoveBuffer::live_allocations(), live + 1);
  }
  EXPECT_EQ(MoveBuffer::live_allocations(), live);
}

TEST(Ch04MoveBuffer, SelfMoveAssignmentChangesNothing) {
  const auto live = MoveBuffer::live_allocations();
  {
    MoveBuffer a(8);
    a.at(2) = 9.0f;
    float* const p = a.data();
    MoveBuffer& alias = a;  // spelled through a reference, as it happens in real code
    a = std::move(alias);
    EXPECT_EQ(a.data(), p);
    EXPECT_EQ(a.size(), 8u);
    EXPECT_EQ(a.at(2), 9.0f);
  }
  EXPECT_EQ(MoveBuffer::live_allocations(), live);
}

TEST(Ch04MoveBuffer, VectorGrowthMovesEveryBufferOnce) {
  const auto live = MoveBuffer::live_allocations();
  {
    std::vector<MoveBuffer> buffers;
    for (int i = 0; i < 33; ++i) {  // several reallocations of the vector
      buffers.emplace_back(static_cast<std::size_t>(i + 1));
      buffers.back().at(0) = static_cast<float>(i);
    }
    EXPECT_EQ(MoveBuffer::live_allocations(), live + 33);
    for (int i = 0; i < 33; ++i) {
      EXPECT_EQ(buffers[static_cast<std::size_t>(i)].size(), static_cast<std::size_t>(i + 1));
      EXPECT_EQ(buffers[static_cast<std::size_t>(i)].at(0), static_cast<float>(i));
    }
  }
  EXPECT_EQ(MoveBuffer::live_allocations(), live);
}

}  // namespace
