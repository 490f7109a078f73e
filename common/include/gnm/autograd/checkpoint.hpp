/// \file
/// Gradient checkpointing (chapter 10.5): trade compute for memory by not keeping a segment's
/// activations for backward, and recomputing them when backward reaches the segment.
///
/// Without checkpointing, backward needs every tensor the forward saved: for an MLP of L layers of
/// width W on a batch of B, about 2·L·B·W floats (each Linear saves its input, each activation its
/// output). Wrapping each of S segments in checkpoint() keeps only the S segment inputs during the
/// forward, and during backward one segment's activations at a time: ~(S + 2·L/S)·B·W floats,
/// smallest at S = √(2L), for one extra forward pass (about a third more compute).
///
/// \code
/// gnm::Tensor h = x;
/// for (auto& block : blocks) {  // each block: a few Linear + tanh layers
///   h = gnm::autograd::checkpoint([&](const gnm::Tensor& in) { return block->forward(in); }, h);
/// }
/// gnm::cross_entropy(h, y).backward();  // same gradients as without checkpoint(), bit for bit
/// \endcode
#pragma once

#include <functional>

#include "gnm/tensor/tensor.hpp"

namespace gnm::autograd {

/// Runs `segment(input)` without recording a graph and returns its result, which records one
/// node: its backward re-runs `segment` with grad mode on, on a detached copy of `input` and with
/// the default generator reset to its state before the forward (so dropout draws the same masks),
/// then backpropagates the incoming gradient through that recomputation. Gradients reach the
/// parameters the segment uses (accumulated into their .grad) and `input`.
///
/// `segment` must be deterministic given its input and the generator state, and is copied into
/// the graph (captured references must outlive the backward). With grad mode off this is just
/// `segment(input)`. When grad mode is on the result requires grad whenever it is floating (the
/// parameters used inside are not known until the recomputation). gnm::Error for an empty
/// function or an undefined input or result.
Tensor checkpoint(const std::function<Tensor(const Tensor&)>& segment, const Tensor& input);

}  // namespace gnm::autograd
