// Gradient checkpointing: a Node that recomputes its segment during backward (chapter 10.5).
//
// The engine calls Node::apply under a NoGradGuard (backward formulas are not recorded), but the
// recomputation must record a graph to backpropagate through: it runs under an EnableGradGuard.
#include "gnm/autograd/checkpoint.hpp"

#include <optional>
#include <utility>

#include "gnm/autograd/node.hpp"
#include "gnm/core/check.hpp"
#include "gnm/tensor/autocast.hpp"

namespace gnm::autograd {

namespace {

// Restores the default generator when a recomputation ends, also by an exception.
class GeneratorRestore {
 public:
  explicit GeneratorRestore(GeneratorState replay) : saved_(generator_state()) {
    set_generator_state(replay);
  }
  ~GeneratorRestore() { set_generator_state(saved_); }
  GeneratorRestore(const GeneratorRestore&) = delete;
  GeneratorRestore& operator=(const GeneratorRestore&) = delete;

 private:
  GeneratorState saved_;
};

//! [checkpoint_backward]
class CheckpointBackward final : public Node {
 public:
  std::function<Tensor(const Tensor&)> segment;
  Tensor input;  // detached: the only activation this segment keeps
  bool input_requires_grad = false;
  GeneratorState rng;  // the generator before the forward ran
  std::optional<DType> autocast;  // the autocast state of the forward, replayed with it

  std::string name() const override { return "CheckpointFunctionBackward"; }

  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_not_released();
    Tensor grad_input;
    {
      const EnableGradGuard enable_grad;
      Tensor x = input.detach();  // a fresh leaf on the same storage
      if (input_requires_grad) x.requires_grad_(true);
      Tensor out;
      {
        const GeneratorRestore replay(rng);
        const AutocastGuard autocast_replay(autocast);
        out = segment(x);
      }
      GNM_CHECK(out.defined() && out.shape() == output_shapes[0],
                "checkpoint: the recomputed segment gives a different shape (is it "
                "deterministic?)",
                out.defined() ? shape_str(out.shape()) : std::string("undefined"),
                shape_str(output_shapes[0]));
      // Parameters used in the segment receive their gradients here, into .grad. Without
      // anything inside that needs a gradient there is nothing to backpropagate.
      if (out.requires_grad()) {
        backward({out}, {grads[0]}, /*retain_graph=*/false);
        if (input_requires_grad) grad_input = x.grad();
      }
    }
    return {grad_input};
  }

  void release() override {
    segment = nullptr;
    input = Tensor();
    Node::release();
  }
};
//! [checkpoint_backward]

}  // namespace

Tensor checkpoint(const std::function<Tensor(const Tensor&)>& segment, const Tensor& input) {
  GNM_CHECK(static_cast<bool>(segment), "checkpoint: the segment is an empty function");
  GNM_CHECK(input.defined(), "checkpoint: the input is an undefined tensor");
  if (!grad_mode_enabled()) return segment(input);

  const GeneratorState before = generator_state();
  Tensor out;
  {
    NoGradGuard no_grad;  // nothing inside is saved: its activations die as soon as unused
    out = segment(input.detach());
  }
  GNM_CHECK(out.defined(), "checkpoint: the segment returned an undefined tensor");
  if (!is_floating(out.dtype())) return out;
  // A new impl, so that recording history never touches a tensor the segment may have returned
  // from elsewhere (a captured tensor, or its input itself).
  out = out.detach();
  auto node = std::make_shared<CheckpointBackward>();
  node->segment = segment;
  node->input = input.detach();
  node->input_requires_grad = input.requires_grad();
  node->rng = before;
  node->autocast = autocast_dtype();
  set_history(node, {&input}, {&out});
  return out;
}

}  // namespace gnm::autograd
