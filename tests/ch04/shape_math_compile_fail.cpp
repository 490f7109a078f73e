// Compiled by the tests ch04/compile_fail/* (tests/ch04/CMakeLists.txt), never linked: the
// constexpr shape maths of section 4.5 turn a shape mismatch into a compile error.
#include "shape_math.hpp"

using ch04::shape::Shape;

static_assert(ch04::shape::broadcast(Shape<2>{3, 1}, Shape<2>{1, 4}) == Shape<2>{3, 4});

#if GNM_CH04_BAD_BROADCAST
// (3) and (4) cannot be broadcast: evaluating this reaches shape::fail, which is not constexpr.
static_assert(ch04::shape::broadcast(Shape<1>{3}, Shape<1>{4}) == Shape<1>{4});
#endif
