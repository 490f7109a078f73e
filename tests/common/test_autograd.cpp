// The autograd engine (chapter 9.5): graph recording, accumulation, retain_graph, no_grad,
// detach, errors; gradcheck of the core ops (binary ops with broadcasting, sum, views).
#include <gtest/gtest.h>

#include "gnm/autograd/gradcheck.hpp"
#include "gnm/autograd/node.hpp"
#include "gnm/tensor/ops.hpp"
#include "tensor_testing.hpp"

namespace {

using gnm::testing::leaf;
using gnm::testing::expect_gradcheck;

using gnm::DType;
using gnm::Tensor;
namespace ag = gnm::autograd;

TEST(Autograd, SimpleChainMatchesHandDerivative) {
  const std::vector<double> v{2.0};
  Tensor x = gnm::from_vector(std::span<const double>(v), {1}, {.dtype = DType::f64, .requires_grad = true});
  Tensor y = x * x * 3.0 + x;  // dy/dx = 6x + 1 = 13
  EXPECT_EQ(y.grad_fn()->name(), "AddBackward0");
  y.backward();
  EXPECT_EQ(x.grad().item(), 13.0);
  // .grad accumulates over backward calls.
  gnm::sum(x * 2.0).backward();
  EXPECT_EQ(x.grad().item(), 15.0);
}

TEST(Autograd, FanOutAccumulates) {
  Tensor x = leaf({3});
  Tensor y = gnm::sum(x * x + x * x);  // 4x
  y.backward();
  EXPECT_TRUE(gnm::allclose(x.grad(), x.detach() * 4.0));
}

TEST(Autograd, BackwardTwiceNeedsRetainGraph) {
  Tensor x = leaf({4});
  Tensor y = gnm::sum(x * x);
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();  // allowed: the first kept the graph
  EXPECT_TRUE(gnm::allclose(x.grad(), x.detach() * 4.0));
  try {
    y.backward();
    FAIL() << "expected an error";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("second time"), std::string::npos) << e.what();
  }
}

TEST(Autograd, NoGradAndDetach) {
  Tensor x = leaf({3});
  {
    ag::NoGradGuard guard;
    Tensor y = x * 2.0;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_THROW(y.backward(), gnm::Error);
  }
  Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.storage(), x.storage());
  Tensor y = gnm::sum(d * x);  // gradient flows only through x
  y.backward();
  EXPECT_TRUE(gnm::allclose(x.grad(), d));
}

TEST(Autograd, BackwardWithGradientAndErrors) {
  Tensor x = leaf({2, 3});
  Tensor y = x * 3.0;
  EXPECT_THROW(y.backward(), gnm::Error);  // not a scalar
  EXPECT_THROW(y.backward(gnm::ones({3, 2}, {.dtype = DType::f64})), gnm::ShapeError);
  EXPECT_THROW(y.backward(gnm::ones({2, 3})), gnm::Error);  // dtype mismatch
  y.backward(gnm::full({2, 3}, 2.0, {.dtype = DType::f64}));
  EXPECT_TRUE(gnm::allclose(x.grad(), gnm::full({2, 3}, 6.0, {.dtype = DType::f64})));
  EXPECT_THROW(gnm::zeros({2}, {.dtype = DType::i64}).requires_grad_(), gnm::Error);
  Tensor z = x * 2.0;
  EXPECT_THROW(z.fill_(1.0), gnm::Error);  // in-place on a tracked tensor
}

TEST(Autograd, GradFunctionReturnsInsteadOfAccumulating) {
  Tensor x = leaf({3});
  Tensor w = leaf({3});
  Tensor y = gnm::sum(x * w);
  const auto g = ag::grad({y}, {x}, {gnm::ones({}, {.dtype = DType::f64})});
  EXPECT_TRUE(gnm::allclose(g[0], w.detach()));
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
}

TEST(Autograd, GradcheckBinaryOpsWithBroadcasting) {
  gnm::manual_seed(1);
  const Tensor a = leaf({3, 1, 5});
  const Tensor b = leaf({4, 1}, 0.5, 1.5);  // away from 0 for div and pow
  const Tensor pos = leaf({3, 1, 5}, 0.5, 1.5);
  expect_gradcheck([](const auto& in) { return in[0] + in[1]; }, {a, b});
  expect_gradcheck([](const auto& in) { return gnm::add(in[0], in[1], -0.75); }, {a, b});
  expect_gradcheck([](const auto& in) { return in[0] - in[1]; }, {a, b});
  expect_gradcheck([](const auto& in) { return in[0] * in[1]; }, {a, b});
  expect_gradcheck([](const auto& in) { return in[0] / in[1]; }, {a, b});
  expect_gradcheck([](const auto& in) { return gnm::pow(in[0], in[1]); }, {pos, b});
  expect_gradcheck([](const auto& in) { return gnm::pow(in[0], 3.0); }, {a});
  expect_gradcheck([](const auto& in) { return gnm::maximum(in[0], in[1]); }, {a, b});
  expect_gradcheck([](const auto& in) { return gnm::minimum(in[0], in[1]); }, {a, b});
  expect_gradcheck([](const auto& in) { return 2.0 - in[0] * 3.0; }, {a});
}

TEST(Autograd, GradcheckSumAndViews) {
  gnm::manual_seed(2);
  const Tensor x = leaf({2, 3, 5});
  expect_gradcheck([](const auto& in) { return gnm::sum(in[0]); }, {x});
  expect_gradcheck([](const auto& in) { return gnm::sum(in[0], {0, 2}, true); }, {x});
  expect_gradcheck([](const auto& in) { return in[0].transpose(0, 2) * 1.0; }, {x});
  expect_gradcheck([](const auto& in) { return in[0].permute({2, 0, 1}).reshape({5, 6}); }, {x});
  expect_gradcheck([](const auto& in) { return in[0].slice(2, 1, 5, 2); }, {x});
  expect_gradcheck([](const auto& in) { return in[0].select(1, 2); }, {x});
  expect_gradcheck([](const auto& in) { return in[0].narrow(0, 1, 1).squeeze(0); }, {x});
  expect_gradcheck([](const auto& in) { return in[0].unsqueeze(1).expand({2, 4, 3, 5}); }, {x});
  expect_gradcheck([](const auto& in) { return in[0].t().contiguous(); }, {leaf({3, 4})});
  expect_gradcheck([](const auto& in) { return in[0].flatten(); }, {x});
}

TEST(Autograd, DtypeConversionIsDifferentiable) {
  // The mixed-precision pattern: an f64 (master) leaf used in f32; its gradient comes back f64.
  Tensor x = leaf({4});
  Tensor y = gnm::sum(x.to(DType::f32) * 2.0);
  EXPECT_EQ(y.grad_fn()->name(), "SumBackward1");
  y.backward();
  EXPECT_EQ(x.grad().dtype(), DType::f64);
  EXPECT_TRUE(gnm::allclose(x.grad(), gnm::full({4}, 2.0, {.dtype = DType::f64})));
}

TEST(Autograd, SumToInvertsBroadcast) {
  const Tensor g = gnm::ones({4, 3, 5}, {.dtype = DType::f64});
  const Tensor r = gnm::sum_to(g, {3, 1});
  EXPECT_EQ(r.shape(), (gnm::Shape{3, 1}));
  EXPECT_EQ(r.to_vector<double>()[0], 20.0);
  EXPECT_THROW(gnm::sum_to(g, {2, 3, 5}), gnm::ShapeError);
}

}  // namespace
