// softmax, log_softmax, cross_entropy and mse_loss (chapter 9.3): values against a double
// reference with error-model tolerances, extreme inputs, label smoothing, the fused cross-entropy
// backward, bad targets, and gradcheck. Also replays every PyTorch fixture of the chapter's
// nn ops (tests/fixtures/ch09/nn_*.json, scripts/fixtures/ch09_nn_ops.py): reductions, linear
// algebra, losses and indexing, values and gradients.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "gnm/autograd/gradcheck.hpp"
#include "gnm/autograd/node.hpp"
#include "gnm/core/file.hpp"
#include "gnm/tensor/ops.hpp"
#include "tensor_testing.hpp"

namespace {

using gnm::testing::leaf;
using gnm::testing::expect_gradcheck;
using gnm::testing::longs;

using gnm::DType;
using gnm::Reduction;
using gnm::Shape;
using gnm::Tensor;
namespace ag = gnm::autograd;

// Rows of a (rows, n) double matrix → softmax or log_softmax in double.
std::vector<double> softmax_ref(const std::vector<double>& x, std::int64_t n, bool log) {
  std::vector<double> y(x.size());
  for (std::size_t r = 0; r < x.size() / static_cast<std::size_t>(n); ++r) {
    const double* xr = x.data() + r * static_cast<std::size_t>(n);
    double m = -INFINITY, s = 0.0;
    for (std::int64_t k = 0; k < n; ++k) m = std::max(m, xr[k]);
    for (std::int64_t k = 0; k < n; ++k) s += std::exp(xr[k] - m);
    for (std::int64_t k = 0; k < n; ++k)
      y[r * static_cast<std::size_t>(n) + static_cast<std::size_t>(k)] =
          log ? xr[k] - m - std::log(s) : std::exp(xr[k] - m) / s;
  }
  return y;
}

// fp32 softmax: exp (≤ 1 ulp), a sum of n terms (≤ n·u relative), a division and a store: the
// relative error stays below (n + 4)·2⁻²³. log_softmax = x − lse: absolute error ≤
// (|x| + |lse| + n + 4)·2⁻²³, bounded here by (2·max|x| + n + 8)·2⁻²³.
void expect_softmax(const Tensor& got, const std::vector<double>& ref, std::int64_t n, bool log,
                    double max_abs_x) {
  const auto g = got.to_vector<double>();
  ASSERT_EQ(g.size(), ref.size());
  const double u = std::ldexp(1.0, -23);
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double tol = log ? (2.0 * max_abs_x + static_cast<double>(n) + 8.0) * u
                           : (static_cast<double>(n) + 4.0) * u * std::abs(ref[i]) + 1e-37;
    EXPECT_NEAR(g[i], ref[i], tol) << "at " << i;
  }
}

TEST(OpsLoss, SoftmaxMatchesReference) {
  gnm::manual_seed(31);
  for (bool log : {false, true}) {
    const Tensor x = gnm::rand({4, 7, 3}, {}, -5.0, 5.0);
    for (std::int64_t d : {0, 1, 2}) {
      const Tensor moved = x.transpose(d, 2).contiguous();  // the softmax dim last
      const Tensor y = (log ? gnm::log_softmax : gnm::softmax)(x, d);
      EXPECT_EQ(y.shape(), x.shape());
      const Tensor y_moved = y.transpose(d, 2).contiguous();
      expect_softmax(y_moved, softmax_ref(moved.to_vector<double>(), x.size(d), log), x.size(d), log, 5.0);
    }
    // A strided input and a negative dim.
    const Tensor t = gnm::rand({9, 5}, {}, -5.0, 5.0).t();  // (5, 9)
    expect_softmax((log ? gnm::log_softmax : gnm::softmax)(t, -1),
                   softmax_ref(t.contiguous().to_vector<double>(), 9, log), 9, log, 5.0);
  }
  // Long rows: past the parallel grain and the one-warp CUDA path.
  const Tensor big = gnm::rand({3, 20011}, {}, -5.0, 5.0);
  expect_softmax(gnm::softmax(big, 1), softmax_ref(big.to_vector<double>(), 20011, false), 20011,
                 false, 5.0);
}

TEST(OpsLoss, SoftmaxIsStableForExtremeInputs) {
  const std::vector<double> v{1000, 0, -1000, 88, 89, 90};
  const Tensor x = gnm::from_vector(std::span<const double>(v), {2, 3});
  const auto y = gnm::softmax(x, 1).to_vector<double>();
  EXPECT_EQ(y[0], 1.0);
  EXPECT_EQ(y[1], 0.0);
  EXPECT_EQ(y[2], 0.0);
  for (double e : y) EXPECT_FALSE(std::isnan(e));
  const auto l = gnm::log_softmax(x, 1).to_vector<double>();
  EXPECT_EQ(l[0], 0.0);
  EXPECT_EQ(l[1], -1000.0);
  EXPECT_EQ(l[2], -2000.0);
  // 16-bit storage: computed in float, rounded once.
  const Tensor xb = gnm::rand({3, 11}, {.dtype = DType::bf16}, -3.0, 3.0);
  EXPECT_TRUE(gnm::allclose(gnm::softmax(xb, 1).to(DType::f32), gnm::softmax(xb.to(DType::f32), 1),
                            std::ldexp(1.0, -8), 1e-6));
  // A 0-d tensor is a row of one.
  EXPECT_EQ(gnm::softmax(gnm::scalar_tensor(3.0), 0).item(), 1.0);
  EXPECT_EQ(gnm::log_softmax(gnm::scalar_tensor(3.0), -1).item(), 0.0);
}

// Cross entropy in double, as PyTorch defines it with label smoothing ε:
// loss_i = (1−ε)·(lse_i − x[i, t_i]) + ε·(lse_i − mean_j x_ij).
std::vector<double> cross_entropy_ref(const std::vector<double>& x, const std::vector<std::int64_t>& t,
                                      std::int64_t C, double eps) {
  const std::vector<double> logp = softmax_ref(x, C, true);
  std::vector<double> out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    double smooth = 0.0;
    for (std::int64_t j = 0; j < C; ++j) smooth -= logp[i * static_cast<std::size_t>(C) + static_cast<std::size_t>(j)];
    const double nll = -logp[i * static_cast<std::size_t>(C) + static_cast<std::size_t>(t[i])];
    out.push_back((1.0 - eps) * nll + eps * smooth / static_cast<double>(C));
  }
  return out;
}

TEST(OpsLoss, CrossEntropyMatchesReference) {
  gnm::manual_seed(32);
  const std::int64_t N = 6, C = 5;
  const Tensor x = gnm::rand({N, C}, {}, -4.0, 4.0);
  const std::vector<std::int64_t> tv{0, 4, 2, 2, 1, 3};
  const Tensor t = longs(tv, {N});
  for (double eps : {0.0, 0.1, 1.0}) {
    SCOPED_TRACE(eps);
    const auto ref = cross_entropy_ref(x.to_vector<double>(), tv, C, eps);
    // Each row: lse (error ~ (|x| + C)·u) minus a weighted x: abs error ≤ (3·4 + C + 8)·2⁻²³.
    const double tol = (12.0 + static_cast<double>(C) + 8.0) * std::ldexp(1.0, -23);
    const auto none = gnm::cross_entropy(x, t, Reduction::none, eps).to_vector<double>();
    double total = 0.0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      EXPECT_NEAR(none[i], ref[i], tol);
      total += ref[i];
    }
    EXPECT_NEAR(gnm::cross_entropy(x, t, Reduction::sum, eps).item(), total, tol * N);
    EXPECT_NEAR(gnm::cross_entropy(x, t, Reduction::mean, eps).item(), total / N, tol);
  }
  // (C) logits with a 0-d target.
  const Tensor x1 = x.select(0, 1);
  const Tensor l1 = gnm::cross_entropy(x1, gnm::scalar_tensor(4.0, {.dtype = DType::i64}));
  EXPECT_EQ(l1.dim(), 0);
  EXPECT_NEAR(l1.item(), cross_entropy_ref(x1.to_vector<double>(), {4}, C, 0.0)[0], 1e-5);
}

TEST(OpsLoss, CrossEntropyBackwardIsSoftmaxMinusSmoothedOneHot) {
  gnm::manual_seed(33);
  const std::int64_t N = 4, C = 3;
  const double eps = 0.3;
  Tensor x = gnm::rand({N, C}, {.dtype = DType::f64, .requires_grad = true}, -2.0, 2.0);
  const std::vector<std::int64_t> tv{2, 0, 1, 2};
  Tensor loss = gnm::cross_entropy(x, longs(tv, {N}), Reduction::mean, eps);
  EXPECT_EQ(loss.grad_fn()->name(), "CrossEntropyLossBackward0");
  loss.backward();
  const auto p = gnm::softmax(x.detach(), 1).to_vector<double>();
  const auto g = x.grad().to_vector<double>();
  for (std::int64_t i = 0; i < N; ++i)
    for (std::int64_t j = 0; j < C; ++j) {
      const auto k = static_cast<std::size_t>(i * C + j);
      const double target = (j == tv[static_cast<std::size_t>(i)] ? 1.0 - eps : 0.0) + eps / C;
      EXPECT_NEAR(g[k], (p[k] - target) / N, 1e-15);
    }
}

TEST(OpsLoss, CrossEntropyRejectsBadTargets) {
  const Tensor x = gnm::zeros({3, 5});
  try {
    (void)gnm::cross_entropy(x, longs({0, 7, 1}, {3}));
    FAIL() << "expected gnm::Error";
  } catch (const gnm::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("index_value = 7"), std::string::npos) << what;
    EXPECT_NE(what.find("size = 5"), std::string::npos) << what;
  }
  EXPECT_THROW(gnm::cross_entropy(x, longs({0, -1, 1}, {3})), gnm::Error);
  EXPECT_THROW(gnm::cross_entropy(x, longs({0, 1}, {2})), gnm::ShapeError);
  EXPECT_THROW(gnm::cross_entropy(x, gnm::zeros({3}, {.dtype = DType::i32})), gnm::Error);
  EXPECT_THROW(gnm::cross_entropy(x, longs({0, 1, 1}, {3}), Reduction::mean, 1.5), gnm::Error);
  EXPECT_THROW(gnm::cross_entropy(gnm::zeros({3, 5, 2}), longs({0, 1, 1}, {3})), gnm::ShapeError);
  // An empty batch: the mean is 0/0 = NaN (as PyTorch), the sum 0.
  const Tensor empty_t = gnm::zeros({0}, {.dtype = DType::i64});
  EXPECT_TRUE(std::isnan(gnm::cross_entropy(gnm::zeros({0, 5}), empty_t).item()));
  EXPECT_EQ(gnm::cross_entropy(gnm::zeros({0, 5}), empty_t, Reduction::sum).item(), 0.0);
}

TEST(OpsLoss, MseLoss) {
  gnm::manual_seed(34);
  const Tensor x = gnm::rand({3, 5}, {}, -2.0, 2.0), y = gnm::rand({3, 5}, {}, -2.0, 2.0);
  const auto xv = x.to_vector<double>(), yv = y.to_vector<double>();
  double total = 0.0;
  const auto none = gnm::mse_loss(x, y, Reduction::none).to_vector<double>();
  for (std::size_t i = 0; i < xv.size(); ++i) {
    const double d = (xv[i] - yv[i]) * (xv[i] - yv[i]);
    total += d;
    EXPECT_NEAR(none[i], d, std::ldexp(d, -22));  // x − y and its square: two f32 roundings
  }
  EXPECT_NEAR(gnm::mse_loss(x, y, Reduction::sum).item(), total, std::ldexp(total, -21));
  EXPECT_NEAR(gnm::mse_loss(x, y).item(), total / 15.0, std::ldexp(total / 15.0, -21));
  EXPECT_THROW(gnm::mse_loss(x, gnm::zeros({5})), gnm::ShapeError);
  EXPECT_THROW(gnm::mse_loss(x, gnm::zeros({3, 5}, {.dtype = DType::f64})), gnm::Error);
}

TEST(OpsLoss, Gradcheck) {
  gnm::manual_seed(35);
  const Tensor x = leaf({3, 4, 5}, -2.0, 2.0);
  for (std::int64_t d : {0, 1, -1}) {
    expect_gradcheck([d](const auto& in) { return gnm::softmax(in[0], d); }, {x});
    expect_gradcheck([d](const auto& in) { return gnm::log_softmax(in[0], d); }, {x});
  }
  expect_gradcheck([](const auto& in) { return gnm::softmax(in[0], 0); }, {leaf({5, 3}).t()});
  const Tensor t = longs({3, 0, 4, 4, 1}, {5});
  for (Reduction r : {Reduction::none, Reduction::mean, Reduction::sum})
    for (double eps : {0.0, 0.25})
      expect_gradcheck([&](const auto& in) { return gnm::cross_entropy(in[0], t, r, eps); },
                       {leaf({5, 6}, -2.0, 2.0)});
  expect_gradcheck([](const auto& in) {
    return gnm::cross_entropy(in[0], gnm::scalar_tensor(2.0, {.dtype = DType::i64}));
  }, {leaf({4})});
  expect_gradcheck([](const auto& in) { return gnm::cross_entropy(in[0], longs({1, 0}, {2})); },
                   {leaf({3, 2}).t()});  // strided logits
  for (Reduction r : {Reduction::none, Reduction::mean, Reduction::sum})
    expect_gradcheck([r](const auto& in) { return gnm::mse_loss(in[0], in[1], r); },
                     {leaf({2, 7}), leaf({7, 2}).t()});
}

// ---- PyTorch fixtures of every nn op of this chapter -------------------------------------------

using nlohmann::json;

Tensor from_json(const json& j) {
  const Shape shape = j.at("shape").get<Shape>();
  if (j.at("dtype") == "i64") return longs(j.at("data").get<std::vector<std::int64_t>>(), shape);
  const std::vector<double> v = j.at("data").get<std::vector<double>>();
  return gnm::from_vector(std::span<const double>(v), shape);
}

Reduction reduction_of(const std::string& s) {
  return s == "none" ? Reduction::none : s == "sum" ? Reduction::sum : Reduction::mean;
}

Tensor run_op(const std::string& op, const json& p, const std::vector<Tensor>& in) {
  if (op == "mean") return gnm::mean(in[0], p.at("dims").get<std::vector<std::int64_t>>(), p.at("keepdim"));
  if (op == "var")
    return gnm::var(in[0], p.at("dims").get<std::vector<std::int64_t>>(), p.at("correction"), p.at("keepdim"));
  if (op == "max_all") return gnm::max(in[0]);
  if (op == "max_dim") return gnm::max(in[0], p.at("dim"), p.at("keepdim"));
  if (op == "argmax") return gnm::argmax(in[0], p.at("dim"), p.at("keepdim"));
  if (op == "matmul") return gnm::matmul(in[0], in[1]);
  if (op == "bmm") return gnm::bmm(in[0], in[1]);
  if (op == "linear") return gnm::linear(in[0], in[1], in.size() > 2 ? in[2] : Tensor());
  if (op == "softmax") return gnm::softmax(in[0], p.at("dim"));
  if (op == "log_softmax") return gnm::log_softmax(in[0], p.at("dim"));
  if (op == "cross_entropy")
    return gnm::cross_entropy(in[0], in[1], reduction_of(p.at("reduction")), p.at("label_smoothing"));
  if (op == "mse_loss") return gnm::mse_loss(in[0], in[1], reduction_of(p.at("reduction")));
  if (op == "cat") return gnm::cat(in, p.at("dim"));
  if (op == "stack") return gnm::stack(in, p.at("dim"));
  if (op == "index_select") return gnm::index_select(in[0], p.at("dim"), in[1]);
  if (op == "gather") return gnm::gather(in[0], p.at("dim"), in[1]);
  if (op == "embedding") return gnm::embedding(in[0], in[1]);
  ADD_FAILURE() << "unknown op in fixture: " << op;
  return Tensor();
}

// Both sides compute in fp32 with different summation orders; the longest sum here has ~40
// terms of magnitude ≤ 4, so the results agree within ~40·2⁻²⁴·(Σ|terms|) ≈ 1e-5 absolute.
void replay(const char* file) {
  const std::filesystem::path path = std::filesystem::path(GNM_FIXTURES_DIR) / "ch09" / file;
  const json doc = json::parse(gnm::read_file(path));
  ASSERT_FALSE(doc.at("cases").empty());
  for (const json& c : doc.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    std::vector<Tensor> in;
    for (const json& t : c.at("inputs")) {
      Tensor v = from_json(t);
      if (v.dtype() == DType::f32) v.requires_grad_();
      in.push_back(v);
    }
    const Tensor out = run_op(c.at("op"), c.at("params"), in);
    const Tensor want = from_json(c.at("output"));
    ASSERT_EQ(out.shape(), want.shape());
    EXPECT_TRUE(gnm::allclose(out.to(DType::f64), want.to(DType::f64), 1e-5, 1e-5))
        << out << "\nvs PyTorch\n" << want;
    if (out.dtype() != DType::f32) continue;  // argmax
    out.backward(from_json(c.at("upstream")));
    for (std::size_t i = 0; i < in.size(); ++i) {
      const json& g = c.at("grads")[i];
      if (g.is_null()) continue;
      EXPECT_TRUE(gnm::allclose(in[i].grad(), from_json(g), 1e-5, 1e-5))
          << "input " << i << ": " << in[i].grad() << "\nvs PyTorch\n" << from_json(g);
    }
  }
}

TEST(NnOpsFixtures, Reductions) { replay("nn_reduce.json"); }
TEST(NnOpsFixtures, LinearAlgebra) { replay("nn_linalg.json"); }
TEST(NnOpsFixtures, Losses) { replay("nn_loss.json"); }
TEST(NnOpsFixtures, Indexing) { replay("nn_index.json"); }

}  // namespace
