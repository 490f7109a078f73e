// Section 4.1's types: Array2D ownership (move-only, moved-from empty, clone is deep), and
// Storage / SharedView / WeakView lifetimes.
#include <gtest/gtest.h>

#include <memory>
#include <type_traits>
#include <utility>

#include "array2d.hpp"
#include "gnm/core/error.hpp"
#include "ownership.hpp"

namespace {

using gnm::ch04::Array2D;

static_assert(!std::is_copy_constructible_v<Array2D<float>>, "copies are spelled clone()");
static_assert(std::is_nothrow_move_constructible_v<Array2D<float>> &&
                  std::is_nothrow_move_assignable_v<Array2D<float>>,
              "moves are noexcept, so std::vector<Array2D> moves instead of copying");

TEST(Ch04Ownership, Array2DMoveLeavesAnEmptyArray) {
  Array2D<float> a(3, 5);
  a(2, 4) = 7.0f;
  const float* p = a.data();
  Array2D<float> b = std::move(a);
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b(2, 4), 7.0f);
  EXPECT_EQ(a.rows(), 0);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(a.cols(), 0);
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_THROW(a.at(0, 0), gnm::ShapeError) << "use after move is reported by the checked accessor";
  a = std::move(b);  // a moved-from object can be assigned again
  EXPECT_EQ(a(2, 4), 7.0f);
}

TEST(Ch04Ownership, CloneIsDeepAndFromViewPacks) {
  Array2D<double> a(2, 3);
  for (std::int64_t i = 0; i < 6; ++i) a.flat()[static_cast<std::size_t>(i)] = double(i);
  Array2D<double> c = a.clone();
  EXPECT_NE(c.data(), a.data());
  c(0, 0) = -1.0;
  EXPECT_EQ(a(0, 0), 0.0);
  const auto t = Array2D<double>::from_view(a.view().transposed());
  EXPECT_EQ(t.rows(), 3);
  EXPECT_EQ(t.cols(), 2);
  EXPECT_EQ(t(2, 1), a(1, 2));
  EXPECT_THROW(Array2D<float>(-1, 2), gnm::ShapeError);
  Array2D<float> empty(0, 7);
  EXPECT_TRUE(empty.empty());
}

TEST(Ch04Ownership, SharedViewKeepsStorageAlive) {
  auto storage = std::make_shared<ch04::Storage>(10);
  const ch04::SharedView v(storage, 2, 5);
  v.span()[0] = 4.0f;
  EXPECT_EQ(storage->span()[2], 4.0f);
  EXPECT_EQ(v.owners(), 2);
  std::weak_ptr<ch04::Storage> probe = storage;
  storage.reset();
  EXPECT_FALSE(probe.expired()) << "the view still owns the storage";
  EXPECT_EQ(v.owners(), 1);
  EXPECT_EQ(v.span()[0], 4.0f);
}

TEST(Ch04Ownership, WeakViewDetectsTheDeath) {
  auto storage = std::make_shared<ch04::Storage>(8);
  const ch04::WeakView w(storage, 0, 8);
  EXPECT_FALSE(w.expired());
  EXPECT_EQ(w.lock().span().size(), 8u);
  storage.reset();
  EXPECT_TRUE(w.expired());
  EXPECT_THROW((void)w.lock(), gnm::Error);
}

TEST(Ch04Ownership, ViewRangesAreChecked) {
  auto storage = std::make_shared<ch04::Storage>(8);
  EXPECT_THROW(ch04::SharedView(storage, 5, 4), gnm::ShapeError);
  EXPECT_THROW(ch04::WeakView(storage, 9, 0), gnm::ShapeError);
  EXPECT_THROW(ch04::SharedView(nullptr, 0, 0), gnm::Error);
  EXPECT_NO_THROW(ch04::SharedView(storage, 8, 0));  // an empty view at the end
}

}  // namespace
