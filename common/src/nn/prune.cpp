// Magnitude pruning: ranking |w| with a strict order, the keep-masks, sparsity reports.
//
// The ranking runs on the host: weights are copied out once (to_vector), ranked with
// std::nth_element (O(n); 4–6 ms for the 235 k weights of the chapter's MLP), and the masks
// are copied back to each weight's device. Pruning happens a handful of times per run, so the
// copy is not worth a device kernel.
#include "gnm/nn/prune.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "gnm/autograd/node.hpp"
#include "gnm/core/check.hpp"
#include "gnm/tensor/ops.hpp"

namespace gnm::nn {

namespace {

NamedTensors prunable_parameters(const Module& model) {
  NamedTensors out;
  for (auto& e : model.named_parameters())
    if (is_prunable(e.first, e.second)) out.push_back(std::move(e));
  return out;
}

// |w| of every element, checked finite (a NaN has no rank).
std::vector<float> abs_values(const std::string& name, const Tensor& w) {
  std::vector<float> v = w.detach().to_vector<float>();
  for (std::size_t i = 0; i < v.size(); ++i) {
    GNM_CHECK(std::isfinite(v[i]), "magnitude_prune: a weight is NaN or infinite", name, i,
              static_cast<double>(v[i]));
    v[i] = std::fabs(v[i]);
  }
  return v;
}

// One weight in the global ranking: Note [Pruning order and ties].
struct Ranked {
  float magnitude;
  std::int32_t layer;
  std::int64_t index;
  bool operator<(const Ranked& o) const {
    if (magnitude != o.magnitude) return magnitude < o.magnitude;
    if (layer != o.layer) return layer < o.layer;
    return index < o.index;
  }
};

std::int64_t count_to_prune(double sparsity, std::int64_t n) {
  return std::min<std::int64_t>(n, std::llround(sparsity * static_cast<double>(n)));
}

}  // namespace

bool is_prunable(const std::string& name, const Tensor& parameter) {
  const std::size_t dot = name.rfind('.');
  const std::string last = dot == std::string::npos ? name : name.substr(dot + 1);
  return last == "weight" && parameter.defined() && parameter.dim() >= 2;
}

// ---- PruningMasks -------------------------------------------------------------------------------

std::vector<Tensor> PruningMasks::targets(const Module& model, const char* what) const {
  std::map<std::string, Tensor> by_name;
  for (auto& e : model.named_parameters()) by_name.emplace(e.first, e.second);
  std::vector<Tensor> out;
  for (const auto& [name, mask] : masks_) {
    const auto it = by_name.find(name);
    GNM_CHECK(it != by_name.end(), "PruningMasks: the model has no parameter with this name",
              what, name, model.type_name());
    GNM_CHECK_SHAPE(it->second.shape() == mask.shape(),
                    "PruningMasks: the mask's shape differs from the parameter's", what, name,
                    shape_str(mask.shape()), shape_str(it->second.shape()));
    out.push_back(it->second);
  }
  return out;
}

//! [apply_masks]
void PruningMasks::apply(Module& model) const {
  const std::vector<Tensor> params = targets(model, "apply");
  autograd::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    // The model may have moved (to(device), to(dtype)) since the masks were made.
    const Tensor m = masks_[i].second.to(p.device()).to(p.dtype());
    p.detach().copy_(mul(p.detach(), m));
  }
}
//! [apply_masks]

void PruningMasks::apply_to_grads(Module& model) const {
  const std::vector<Tensor> params = targets(model, "apply_to_grads");
  autograd::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params.size(); ++i) {
    Tensor g = params[i].grad();
    if (!g.defined()) continue;
    const Tensor m = masks_[i].second.to(g.device()).to(g.dtype());
    g.copy_(mul(g, m));
  }
}

double PruningMasks::sparsity() const {
  std::int64_t n = 0;
  std::int64_t zeros = 0;
  for (const auto& [name, m] : masks_) {
    n += m.numel();
    for (float v : m.to_vector<float>()) zeros += v == 0.0f ? 1 : 0;
  }
  return n > 0 ? static_cast<double>(zeros) / static_cast<double>(n) : 0.0;
}

// ---- magnitude_prune ----------------------------------------------------------------------------

//! [magnitude_prune]
PruningMasks magnitude_prune(Module& model, double sparsity, PruneScope scope) {
  GNM_CHECK(sparsity >= 0.0 && sparsity < 1.0,
            "magnitude_prune: the sparsity is the fraction of weights to zero, in [0, 1)",
            sparsity);
  const NamedTensors params = prunable_parameters(model);
  GNM_CHECK(!params.empty() || sparsity == 0.0,
            "magnitude_prune: the model has no weight to prune (parameters named 'weight' with "
            "two or more dimensions)",
            model.type_name());

  std::vector<std::vector<float>> mags;
  for (const auto& [name, w] : params) mags.push_back(abs_values(name, w));
  // keep[l][i] = 1 for a weight that stays.
  std::vector<std::vector<float>> keep;
  for (const auto& m : mags) keep.emplace_back(m.size(), 1.0f);

  if (scope == PruneScope::per_layer) {
    for (std::size_t l = 0; l < mags.size(); ++l) {
      const auto& m = mags[l];
      std::vector<std::int64_t> order(m.size());
      std::iota(order.begin(), order.end(), 0);
      const std::int64_t k = count_to_prune(sparsity, static_cast<std::int64_t>(m.size()));
      // The k first in the order (|w|, index): Note [Pruning order and ties].
      const auto before = [&m](std::int64_t a, std::int64_t b) {
        const float ma = m[static_cast<std::size_t>(a)];
        const float mb = m[static_cast<std::size_t>(b)];
        return ma != mb ? ma < mb : a < b;
      };
      std::nth_element(order.begin(), order.begin() + k, order.end(), before);
      for (std::int64_t i = 0; i < k; ++i) keep[l][static_cast<std::size_t>(order[i])] = 0.0f;
    }
  } else {
    std::vector<Ranked> all;
    for (std::size_t l = 0; l < mags.size(); ++l)
      for (std::size_t i = 0; i < mags[l].size(); ++i)
        all.push_back({mags[l][i], static_cast<std::int32_t>(l), static_cast<std::int64_t>(i)});
    const std::int64_t k = count_to_prune(sparsity, static_cast<std::int64_t>(all.size()));
    std::nth_element(all.begin(), all.begin() + k, all.end());
    for (std::int64_t i = 0; i < k; ++i) {
      const Ranked& r = all[static_cast<std::size_t>(i)];
      keep[static_cast<std::size_t>(r.layer)][static_cast<std::size_t>(r.index)] = 0.0f;
    }
  }

  NamedTensors masks;
  for (std::size_t l = 0; l < params.size(); ++l) {
    const Tensor& w = params[l].second;
    masks.emplace_back(params[l].first,
                       from_vector(std::span<const float>(keep[l]), w.shape(),
                                   {.dtype = w.dtype(), .device = w.device()}));
  }
  PruningMasks result(std::move(masks));
  result.apply(model);
  return result;
}
//! [magnitude_prune]

// ---- reports ------------------------------------------------------------------------------------

std::vector<LayerSparsity> sparsity_report(const Module& model) {
  std::vector<LayerSparsity> out;
  for (const auto& [name, w] : prunable_parameters(model)) {
    LayerSparsity s{name, w.numel(), 0};
    for (float v : w.detach().to_vector<float>()) s.zeros += v == 0.0f ? 1 : 0;
    out.push_back(std::move(s));
  }
  return out;
}

double weight_sparsity(const Module& model) {
  std::int64_t n = 0;
  std::int64_t zeros = 0;
  for (const LayerSparsity& s : sparsity_report(model)) {
    n += s.numel;
    zeros += s.zeros;
  }
  return n > 0 ? static_cast<double>(zeros) / static_cast<double>(n) : 0.0;
}

}  // namespace gnm::nn
