// gnm::nn magnitude pruning (chapter 10.4): exact zero counts per layer, the kept weights are the
// largest, deterministic ties, global against per-layer thresholds, masks that keep the sparsity
// through Adam steps, sparsity reports, and bad inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "gnm/nn/layers.hpp"
#include "gnm/nn/prune.hpp"
#include "gnm/optim/optimizer.hpp"
#include "gnm/tensor/ops.hpp"

namespace {

using gnm::Tensor;
namespace nn = gnm::nn;

std::int64_t count_zeros(const Tensor& t) {
  const std::vector<float> v = t.to_vector<float>();
  return std::count(v.begin(), v.end(), 0.0f);
}

// A small MLP with odd sizes: weights (13, 7), (5, 13), (3, 5) — 91, 65 and 15 elements. Tanh,
// so that no unit is dead and every weight gets a gradient.
std::shared_ptr<nn::Sequential> small_mlp(std::uint64_t seed) {
  gnm::manual_seed(seed);
  return nn::make_mlp({7, 13, 5, 3}, nn::Activation::tanh);
}

TEST(Prune, PerLayerZerosExactlyTheSmallest) {
  for (double s : {0.0, 0.5, 0.75, 0.9}) {
    auto m = small_mlp(1);
    const nn::NamedTensors before = m->state_dict();
    std::vector<std::vector<float>> original;
    for (const auto& [name, t] : before) original.push_back(t.clone().to_vector<float>());
    const nn::PruningMasks masks = nn::magnitude_prune(*m, s, nn::PruneScope::per_layer);
    ASSERT_EQ(masks.masks().size(), 3u);

    std::size_t entry = 0;
    for (const auto& [name, t] : m->state_dict()) {
      const std::vector<float>& w0 = original[entry++];
      const std::vector<float> w = t.to_vector<float>();
      if (name.ends_with("bias")) {
        EXPECT_EQ(w, w0) << "biases are never pruned: " << name;
        continue;
      }
      const auto n = static_cast<std::int64_t>(w.size());
      const std::int64_t k = std::llround(s * static_cast<double>(n));
      EXPECT_EQ(count_zeros(t), k) << name << " at " << s;
      // Every kept weight is unchanged and at least as large as every pruned one.
      float largest_pruned = 0.0f, smallest_kept = std::numeric_limits<float>::infinity();
      for (std::size_t i = 0; i < w.size(); ++i) {
        if (w[i] == 0.0f) {
          largest_pruned = std::max(largest_pruned, std::fabs(w0[i]));
        } else {
          EXPECT_EQ(w[i], w0[i]);
          smallest_kept = std::min(smallest_kept, std::fabs(w0[i]));
        }
      }
      EXPECT_LE(largest_pruned, smallest_kept) << name;
    }
    EXPECT_NEAR(masks.sparsity(),
                static_cast<double>(std::llround(s * 91) + std::llround(s * 65) +
                                    std::llround(s * 15)) / 171.0,
                1e-12);
  }
}

TEST(Prune, TiesAreBrokenByIndexAndZerosStayPruned) {
  nn::Linear l(4, 5, false);
  l.weight.detach().fill_(0.5);
  nn::magnitude_prune(l, 0.5);
  // 10 of 20 equal weights: the first ten in row-major order.
  const std::vector<float> w = l.weight.to_vector<float>();
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_EQ(w[i], i < 10 ? 0.0f : 0.5f) << i;

  // Iterative pruning: 50 % then 75 % is 75 %, and the first zeros are among the second's.
  auto m = small_mlp(2);
  nn::magnitude_prune(*m, 0.5);
  const std::vector<float> first = m->parameters()[0].to_vector<float>();
  nn::magnitude_prune(*m, 0.75);
  const std::vector<float> second = m->parameters()[0].to_vector<float>();
  EXPECT_EQ(count_zeros(m->parameters()[0]), std::llround(0.75 * 91));
  for (std::size_t i = 0; i < first.size(); ++i)
    if (first[i] == 0.0f) {
      EXPECT_EQ(second[i], 0.0f) << i;
    }
}

TEST(Prune, GlobalThresholdFavoursLargeLayers) {
  // Layer 0 has weights ~100× larger than layer 2: one global threshold takes the small layer
  // first, while per-layer pruning takes the same fraction of each.
  const auto make = [] {
    auto m = small_mlp(3);
    m->parameters()[0].detach().copy_(m->parameters()[0].detach() * 100.0);
    return m;
  };
  auto per_layer = make();
  auto global = make();
  nn::magnitude_prune(*per_layer, 0.4, nn::PruneScope::per_layer);
  const nn::PruningMasks masks = nn::magnitude_prune(*global, 0.4, nn::PruneScope::global);

  const std::vector<nn::LayerSparsity> pl = nn::sparsity_report(*per_layer);
  const std::vector<nn::LayerSparsity> gl = nn::sparsity_report(*global);
  ASSERT_EQ(gl.size(), 3u);
  EXPECT_EQ(gl[0].name, "0.weight");
  EXPECT_EQ(gl[1].name, "2.weight");
  EXPECT_EQ(pl[0].zeros, std::llround(0.4 * 91));
  // round(0.4 · 171) = 68 zeros in all, taken from the 80 small weights of layers 2 and 4:
  // about 90 % of layer 2 (|w| < 1/√13) and 55 % of layer 4 (|w| < 1/√5), none of layer 0.
  EXPECT_EQ(gl[0].zeros + gl[1].zeros + gl[2].zeros, 68);
  EXPECT_EQ(gl[0].zeros, 0);
  EXPECT_GT(gl[1].sparsity(), 0.75);
  EXPECT_GT(gl[1].zeros, pl[1].zeros);
  EXPECT_NEAR(nn::weight_sparsity(*global), 68.0 / 171.0, 1e-12);
  EXPECT_NEAR(masks.sparsity(), 68.0 / 171.0, 1e-12);
  // The global threshold: every kept weight (any layer) is ≥ every pruned weight in magnitude.
  auto reference = make();
  float largest_pruned = 0.0f, smallest_kept = std::numeric_limits<float>::infinity();
  for (std::size_t l = 0; l < 3; ++l) {
    const std::vector<float> w0 = reference->parameters()[2 * l].to_vector<float>();
    const std::vector<float> w = global->parameters()[2 * l].to_vector<float>();
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (w[i] == 0.0f)
        largest_pruned = std::max(largest_pruned, std::fabs(w0[i]));
      else
        smallest_kept = std::min(smallest_kept, std::fabs(w0[i]));
    }
  }
  EXPECT_LE(largest_pruned, smallest_kept);
}

TEST(Prune, MasksKeepSparsityThroughAdamSteps) {
  auto m = small_mlp(4);
  const nn::PruningMasks masks = nn::magnitude_prune(*m, 0.75);
  gnm::optim::AdamOptions opts;
  opts.lr = 1e-2;
  gnm::optim::Adam adam(m->parameters(), opts);
  const Tensor x = gnm::rand({8, 7});
  const auto step = [&] {
    m->zero_grad();
    gnm::sum(gnm::square(m->forward(x))).backward();
    adam.step();
  };
  step();
  // Adam moves a weight whose gradient is non-zero, pruned or not …
  EXPECT_LT(nn::weight_sparsity(*m), 0.7);
  // … and apply() puts the zeros back, in the same places.
  masks.apply(*m);
  const std::vector<nn::LayerSparsity> r = nn::sparsity_report(*m);
  EXPECT_EQ(r[0].zeros, std::llround(0.75 * 91));
  EXPECT_EQ(r[1].zeros, std::llround(0.75 * 65));
  EXPECT_EQ(r[2].zeros, std::llround(0.75 * 15));
  for (int i = 0; i < 3; ++i) {
    step();
    masks.apply(*m);
  }
  const std::vector<float> mask0 = masks.masks()[0].second.to_vector<float>();
  const std::vector<float> w0 = m->parameters()[0].to_vector<float>();
  for (std::size_t i = 0; i < w0.size(); ++i)
    if (mask0[i] == 0.0f) {
      EXPECT_EQ(w0[i], 0.0f) << i;
    }

  // apply_to_grads zeros the gradient of the pruned weights.
  m->zero_grad();
  gnm::sum(gnm::square(m->forward(x))).backward();
  masks.apply_to_grads(*m);
  const std::vector<float> g0 = m->parameters()[0].grad().to_vector<float>();
  for (std::size_t i = 0; i < g0.size(); ++i)
    if (mask0[i] == 0.0f) {
      EXPECT_EQ(g0[i], 0.0f) << i;
    }
  EXPECT_GT(std::count_if(g0.begin(), g0.end(), [](float g) { return g != 0.0f; }), 0);
}

TEST(Prune, BadInputsThrow) {
  auto m = small_mlp(5);
  for (double s : {1.0, -0.1, 1.5, std::numeric_limits<double>::quiet_NaN()})
    EXPECT_THROW(nn::magnitude_prune(*m, s), gnm::Error) << s;
  EXPECT_EQ(nn::weight_sparsity(*m), 0.0);  // nothing was changed

  // Masks from another architecture: a missing name, then a different shape.
  const nn::PruningMasks masks = nn::magnitude_prune(*m, 0.5);
  gnm::manual_seed(6);
  auto shorter = nn::make_mlp({7, 13}, nn::Activation::tanh);
  EXPECT_THROW(masks.apply(*shorter), gnm::Error);
  auto wider = nn::make_mlp({7, 14, 5, 3}, nn::Activation::tanh);
  EXPECT_THROW(masks.apply(*wider), gnm::ShapeError);
  EXPECT_THROW(masks.apply_to_grads(*wider), gnm::ShapeError);
  EXPECT_EQ(nn::weight_sparsity(*wider), 0.0);  // checked before anything was written

  // A NaN weight cannot be ranked; a model without weight matrices cannot be pruned.
  auto nan_model = small_mlp(7);
  nan_model->parameters()[2].detach().select(0, 1).select(0, 1).fill_(
      std::numeric_limits<double>::quiet_NaN());
  EXPECT_THROW(nn::magnitude_prune(*nan_model, 0.5), gnm::Error);
  nn::ReLU relu;
  EXPECT_THROW(nn::magnitude_prune(relu, 0.5), gnm::Error);
  EXPECT_EQ(nn::magnitude_prune(relu, 0.0).masks().size(), 0u);
  EXPECT_EQ(nn::weight_sparsity(relu), 0.0);
}

TEST(Prune, OnlyWeightMatricesArePrunable) {
  const Tensor matrix = gnm::zeros({2, 3});
  const Tensor vector = gnm::zeros({3});
  EXPECT_TRUE(nn::is_prunable("0.weight", matrix));
  EXPECT_TRUE(nn::is_prunable("weight", matrix));
  EXPECT_FALSE(nn::is_prunable("0.weight", vector));  // a LayerNorm-style scale
  EXPECT_FALSE(nn::is_prunable("0.bias", matrix));
  EXPECT_FALSE(nn::is_prunable("0.weight_orig", matrix));
}

}  // namespace
