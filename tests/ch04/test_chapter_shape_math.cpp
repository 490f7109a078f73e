// Section 4.5's constexpr shape maths at run time: the same results as the static_asserts in
// shape_math.hpp, and gnm::ShapeError where the compile-time version refuses to compile.
#include <gtest/gtest.h>

#include <string>

#include "gnm/core/error.hpp"
#include "shape_math.hpp"

namespace {

using namespace ch04::shape;

// Values the compiler cannot fold: the functions run as ordinary code.
std::int64_t runtime(std::int64_t v) {
  volatile std::int64_t x = v;
  return x;
}

TEST(Ch04ShapeMath, RunTimeMatchesCompileTime) {
  constexpr auto ct = broadcast(Shape<4>{8, 1, 6, 1}, Shape<3>{7, 1, 5});
  EXPECT_EQ(broadcast(Shape<4>{runtime(8), 1, 6, 1}, Shape<3>{7, 1, runtime(5)}), ct);
  EXPECT_EQ(numel(Shape<3>{runtime(2), 3, 4}), 24);
  EXPECT_EQ(numel(Shape<2>{runtime(0), 5}), 0);
  EXPECT_EQ(row_major_strides(Shape<3>{runtime(2), 3, 4}), (Shape<3>{12, 4, 1}));
  EXPECT_EQ(row_major_strides(Shape<1>{runtime(9)}), (Shape<1>{1}));
  EXPECT_EQ(conv_output_size(runtime(224), 7, 2, 3), 112);
  EXPECT_EQ(conv_output_size(runtime(5), 5), 1);    // the window exactly fits
  EXPECT_EQ(conv_output_size(runtime(7), 3, 3), 2);  // ⌊(7 − 3) / 3⌋ + 1
  EXPECT_EQ(conv_output_size(runtime(0), 1, 1, 1), 2);  // padding only: (0 + 2 − 1) / 1 + 1
}

TEST(Ch04ShapeMath, BroadcastRules) {
  EXPECT_EQ(broadcast(Shape<1>{runtime(1)}, Shape<2>{4, 5}), (Shape<2>{4, 5}));
  EXPECT_EQ(broadcast(Shape<2>{runtime(4), 1}, Shape<2>{1, 5}), (Shape<2>{4, 5}));
  EXPECT_EQ(broadcast(Shape<0>{}, Shape<2>{runtime(2), 3}), (Shape<2>{2, 3}));
  EXPECT_EQ(broadcast(Shape<1>{runtime(0)}, Shape<1>{1}), (Shape<1>{0}));
}

TEST(Ch04ShapeMath, InvalidShapesThrowNamingTheSizes) {
  try {
    (void)broadcast(Shape<2>{runtime(3), 4}, Shape<1>{5});
    FAIL() << "expected gnm::ShapeError";
  } catch (const gnm::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("4 and 5"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)numel(Shape<2>{runtime(-1), 3}), gnm::ShapeError);
  EXPECT_THROW((void)conv_output_size(runtime(2), 5), gnm::ShapeError);
  EXPECT_THROW((void)conv_output_size(runtime(8), 3, 0), gnm::ShapeError);
  EXPECT_THROW((void)conv_output_size(runtime(8), 0), gnm::ShapeError);
  EXPECT_THROW((void)conv_output_size(runtime(8), 3, 1, -1), gnm::ShapeError);
}

}  // namespace
