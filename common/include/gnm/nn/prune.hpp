/// \file
/// Magnitude pruning (chapter 10.4): set the smallest-|w| fraction of a model's weight matrices
/// to exactly zero, like PyTorch's `torch.nn.utils.prune.l1_unstructured` (per layer) and
/// `global_unstructured(…, pruning_method=prune.L1Unstructured)` (one threshold for all layers).
///
/// \code
/// auto masks = gnm::nn::magnitude_prune(*model, 0.9, gnm::nn::PruneScope::global);
/// // fine-tune: after every optimizer step, put the zeros back
/// opt.step();
/// masks.apply(*model);
/// std::cout << gnm::nn::weight_sparsity(*model);  // 0.9
/// \endcode
///
/// Only parameters named "weight" (the last part of the dotted name) with two or more
/// dimensions are pruned: Linear and convolution weights, never biases, whose few values matter
/// more than they cost. Pruning does not make a dense GEMM faster by itself; it shows how much
/// of a network can be removed, and a sparse format or structured pruning turns that into speed.
///
/// Note [Pruning order and ties]
/// Weights are ranked by (|w|, layer position, flat index) — a strict total order — and the first
/// k in that order are zeroed, so the result is deterministic even when values tie (for example
/// the zeros of an earlier pruning, which therefore stay pruned). Per layer, k = round(s · n)
/// for each layer of n weights; globally, k = round(s · Σ n) over all of them, so layers with
/// small weights lose more. A weight that is NaN or infinite cannot be ranked: gnm::Error.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gnm/nn/module.hpp"

namespace gnm::nn {

/// How magnitude_prune() chooses what to remove.
enum class PruneScope {
  per_layer,  ///< Each weight matrix loses the same fraction (l1_unstructured on each layer).
  global,     ///< One |w| threshold over all weight matrices (global_unstructured).
};

/// True for the parameters magnitude_prune() considers: named "weight" (last dotted part) and
/// of two or more dimensions.
bool is_prunable(const std::string& name, const Tensor& parameter);

/// The keep-masks of a pruning, one per pruned parameter (1 = kept, 0 = pruned), with the
/// parameter's dotted name, shape, dtype and device (PyTorch's `weight_mask` buffers).
class PruningMasks {
 public:
  /// No masks.
  PruningMasks() = default;
  /// Masks taken as they are (names are dotted parameter names); apply() checks them.
  explicit PruningMasks(NamedTensors masks) : masks_(std::move(masks)) {}

  /// The masks in the module's parameter order.
  const NamedTensors& masks() const noexcept { return masks_; }
  /// Multiplies each masked parameter by its mask in place (under no_grad), so pruned weights
  /// are zero again after an optimizer step. Every mask is checked before anything is written:
  /// gnm::Error naming a mask whose parameter `model` lacks, gnm::ShapeError naming both shapes
  /// when the shapes differ.
  void apply(Module& model) const;
  /// Multiplies each masked parameter's .grad (where defined) by its mask, so that an optimizer
  /// without weight decay or momentum leaves pruned weights at zero. Same checks as apply().
  void apply_to_grads(Module& model) const;
  /// The fraction of zeros over all masks (0 when there are none).
  double sparsity() const;

 private:
  // The parameter of `model` each mask belongs to, after checking names and shapes.
  std::vector<Tensor> targets(const Module& model, const char* what) const;
  NamedTensors masks_;
};

/// Zeros the round(sparsity · n) smallest-|w| prunable weights (see Note [Pruning order and
/// ties]) in place, under no_grad, and returns their masks. `sparsity` is the fraction of zeros
/// wanted in [0, 1); gnm::Error naming it otherwise (or when `model` has no prunable weight and
/// sparsity > 0, or a weight is NaN or infinite). Weights already zero count among the smallest,
/// so pruning 50 % then 75 % gives 75 %, as an iterative schedule needs.
PruningMasks magnitude_prune(Module& model, double sparsity,
                             PruneScope scope = PruneScope::per_layer);

/// One prunable parameter's count of exact zeros (−0 counts).
struct LayerSparsity {
  std::string name;         ///< Dotted parameter name ("0.weight").
  std::int64_t numel = 0;   ///< Number of elements.
  std::int64_t zeros = 0;   ///< Number of elements equal to 0.
  /// zeros / numel (0 for an empty tensor).
  double sparsity() const {
    return numel > 0 ? static_cast<double>(zeros) / static_cast<double>(numel) : 0.0;
  }
};

/// The zero count of every prunable parameter of `model`, in parameter order.
std::vector<LayerSparsity> sparsity_report(const Module& model);

/// The fraction of exact zeros over all prunable weights of `model` (0 when there are none).
double weight_sparsity(const Module& model);

}  // namespace gnm::nn
