// Property-based tests (RapidCheck) of strides, views and broadcasting (chapter 9.6): random
// shapes, permutations, slices and broadcast pairs, each checked against index arithmetic done
// by hand on the row-major values.
#include <gtest/gtest.h>

#if GNM_HAVE_RAPIDCHECK
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <numeric>

#include "gnm/tensor/ops.hpp"

namespace {

using gnm::Shape;
using gnm::Tensor;

Tensor iota(const Shape& shape) {
  std::vector<double> v(static_cast<std::size_t>(gnm::shape_numel(shape)));
  std::iota(v.begin(), v.end(), 0.0);
  return gnm::from_vector(std::span<const double>(v), shape, {.dtype = gnm::DType::f64});
}

// Row-major index of `idx` in `shape`.
std::int64_t flat(const Shape& shape, const Shape& idx) {
  std::int64_t f = 0;
  for (std::size_t d = 0; d < shape.size(); ++d) f = f * shape[d] + idx[d];
  return f;
}

// Calls fn(idx) for every multi-index of `shape` in row-major order.
template <class F>
void for_each_index(const Shape& shape, F fn) {
  Shape idx(shape.size(), 0);
  const std::int64_t n = gnm::shape_numel(shape);
  for (std::int64_t k = 0; k < n; ++k) {
    fn(idx);
    for (std::size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

rc::Gen<Shape> gen_shape(int max_rank) {
  return rc::gen::mapcat(rc::gen::inRange(1, max_rank + 1), [](int rank) {
    return rc::gen::container<Shape>(static_cast<std::size_t>(rank), rc::gen::inRange<std::int64_t>(1, 6));
  });
}

RC_GTEST_PROP(TensorProperties, PermuteThenContiguousMovesElements, ()) {
  const Shape shape = *gen_shape(4);
  Shape perm(shape.size());
  std::iota(perm.begin(), perm.end(), 0);
  const auto order = *rc::gen::unique<std::vector<int>>(perm.size(), rc::gen::inRange<int>(0, static_cast<int>(perm.size())));
  for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = order[i];
  const Tensor x = iota(shape);
  const Tensor p = x.permute(perm);
  RC_ASSERT(p.storage() == x.storage());
  const std::vector<double> got = p.contiguous().to_vector<double>();
  std::size_t k = 0;
  for_each_index(p.shape(), [&](const Shape& idx) {
    Shape src(shape.size());
    for (std::size_t i = 0; i < perm.size(); ++i) src[static_cast<std::size_t>(perm[i])] = idx[i];
    RC_ASSERT(got[k++] == static_cast<double>(flat(shape, src)));
  });
}

RC_GTEST_PROP(TensorProperties, SliceMatchesIndexArithmetic, ()) {
  const Shape shape = *gen_shape(4);
  const auto dim = *rc::gen::inRange<std::int64_t>(0, static_cast<std::int64_t>(shape.size()));
  const std::int64_t n = shape[static_cast<std::size_t>(dim)];
  const auto start = *rc::gen::inRange<std::int64_t>(0, n);
  const auto end = *rc::gen::inRange<std::int64_t>(start, n + 1);
  const auto step = *rc::gen::inRange<std::int64_t>(1, 4);
  const Tensor x = iota(shape);
  const Tensor s = x.slice(dim, start, end, step);
  const std::vector<double> got = s.to_vector<double>();
  std::size_t k = 0;
  for_each_index(s.shape(), [&](const Shape& idx) {
    Shape src = idx;
    src[static_cast<std::size_t>(dim)] = start + idx[static_cast<std::size_t>(dim)] * step;
    RC_ASSERT(got[k++] == static_cast<double>(flat(shape, src)));
  });
  RC_ASSERT(k == static_cast<std::size_t>(s.numel()));
}

RC_GTEST_PROP(TensorProperties, BroadcastAddMatchesReference, ()) {
  const Shape out = *gen_shape(4);
  // Each operand keeps a suffix of the dims and turns some sizes into 1.
  auto operand = [&]() {
    const auto keep = *rc::gen::inRange<std::size_t>(0, out.size() + 1);
    Shape s(out.end() - static_cast<std::ptrdiff_t>(keep), out.end());
    for (auto& v : s)
      if (*rc::gen::arbitrary<bool>()) v = 1;
    return s;
  };
  const Shape sa = operand(), sb = operand();
  const Shape bs = gnm::broadcast_shapes(sa, sb);
  const Tensor a = iota(sa), b = iota(sb) * 1000.0;
  const std::vector<double> got = (a + b).to_vector<double>();
  std::size_t k = 0;
  for_each_index(bs, [&](const Shape& idx) {
    auto pick = [&](const Shape& s) {
      Shape i(s.size());
      for (std::size_t d = 0; d < s.size(); ++d) {
        const std::size_t od = bs.size() - s.size() + d;
        i[d] = s[d] == 1 ? 0 : idx[od];
      }
      return static_cast<double>(flat(s, i));
    };
    RC_ASSERT(got[k++] == pick(sa) + 1000.0 * pick(sb));
  });
}

RC_GTEST_PROP(TensorProperties, ReshapeOfAnyLayoutKeepsRowMajorOrder, ()) {
  const Shape shape = *gen_shape(4);
  const Tensor x = iota(shape);
  // A transposed (non-contiguous) input: reshape must give the transposed row-major order.
  const Tensor t = shape.size() >= 2 ? x.transpose(0, static_cast<std::int64_t>(shape.size()) - 1) : x;
  const std::vector<double> expect = t.contiguous().to_vector<double>();
  const Tensor r = t.reshape({-1});
  RC_ASSERT(r.to_vector<double>() == expect);
  RC_ASSERT(r.reshape(t.shape()).contiguous().to_vector<double>() == expect);
}

}  // namespace
#else
TEST(TensorProperties, RequiresRapidCheck) { GTEST_SKIP() << "librapidcheck-dev not found"; }
#endif
