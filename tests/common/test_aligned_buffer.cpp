#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <type_traits>

#include "gnm/core/aligned_buffer.hpp"

static_assert(!std::is_copy_constructible_v<gnm::AlignedBuffer<float>>);
static_assert(std::is_nothrow_move_constructible_v<gnm::AlignedBuffer<float>>);

TEST(AlignedBuffer, IsAlignedAndHoldsItsElements) {
  for (std::size_t n : {1u, 3u, 17u, 1000u}) {
    gnm::AlignedBuffer<float> b(n);
    ASSERT_EQ(b.size(), n);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.data()) % 64, 0u);
    std::iota(b.begin(), b.end(), 1.0f);
    EXPECT_EQ(b[n - 1], static_cast<float>(n));
  }
  gnm::AlignedBuffer<double, 256> wide(5);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(wide.data()) % 256, 0u);
}

TEST(AlignedBuffer, EmptyAndMoved) {
  gnm::AlignedBuffer<int> empty(0);
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.data(), nullptr);
  gnm::AlignedBuffer<int> a(10);
  int* p = a.data();
  gnm::AlignedBuffer<int> b(std::move(a));
  EXPECT_EQ(b.data(), p);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  a = std::move(b);
  EXPECT_EQ(a.data(), p);
  EXPECT_EQ(a.span().size(), 10u);
}

TEST(AlignedBuffer, OverflowingSizeIsAnError) {
  EXPECT_THROW(gnm::AlignedBuffer<double>(static_cast<std::size_t>(-1) / 4), gnm::Error);
}
