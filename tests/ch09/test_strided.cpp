// Exercise 9.1: element_offset and contiguous_copy against the engine's own views (whose values
// are their storage indices, so a wrong offset shows as a wrong value) and against an
// independent reference that decodes every row-major index by division. Copies are exact: the
// comparisons are equality, no tolerance. Every test calls an exercised function on a valid
// layout first, so each fails on the stub.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "ch09_testing.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/tensor/ops.hpp"
#include "strided.hpp"

namespace {

using gnm::Tensor;
using gnm::ch09::contiguous_copy;
using gnm::ch09::element_offset;
using gnm::ch09::Layout;
using namespace ch09_testing;

// 0, 1, …, n−1 as f32 in a fresh storage of shape `shape`: value == storage index.
Tensor iota(const gnm::Shape& shape) {
  return gnm::arange(gnm::shape_numel(shape), {.dtype = gnm::DType::f32}).view(shape);
}

// Views of odd sizes (1, primes), with steps, broadcasts, offsets and dropped dimensions.
std::vector<std::pair<std::string, Tensor>> engine_views() {
  const Tensor a = iota({3, 5, 7});
  const Tensor b = iota({13, 11});
  return {
      {"contiguous (3, 5, 7)", a},
      {"transpose(0, 2)", a.transpose(0, 2)},
      {"permute(1, 2, 0)", a.permute({1, 2, 0})},
      {"slice(1, 1, 5, 2)", a.slice(1, 1, 5, 2)},
      {"slice(2, 6, 7)", a.slice(2, 6, 7)},
      {"select(0, 2)", a.select(0, 2)},
      {"narrow(0, 1, 2).t-like", a.narrow(0, 1, 2).transpose(1, 2)},
      {"(13, 11) sliced by 3 then transposed", b.slice(0, 2, 13, 3).t()},
      {"expand (1, 11) → (7, 11)", b.slice(0, 4, 5).expand({7, 11})},
      {"unsqueeze(1).expand", b.select(1, 3).unsqueeze(1).expand({13, 5})},
      {"size-1 everywhere", iota({1, 1, 1})},
      {"0-d select", b.select(0, 12).select(0, 10)},
  };
}

TEST(Strided, ElementOffsetFindsEveryElementOfEngineViews) {
  for (const auto& [name, view] : engine_views()) {
    const Layout layout = layout_of(view);
    const std::span<const float> storage = storage_of(view);
    const std::vector<float> want = view.contiguous().to_vector<float>();
    for (std::int64_t k = 0; k < view.numel(); ++k) {
      const auto idx = unravel(k, view.shape());
      const std::int64_t pos = element_offset(layout, idx);
      ASSERT_GE(pos, 0) << name;
      ASSERT_LT(pos, static_cast<std::int64_t>(storage.size())) << name;
      EXPECT_EQ(storage[static_cast<std::size_t>(pos)], want[static_cast<std::size_t>(k)])
          << name << ", element " << k;
    }
  }
}

TEST(Strided, ElementOffsetOfAZeroDimLayoutIsItsOffset) {
  const Layout scalar{{}, {}, 17};
  EXPECT_EQ(element_offset(scalar, {}), 17);
}

TEST(Strided, ElementOffsetRejectsBadIndices) {
  const Layout layout{{3, 4}, {4, 1}, 0};
  const std::vector<std::int64_t> ok = {2, 3};
  EXPECT_EQ(element_offset(layout, ok), 11);  // the stub throws here
  const std::vector<std::int64_t> too_few = {2};
  EXPECT_THROW((void)element_offset(layout, too_few), gnm::ShapeError);
  for (const std::vector<std::int64_t>& bad : {std::vector<std::int64_t>{3, 0}, {0, -1}, {1, 4}}) {
    try {
      (void)element_offset(layout, bad);
      ADD_FAILURE() << "index (" << bad[0] << ", " << bad[1] << ") is out of range";
    } catch (const gnm::NotImplemented& e) {
      ADD_FAILURE() << e.what();
    } catch (const gnm::Error& e) {
      EXPECT_NE(std::string(e.what()).find("out of range"), std::string::npos) << e.what();
    }
  }
}

TEST(Strided, ContiguousCopyMatchesTheEngine) {
  for (const auto& [name, view] : engine_views()) {
    EXPECT_EQ(contiguous_copy(storage_of(view), layout_of(view)),
              view.contiguous().to_vector<float>())
        << name << ": shape " << gnm::shape_str(view.shape()) << ", strides "
        << gnm::shape_str(view.strides()) << ", offset " << view.offset();
  }
}

TEST(Strided, ContiguousCopyOfRandomLayoutsMatchesAnIndependentReference) {
  // Random ranks 1–6, sizes 1–6, strides a random permutation of row-major ones, some set to 0
  // (broadcast), and a random offset, over a buffer of random values.
  const gnm::PhiloxRng rng(0x90a1ULL, 0);
  std::uint64_t draw = 0;
  auto next = [&](std::int64_t n) {  // uniform integer in [0, n)
    const float u = rng.uniform(draw++) * static_cast<float>(n);
    return std::min<std::int64_t>(n - 1, static_cast<std::int64_t>(u));
  };
  for (int trial = 0; trial < 200; ++trial) {
    const std::int64_t nd = 1 + next(6);
    Layout layout;
    for (std::int64_t d = 0; d < nd; ++d) layout.shape.push_back(1 + next(6));
    std::vector<std::int64_t> order(static_cast<std::size_t>(nd));
    std::iota(order.begin(), order.end(), 0);
    for (std::size_t i = order.size(); i > 1; --i) {  // Fisher–Yates
      std::swap(order[i - 1], order[static_cast<std::size_t>(next(static_cast<std::int64_t>(i)))]);
    }
    layout.strides.assign(static_cast<std::size_t>(nd), 0);
    std::int64_t step = 1 + next(2);  // a gap of 1 between elements half the time
    for (std::int64_t d : order) {
      const auto u = static_cast<std::size_t>(d);
      layout.strides[u] = next(5) == 0 ? 0 : step;
      step *= layout.shape[u];
    }
    layout.offset = next(9);
    // The largest index reached is below offset + step (step ended as gap·Π sizes).
    const auto storage = uniform(static_cast<std::size_t>(layout.offset + step),
                                 900 + static_cast<std::uint64_t>(trial));
    const std::vector<float> got = contiguous_copy(storage, layout);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(numel(layout.shape)));
    for (std::size_t k = 0; k < got.size(); ++k) {
      const auto idx = unravel(static_cast<std::int64_t>(k), layout.shape);
      std::int64_t pos = layout.offset;
      for (std::size_t d = 0; d < idx.size(); ++d) pos += idx[d] * layout.strides[d];
      ASSERT_EQ(got[k], storage[static_cast<std::size_t>(pos)])
          << "trial " << trial << ", element " << k << ", shape " << gnm::shape_str(layout.shape)
          << ", strides " << gnm::shape_str(layout.strides) << ", offset " << layout.offset;
    }
  }
}

TEST(Strided, ContiguousCopyOfZeroDimAndEmptyLayouts) {
  const std::vector<float> storage = {1.5f, 2.5f, 3.5f};
  EXPECT_EQ(contiguous_copy(storage, Layout{{}, {}, 2}), std::vector<float>{3.5f});
  EXPECT_TRUE(contiguous_copy(storage, Layout{{4, 0, 3}, {0, 1, 1}, 0}).empty());
  // An empty layout may have any offset: it reads nothing.
  EXPECT_TRUE(contiguous_copy({}, Layout{{0}, {1}, 5}).empty());
}

TEST(Strided, ContiguousCopyRejectsLayoutsOutsideTheStorage) {
  const std::vector<float> storage(12, 1.0f);
  EXPECT_EQ(contiguous_copy(storage, Layout{{3, 4}, {4, 1}, 0}).size(), 12u);  // stub throws here
  EXPECT_THROW((void)contiguous_copy(storage, Layout{{3, 4}, {4, 1}, 1}), gnm::Error);
  EXPECT_THROW((void)contiguous_copy(storage, Layout{{3, 4}, {1}, 0}), gnm::ShapeError);
  EXPECT_THROW((void)contiguous_copy(storage, Layout{{3, 4}, {-4, 1}, 11}), gnm::ShapeError);
}

}  // namespace
