// gnm::nn (chapter 10.1): Module registration and PyTorch's dotted names, train/eval, zero_grad,
// moving parameters in place, state dicts, Linear (init distribution, forward and backward against
// a double reference), the activation modules, Dropout, Flatten, Sequential, make_mlp, init.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gpu_test.hpp"
#include "gnm/autograd/node.hpp"
#include "gnm/nn/init.hpp"
#include "gnm/nn/layers.hpp"
#include "gnm/nn/module.hpp"
#include "gnm/tensor/ops.hpp"

namespace {

using gnm::DType;
using gnm::Tensor;
namespace nn = gnm::nn;

std::vector<std::string> names_of(const nn::NamedTensors& list) {
  std::vector<std::string> out;
  for (const auto& e : list) out.push_back(e.first);
  return out;
}

// A module with a parameter, a buffer and a child, to test the traversal order.
class Block : public nn::Module {
 public:
  Block() {
    scale = register_parameter("scale", gnm::ones({3}));
    register_buffer("running", gnm::zeros({3}));
    fc = register_module("fc", std::make_shared<nn::Linear>(3, 2));
  }
  Tensor forward(const Tensor& x) override { return fc->forward(x * scale); }
  std::string type_name() const override { return "Block"; }
  Tensor scale;
  std::shared_ptr<nn::Linear> fc;
};

TEST(NnModule, NamesFollowPyTorchOrder) {
  gnm::manual_seed(1);
  auto mlp = nn::make_mlp({784, 256, 128, 10}, nn::Activation::relu);
  EXPECT_EQ(names_of(mlp->named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "4.weight",
                                      "4.bias"}));
  EXPECT_EQ(mlp->size(), 5u);
  EXPECT_EQ(mlp->num_parameters(), 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
  EXPECT_EQ(mlp->parameters()[2].shape(), (gnm::Shape{128, 256}));

  // Own parameters, then own buffers, then children (state_dict); buffers are not parameters.
  Block b;
  EXPECT_EQ(names_of(b.named_parameters()),
            (std::vector<std::string>{"scale", "fc.weight", "fc.bias"}));
  EXPECT_EQ(names_of(b.state_dict()),
            (std::vector<std::string>{"scale", "running", "fc.weight", "fc.bias"}));
  EXPECT_EQ(names_of(b.named_buffers()), (std::vector<std::string>{"running"}));
  for (const Tensor& p : b.parameters()) EXPECT_TRUE(p.requires_grad() && p.is_leaf());
}

TEST(NnModule, PrintsLikePyTorch) {
  auto m = nn::make_mlp({4, 3, 2}, nn::Activation::gelu, 0.25);
  EXPECT_EQ(m->str(),
            "Sequential(\n"
            "  (0): Linear(in_features=4, out_features=3, bias=True)\n"
            "  (1): GELU(approximate='none')\n"
            "  (2): Dropout(p=0.25, inplace=False)\n"
            "  (3): Linear(in_features=3, out_features=2, bias=True)\n"
            ")");
  EXPECT_EQ(nn::Linear(2, 5, false).str(), "Linear(in_features=2, out_features=5, bias=False)");
}

TEST(NnModule, RegistrationErrors) {
  Block b;
  EXPECT_THROW(b.register_parameter("scale", gnm::ones({1})), gnm::Error);  // taken
  EXPECT_THROW(b.register_parameter("fc", gnm::ones({1})), gnm::Error);     // a child's name
  EXPECT_THROW(b.register_parameter("a.b", gnm::ones({1})), gnm::Error);
  EXPECT_THROW(b.register_parameter("", gnm::ones({1})), gnm::Error);
  EXPECT_THROW(b.register_parameter("i", gnm::zeros({2}, {.dtype = DType::i64})), gnm::Error);
  EXPECT_THROW(b.register_module("m", std::shared_ptr<nn::Module>()), gnm::Error);
  nn::Sequential s;
  EXPECT_THROW(s.at(0), gnm::Error);
  EXPECT_THROW(s.push_back(nullptr), gnm::Error);
  EXPECT_THROW(nn::Linear(-1, 2), gnm::Error);
  EXPECT_THROW(nn::Dropout(1.0), gnm::Error);
  EXPECT_THROW(nn::make_mlp({10}), gnm::Error);
}

TEST(NnModule, TiedWeightsAreOneParameter) {
  auto a = std::make_shared<nn::Linear>(3, 3);
  nn::Sequential s{a, std::make_shared<nn::Tanh>(), a};
  EXPECT_EQ(names_of(s.named_parameters()), (std::vector<std::string>{"0.weight", "0.bias"}));
  EXPECT_EQ(names_of(s.state_dict()),
            (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
}

TEST(NnModule, TrainEvalPropagatesAndDropoutFollows) {
  gnm::manual_seed(3);
  auto m = nn::make_mlp({8, 8, 8}, nn::Activation::relu, 0.5);
  EXPECT_TRUE(m->is_training());
  m->eval();
  for (const auto& [name, child] : m->named_children()) EXPECT_FALSE(child->is_training()) << name;
  const Tensor x = gnm::rand({4, 8});
  // In eval mode dropout is the identity: two calls agree exactly.
  EXPECT_EQ(m->forward(x).to_vector<float>(), m->forward(x).to_vector<float>());
  m->train();
  EXPECT_TRUE(m->at(2)->is_training());

  nn::Dropout d(0.25);
  const Tensor ones = gnm::ones({1000});
  const std::vector<float> y = d.forward(ones).to_vector<float>();
  int zeros = 0;
  for (float v : y) {
    if (v == 0.0f) {
      ++zeros;
    } else {
      EXPECT_FLOAT_EQ(v, 1.0f / 0.75f);
    }
  }
  // Binomial(1000, 0.25): mean 250, sd ≈ 13.7; ±6 sd is a bound no correct mask misses.
  EXPECT_NEAR(zeros, 250, 82);
  d.eval();
  EXPECT_EQ(d.forward(ones).to_vector<float>(), ones.to_vector<float>());
}

TEST(NnModule, ZeroGradSetsGradToNone) {
  Block b;
  gnm::sum(b.forward(gnm::ones({2, 3}))).backward();
  for (const Tensor& p : b.parameters()) EXPECT_TRUE(p.grad().defined());
  b.zero_grad();
  for (const Tensor& p : b.parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(NnModule, ToDtypeKeepsHandles) {
  gnm::manual_seed(5);
  Block b;
  const std::vector<Tensor> handles = b.parameters();
  const std::vector<double> before = handles[1].to_vector<double>();
  gnm::sum(b.forward(gnm::ones({2, 3}))).backward();
  b.to(DType::f64);
  for (const Tensor& p : handles) {
    EXPECT_EQ(p.dtype(), DType::f64);
    EXPECT_EQ(p.grad().dtype(), DType::f64);
    EXPECT_TRUE(p.requires_grad());
  }
  EXPECT_EQ(b.named_buffers()[0].second.dtype(), DType::f64);
  EXPECT_EQ(handles[1].to_vector<double>(), before);  // f32 → f64 is exact
  // The module still trains through the same handles.
  b.zero_grad();
  gnm::sum(b.forward(gnm::ones({2, 3}, {.dtype = DType::f64}))).backward();
  EXPECT_TRUE(handles[1].grad().defined());
  EXPECT_THROW(b.to(DType::i32), gnm::Error);
  b.to(gnm::Device::cpu());  // already there: a no-op
  EXPECT_EQ(handles[0].dtype(), DType::f64);
}

// Module::to(Device) moves in place: old handles see CUDA tensors, and the model computes there
// what it computes on the CPU up to summation order: each layer is a K ≤ 16 term fp32 dot product
// of O(1) terms, at most 2·K·u ≈ 2e-6 apart; tanh does not amplify it, so 1e-5 bounds two layers.
TEST(NnModule, ToCudaKeepsHandlesAndResults) {
  GNM_GPU_TEST_OR_SKIP();
  gnm::manual_seed(6);
  auto m = nn::make_mlp({16, 8, 4}, nn::Activation::tanh);
  const Tensor x = gnm::rand({3, 16}, {}, -1, 1);
  const std::vector<float> cpu = m->forward(x).to_vector<float>();
  const std::vector<Tensor> handles = m->parameters();
  m->to(gnm::Device::cuda(0));
  for (const Tensor& p : handles) EXPECT_TRUE(p.is_cuda());
  const Tensor y = m->forward(x.to(gnm::Device::cuda(0)));
  EXPECT_TRUE(y.is_cuda());
  const std::vector<float> gpu = y.to_vector<float>();
  for (std::size_t i = 0; i < cpu.size(); ++i) EXPECT_NEAR(gpu[i], cpu[i], 1e-5);
  gnm::sum(y).backward();
  EXPECT_TRUE(handles[0].grad().is_cuda());
  m->to(gnm::Device::cpu());
  EXPECT_FALSE(handles[0].is_cuda());
  EXPECT_FALSE(handles[0].grad().is_cuda());
  EXPECT_EQ(m->forward(x).to_vector<float>(), cpu);
}

TEST(NnModule, StateDictRoundTripAndErrors) {
  gnm::manual_seed(7);
  Block a;
  gnm::manual_seed(8);
  Block b;
  EXPECT_NE(a.fc->weight.to_vector<float>(), b.fc->weight.to_vector<float>());
  b.load_state_dict(a.state_dict());
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(a.state_dict()[i].second.to_vector<float>(),
              b.state_dict()[i].second.to_vector<float>());
  }

  // Missing and unexpected keys are listed by name; nothing is written on error.
  gnm::manual_seed(9);
  Block c;
  const std::vector<float> kept = c.fc->weight.to_vector<float>();
  nn::NamedTensors sd = a.state_dict();
  sd.erase(sd.begin());                            // drop "scale"
  sd.emplace_back("extra", gnm::zeros({1}));       // add an unknown key
  try {
    c.load_state_dict(sd);
    FAIL() << "expected gnm::Error";
  } catch (const gnm::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("missing: [scale]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("unexpected: [extra]"), std::string::npos) << msg;
  }
  EXPECT_EQ(c.fc->weight.to_vector<float>(), kept);
  c.load_state_dict(sd, /*strict=*/false);  // loads the rest
  EXPECT_EQ(c.fc->weight.to_vector<float>(), a.fc->weight.to_vector<float>());

  nn::NamedTensors bad = a.state_dict();
  bad[2].second = gnm::zeros({3, 3});
  try {
    c.load_state_dict(bad);
    FAIL() << "expected gnm::ShapeError";
  } catch (const gnm::ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("fc.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[3, 3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
  }
}

// ------------------------------------------------------------------------------------ Linear

TEST(NnLinear, InitMatchesPyTorchDistribution) {
  gnm::manual_seed(11);
  nn::Linear l(400, 300);
  const double bound = 1.0 / std::sqrt(400.0);
  for (const Tensor& t : {l.weight, l.bias}) {
    const std::vector<double> v = t.to_vector<double>();
    double mean = 0.0, sq = 0.0;
    for (double x : v) {
      EXPECT_GE(x, -bound);
      EXPECT_LE(x, bound);
      mean += x;
      sq += x * x;
    }
    const auto n = static_cast<double>(v.size());
    mean /= n;
    // U(−b, b): mean 0, variance b²/3. Standard errors b/√(3n) and b²·√(4/45)/√n; 6 of them.
    EXPECT_NEAR(mean, 0.0, 6.0 * bound / std::sqrt(3.0 * n));
    EXPECT_NEAR(sq / n, bound * bound / 3.0, 6.0 * bound * bound * std::sqrt(4.0 / 45.0 / n));
  }
  // Same seed, same weights; reset_parameters draws new ones.
  gnm::manual_seed(11);
  nn::Linear again(400, 300);
  EXPECT_EQ(again.weight.to_vector<float>(), l.weight.to_vector<float>());
  again.reset_parameters();
  EXPECT_NE(again.weight.to_vector<float>(), l.weight.to_vector<float>());
  nn::Linear empty_in(0, 3);  // PyTorch: weight (3, 0), bias bound 0
  EXPECT_EQ(empty_in.bias.to_vector<float>(), (std::vector<float>{0, 0, 0}));
}

// y = x·Wᵀ + b and its gradients against double sums. Each output is a K-term fp32 dot product:
// |error| ≤ K·u·Σ|x_k·w_k| + u·|b| with u = 2⁻²⁴ (a worst-case bound, so it cannot flake);
// the gradients are B-term sums, bounded the same way.
TEST(NnLinear, ForwardAndBackwardMatchDoubleReference) {
  gnm::manual_seed(13);
  const std::int64_t B = 7, K = 13, N = 5;
  nn::Linear l(K, N);
  const Tensor x = gnm::rand({B, K}, {}, -1.0, 1.0);
  const Tensor gy = gnm::rand({B, N}, {}, -1.0, 1.0);
  const Tensor y = l.forward(x);
  ASSERT_EQ(y.shape(), (gnm::Shape{B, N}));
  gnm::sum(y * gy).backward();
  const auto xv = x.to_vector<double>(), wv = l.weight.to_vector<double>();
  const auto bv = l.bias.to_vector<double>(), gv = gy.to_vector<double>();
  const auto yv = y.to_vector<double>(), gw = l.weight.grad().to_vector<double>();
  const auto gb = l.bias.grad().to_vector<double>();
  const double u = std::ldexp(1.0, -24);
  for (std::int64_t b = 0; b < B; ++b) {
    for (std::int64_t n = 0; n < N; ++n) {
      double ref = bv[static_cast<std::size_t>(n)], mag = 0.0;
      for (std::int64_t k = 0; k < K; ++k) {
        const double t = xv[static_cast<std::size_t>(b * K + k)] *
                         wv[static_cast<std::size_t>(n * K + k)];
        ref += t;
        mag += std::fabs(t);
      }
      EXPECT_NEAR(yv[static_cast<std::size_t>(b * N + n)], ref,
                  (K + 1) * u * (mag + std::fabs(ref)));
    }
  }
  for (std::int64_t n = 0; n < N; ++n) {
    double ref_b = 0.0, mag_b = 0.0;
    for (std::int64_t b = 0; b < B; ++b) {
      ref_b += gv[static_cast<std::size_t>(b * N + n)];
      mag_b += std::fabs(gv[static_cast<std::size_t>(b * N + n)]);
    }
    EXPECT_NEAR(gb[static_cast<std::size_t>(n)], ref_b, (B + 1) * u * mag_b);
    for (std::int64_t k = 0; k < K; ++k) {
      double ref = 0.0, mag = 0.0;
      for (std::int64_t b = 0; b < B; ++b) {
        const double t = gv[static_cast<std::size_t>(b * N + n)] *
                         xv[static_cast<std::size_t>(b * K + k)];
        ref += t;
        mag += std::fabs(t);
      }
      EXPECT_NEAR(gw[static_cast<std::size_t>(n * K + k)], ref, (B + 1) * u * mag);
    }
  }
  EXPECT_THROW(l.forward(gnm::ones({2, K + 1})), gnm::Error);  // wrong width
}

TEST(NnLayers, ActivationsAndFlatten) {
  gnm::manual_seed(17);
  const Tensor x = gnm::rand({3, 5}, {}, -2.0, 2.0);
  const auto same = [](const Tensor& a, const Tensor& b) {
    EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  };
  same(nn::ReLU().forward(x), gnm::relu(x));
  same(nn::GELU().forward(x), gnm::gelu(x));
  same(nn::GELU(true).forward(x), gnm::gelu(x, true));
  same(nn::SiLU().forward(x), gnm::silu(x));
  same(nn::Tanh().forward(x), gnm::tanh(x));
  same(nn::Sigmoid().forward(x), gnm::sigmoid(x));
  for (auto a : {nn::Activation::relu, nn::Activation::gelu, nn::Activation::silu,
                 nn::Activation::tanh, nn::Activation::sigmoid}) {
    EXPECT_EQ(nn::make_activation(a)->forward(x).shape(), x.shape());
  }
  EXPECT_EQ(nn::Flatten().forward(gnm::zeros({2, 1, 28, 28})).shape(), (gnm::Shape{2, 784}));
  EXPECT_EQ(nn::Flatten(0).forward(gnm::zeros({2, 3, 4})).shape(), (gnm::Shape{24}));
  // A Sequential of nothing is the identity; batches of any size (including 0) go through.
  same(nn::Sequential().forward(x), x);
  auto mlp = nn::make_mlp({5, 7, 2});
  EXPECT_EQ(mlp->forward(gnm::zeros({0, 5})).shape(), (gnm::Shape{0, 2}));
  EXPECT_EQ(mlp->forward(gnm::zeros({1, 5})).shape(), (gnm::Shape{1, 2}));
}

// ------------------------------------------------------------------------------------ init

TEST(NnInit, FansGainsAndBounds) {
  EXPECT_EQ(nn::init::calculate_fans(gnm::zeros({16, 3, 5, 5})),
            (std::pair<std::int64_t, std::int64_t>{75, 400}));
  EXPECT_EQ(nn::init::calculate_fans(gnm::zeros({7})),
            (std::pair<std::int64_t, std::int64_t>{7, 7}));
  EXPECT_THROW(nn::init::calculate_fans(gnm::scalar_tensor(1.0)), gnm::Error);
  using NL = nn::init::Nonlinearity;
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(NL::relu), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(NL::tanh), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(NL::leaky_relu, std::sqrt(5.0)), std::sqrt(1.0 / 3.0));

  gnm::manual_seed(19);
  Tensor w = gnm::zeros({200, 300}, {.requires_grad = true});  // init works on parameters
  nn::init::xavier_uniform_(w);
  const double xb = std::sqrt(6.0 / 500.0);
  for (double v : w.to_vector<double>()) ASSERT_LE(std::fabs(v), xb);
  nn::init::kaiming_normal_(w, 0.0, nn::init::FanMode::fan_in, NL::relu);
  double sq = 0.0;
  const std::vector<double> v = w.to_vector<double>();
  for (double e : v) sq += e * e;
  // N(0, 2/300): the sample variance of 60 000 draws has relative sd √(2/n) ≈ 0.6 %; allow 6 sd.
  EXPECT_NEAR(sq / static_cast<double>(v.size()), 2.0 / 300.0,
              6 * std::sqrt(2.0 / 60000.0) * 2.0 / 300.0);
  nn::init::zeros_(w);
  for (double e : w.to_vector<double>()) ASSERT_EQ(e, 0.0);
  nn::init::constant_(w, 0.5);
  EXPECT_EQ(w.to_vector<double>()[17], 0.5);
  EXPECT_TRUE(w.requires_grad() && w.is_leaf());
  EXPECT_THROW(nn::init::uniform_(w, 1.0, -1.0), gnm::Error);
  EXPECT_THROW(nn::init::normal_(w, 0.0, -1.0), gnm::Error);
  Tensor ints = gnm::zeros({3}, {.dtype = DType::i64});
  EXPECT_THROW(nn::init::uniform_(ints), gnm::Error);
  nn::init::kaiming_uniform_(gnm::zeros({0, 4}));  // no elements: left alone, no error
}

}  // namespace
