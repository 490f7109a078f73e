// cat, stack, index_select, gather and embedding (chapter 9.3): exact values (they move data,
// they do no arithmetic), duplicated indices accumulating in the backward, empty and strided
// inputs, out-of-range indices as errors naming the index and the size, and gradcheck. PyTorch's
// values are replayed from tests/fixtures/ch09/nn_index.json in test_ops_loss.cpp.
#include <gtest/gtest.h>

#include <numeric>

#include "gnm/autograd/gradcheck.hpp"
#include "gnm/autograd/node.hpp"
#include "gnm/tensor/ops.hpp"
#include "tensor_testing.hpp"

namespace {

using gnm::testing::leaf;
using gnm::testing::expect_gradcheck;
using gnm::testing::longs;
using gnm::testing::seq;

using gnm::DType;
using gnm::Shape;
using gnm::Tensor;
namespace ag = gnm::autograd;

void expect_error_mentions(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected gnm::Error";
  } catch (const gnm::Error& e) {
    for (const std::string& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(OpsIndex, CatAndStackValues) {
  const Tensor a = seq({2, 3}), b = gnm::add(seq({2, 1}), 100.0), e = gnm::zeros({2, 0});
  const Tensor c = gnm::cat({a, e, b}, 1);
  EXPECT_EQ(c.shape(), (Shape{2, 4}));
  EXPECT_EQ(c.to_vector<double>(), (std::vector<double>{0, 1, 2, 100, 3, 4, 5, 101}));
  const Tensor r = gnm::cat({a, a.slice(0, 1, 2)}, 0);  // a strided piece
  EXPECT_EQ(r.to_vector<double>(), (std::vector<double>{0, 1, 2, 3, 4, 5, 3, 4, 5}));
  EXPECT_EQ(gnm::cat({a.t(), b.t()}, -2).shape(), (Shape{4, 2}));
  const Tensor s = gnm::stack({a, gnm::add(a, 10.0)}, -1);  // a new last dim
  EXPECT_EQ(s.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(s.to_vector<double>(), (std::vector<double>{0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15}));
  EXPECT_EQ(gnm::stack({a, a, a}, 0).shape(), (Shape{3, 2, 3}));
  EXPECT_EQ(gnm::stack({gnm::scalar_tensor(1.0), gnm::scalar_tensor(2.0)}, 0).to_vector<double>(),
            (std::vector<double>{1, 2}));
  const std::vector<std::int64_t> ints = gnm::cat({longs({1, 2}, {2}), longs({3}, {1})}, 0).to_vector<std::int64_t>();
  EXPECT_EQ(ints, (std::vector<std::int64_t>{1, 2, 3}));
}

TEST(OpsIndex, CatAndStackErrors) {
  EXPECT_THROW(gnm::cat({}, 0), gnm::Error);
  EXPECT_THROW(gnm::cat({gnm::scalar_tensor(1.0)}, 0), gnm::ShapeError);
  EXPECT_THROW(gnm::cat({gnm::ones({2, 3}), gnm::ones({3, 3})}, 1), gnm::ShapeError);
  EXPECT_THROW(gnm::cat({gnm::ones({2, 3}), gnm::ones({2, 3, 1})}, 0), gnm::ShapeError);
  EXPECT_THROW(gnm::cat({gnm::ones({2}), gnm::ones({2}, {.dtype = DType::f64})}, 0), gnm::Error);
  EXPECT_THROW(gnm::cat({gnm::ones({2})}, 1), gnm::ShapeError);
  EXPECT_THROW(gnm::stack({gnm::ones({2, 3}), gnm::ones({3, 2})}, 0), gnm::ShapeError);
  EXPECT_THROW(gnm::stack({gnm::ones({2})}, 2), gnm::ShapeError);
}

TEST(OpsIndex, IndexSelectAndEmbeddingValues) {
  const Tensor x = seq({3, 4, 2});
  const Tensor s = gnm::index_select(x, 1, longs({3, 0, 3}, {3}));
  EXPECT_EQ(s.shape(), (Shape{3, 3, 2}));
  const auto sv = s.to_vector<double>();
  EXPECT_EQ((std::vector<double>(sv.begin(), sv.begin() + 6)), (std::vector<double>{6, 7, 0, 1, 6, 7}));
  EXPECT_EQ(gnm::index_select(x, -1, longs({1}, {1})).shape(), (Shape{3, 4, 1}));
  EXPECT_EQ(gnm::index_select(x, 0, longs({}, {0})).shape(), (Shape{0, 4, 2}));
  EXPECT_EQ(gnm::index_select(x.transpose(0, 2), 0, longs({1, 0}, {2})).to_vector<double>(),
            gnm::index_select(x.transpose(0, 2).contiguous(), 0, longs({1, 0}, {2})).to_vector<double>());
  // Any dtype moves: i64 rows.
  EXPECT_EQ(gnm::index_select(seq({3, 2}, DType::i64), 0, longs({2}, {1})).to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{4, 5}));
  const Tensor w = seq({5, 3});
  const Tensor e = gnm::embedding(w, longs({4, 0, 4, 1}, {2, 2}));
  EXPECT_EQ(e.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(e.to_vector<double>(),
            (std::vector<double>{12, 13, 14, 0, 1, 2, 12, 13, 14, 3, 4, 5}));
  EXPECT_EQ(gnm::embedding(w, gnm::scalar_tensor(2.0, {.dtype = DType::i64})).shape(), (Shape{3}));
}

TEST(OpsIndex, BackwardsAccumulateDuplicates) {
  // embedding: rows used twice get twice the gradient; unused rows get zero.
  Tensor w = gnm::zeros({4, 2}, {.requires_grad = true});
  gnm::sum(gnm::embedding(w, longs({1, 3, 1, 1}, {4}))).backward();
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{0, 0, 3, 3, 0, 0, 1, 1}));
  EXPECT_EQ(gnm::embedding(w, longs({0}, {1})).grad_fn()->name(), "EmbeddingBackward0");
  // The same in f16: accumulated in f32, rounded once (2049 ones would be 2048 in f16 steps).
  Tensor wh = gnm::zeros({2, 1}, {.dtype = DType::f16, .requires_grad = true});
  gnm::sum(gnm::embedding(wh, gnm::zeros({2049}, {.dtype = DType::i64}))).backward();
  EXPECT_EQ(wh.grad().dtype(), DType::f16);
  EXPECT_EQ(wh.grad().to_vector<double>(), (std::vector<double>{2048, 0}));  // 2049 rounds to even
  // gather: duplicated positions along dim accumulate.
  Tensor x = gnm::zeros({2, 3}, {.requires_grad = true});
  gnm::sum(gnm::gather(x, 1, longs({2, 2, 0, 1}, {2, 2}))).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 2, 1, 1, 0}));
}

TEST(OpsIndex, GatherValues) {
  const Tensor x = seq({3, 4});
  const Tensor g = gnm::gather(x, 1, longs({3, 0, 1, 1, 2, 2}, {3, 2}));
  EXPECT_EQ(g.to_vector<double>(), (std::vector<double>{3, 0, 5, 5, 10, 10}));
  // The index may be smaller than x outside the gather dim; dim 0 picks rows per column.
  EXPECT_EQ(gnm::gather(x, 0, longs({2, 0, 1}, {1, 3})).to_vector<double>(),
            (std::vector<double>{8, 1, 6}));
  EXPECT_EQ(gnm::gather(x.t(), 0, longs({3}, {1, 1})).item(), 3.0);  // strided x
  EXPECT_EQ(gnm::gather(gnm::scalar_tensor(5.0), 0, gnm::scalar_tensor(0.0, {.dtype = DType::i64})).item(), 5.0);
  EXPECT_EQ(gnm::gather(x, 1, gnm::zeros({3, 0}, {.dtype = DType::i64})).shape(), (Shape{3, 0}));
}

TEST(OpsIndex, BadIndicesAreErrorsNamingIndexAndSize) {
  const Tensor w = gnm::zeros({10, 4});
  expect_error_mentions([&] { (void)gnm::embedding(w, longs({3, 12, 1}, {3})); },
                        {"index_value = 12", "size = 10", "position = 1"});
  expect_error_mentions([&] { (void)gnm::embedding(w, longs({-1}, {1})); }, {"index_value = -1"});
  expect_error_mentions([&] { (void)gnm::index_select(w, 1, longs({0, 4}, {2})); },
                        {"index_value = 4", "size = 4"});
  expect_error_mentions([&] { (void)gnm::gather(w, 0, longs({10}, {1, 1})); },
                        {"index_value = 10", "size = 10"});
  EXPECT_THROW(gnm::embedding(w, gnm::zeros({2}, {.dtype = DType::i32})), gnm::Error);
  EXPECT_THROW(gnm::embedding(gnm::zeros({10}), longs({1}, {1})), gnm::ShapeError);
  EXPECT_THROW(gnm::index_select(w, 0, longs({1, 2}, {1, 2})), gnm::ShapeError);
  EXPECT_THROW(gnm::gather(w, 0, longs({1}, {1})), gnm::ShapeError);         // rank differs
  EXPECT_THROW(gnm::gather(w, 0, longs({1, 1, 1, 1, 1}, {1, 5})), gnm::ShapeError);  // too wide
}

TEST(OpsIndex, Gradcheck) {
  gnm::manual_seed(41);
  expect_gradcheck([](const auto& in) { return gnm::cat({in[0], in[1], in[2]}, 1); },
                   {leaf({2, 3}), leaf({2, 1}), leaf({4, 2}).t()});
  expect_gradcheck([](const auto& in) { return gnm::cat({in[0], in[1]}, 0); },
                   {leaf({1, 3}), leaf({0, 3})});
  expect_gradcheck([](const auto& in) { return gnm::stack({in[0], in[1]}, 1); },
                   {leaf({2, 3}), leaf({3, 2}).t()});
  const Tensor idx = longs({2, 0, 2, 1, 2}, {5});
  expect_gradcheck([&](const auto& in) { return gnm::index_select(in[0], 1, idx); }, {leaf({2, 3, 2})});
  expect_gradcheck([&](const auto& in) { return gnm::index_select(in[0], 0, idx); }, {leaf({2, 3}).t()});
  const Tensor rows = longs({4, 4, 0, 2, 4, 1}, {2, 3});
  expect_gradcheck([&](const auto& in) { return gnm::embedding(in[0], rows); }, {leaf({5, 3})});
  const Tensor gi = longs({0, 2, 2, 1, 1, 1}, {2, 3});
  expect_gradcheck([&](const auto& in) { return gnm::gather(in[0], 1, gi); }, {leaf({2, 3})});
  expect_gradcheck([&](const auto& in) { return gnm::gather(in[0], 0, gi); }, {leaf({3, 4}).t()});
  // Not every input needs a gradient: cat with a constant piece.
  Tensor a = gnm::ones({2}, {.requires_grad = true});
  gnm::sum(gnm::cat({a, gnm::ones({3})}, 0) * 2.0).backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{2, 2}));
  EXPECT_EQ(gnm::cat({a, a}, 0).grad_fn()->name(), "CatBackward0");
}

}  // namespace
