// Gradient checkpointing (gnm/autograd/checkpoint.hpp, chapter 10.5): the gradients of a deep MLP
// are bit for bit the same with and without checkpoint() (also with dropout inside a segment,
// thanks to the RNG replay), the peak of live host tensor memory is measured lower, and the edge
// cases (no grad mode, inputs without grad, errors in the segment, backward twice) behave.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

#include "gnm/autograd/checkpoint.hpp"
#include "gnm/autograd/node.hpp"
#include "gnm/nn/layers.hpp"
#include "gnm/tensor/ops.hpp"
#include "gnm/tensor/autocast.hpp"
#include "gnm/tensor/storage.hpp"

namespace {

using gnm::Tensor;
namespace nn = gnm::nn;

// `depth` blocks of Linear(width, width) + Tanh (+ Dropout when p > 0), as one Sequential per
// segment of `per_segment` blocks.
std::vector<std::shared_ptr<nn::Sequential>> deep_mlp(int depth, int per_segment,
                                                      std::int64_t width, double p = 0.0) {
  std::vector<std::shared_ptr<nn::Sequential>> segments;
  for (int i = 0; i < depth; ++i) {
    if (i % per_segment == 0) segments.push_back(std::make_shared<nn::Sequential>());
    segments.back()->push_back(std::make_shared<nn::Linear>(width, width));
    segments.back()->push_back(std::make_shared<nn::Tanh>());
    if (p > 0) segments.back()->push_back(std::make_shared<nn::Dropout>(p));
  }
  return segments;
}

std::vector<Tensor> all_parameters(const std::vector<std::shared_ptr<nn::Sequential>>& segs) {
  std::vector<Tensor> out;
  for (const auto& s : segs)
    for (const Tensor& t : s->parameters()) out.push_back(t);
  return out;
}

struct Result {
  std::vector<std::vector<float>> grads;  // parameters', then the input's (if it wants one)
  std::size_t peak_bytes = 0;             // peak live host storage above the start
};

// Forward (checkpointed or not) and backward of sum(mlp(x) · w); returns the gradients and
// the peak of live CPU storage above what was live before the forward.
Result run(const std::vector<std::shared_ptr<nn::Sequential>>& segs, const Tensor& x,
           const Tensor& w, bool use_checkpoint, std::uint64_t seed,
           std::optional<gnm::DType> autocast = std::nullopt) {
  for (const auto& s : segs) s->zero_grad();
  if (x.requires_grad()) Tensor(x).set_grad(Tensor());
  gnm::manual_seed(seed);
  gnm::reset_storage_peak();
  const std::size_t base = gnm::storage_stats().live_bytes;
  {
    Tensor h = x;
    {
      // The forward only: backward runs outside the guard, as in a training step.
      const gnm::AutocastGuard guard(autocast);
      for (const auto& s : segs) {
        h = use_checkpoint
                ? gnm::autograd::checkpoint([s](const Tensor& in) { return s->forward(in); }, h)
                : s->forward(h);
      }
    }
    h = h.to(gnm::DType::f32);
    Tensor loss = w.defined() ? gnm::sum(h * w) : gnm::sum(h);
    h = Tensor();  // keep only the loss, as a training step does (see PeakMemoryIsLower)
    loss.backward();
  }
  Result r;
  r.peak_bytes = gnm::storage_stats().peak_bytes - base;
  for (const Tensor& p : all_parameters(segs)) r.grads.push_back(p.grad().to_vector<float>());
  if (x.requires_grad()) r.grads.push_back(x.grad().to_vector<float>());
  return r;
}

TEST(GradCheckpoint, GradientsAreBitIdenticalOnADeepMlp) {
  gnm::manual_seed(1);
  const auto segs = deep_mlp(16, 4, 256);  // 16 layers of 256 with tanh, 4 segments
  const Tensor x = gnm::rand({32, 256}, {}, -1, 1).requires_grad_(true);
  const Tensor w = gnm::rand({32, 256}, {}, -1, 1);
  const Result plain = run(segs, x, w, false, 7);
  const Result ckpt = run(segs, x, w, true, 7);
  ASSERT_EQ(plain.grads.size(), 33u);  // 16 weights, 16 biases, the input
  for (std::size_t i = 0; i < plain.grads.size(); ++i) {
    ASSERT_EQ(plain.grads[i], ckpt.grads[i]) << "gradient " << i;
  }
}

TEST(GradCheckpoint, RecomputationReplaysTheForwardsAutocast) {
  // Under bf16 autocast the segment's recomputation (during backward, outside the guard) must
  // run in bf16 too, or its output dtype would not match the gradient arriving for it.
  gnm::manual_seed(4);
  const auto segs = deep_mlp(6, 2, 48);
  const Tensor x = gnm::rand({9, 48}, {}, -1, 1).requires_grad_(true);
  const Tensor w = gnm::rand({9, 48}, {}, -1, 1);
  const Result plain = run(segs, x, w, false, 3, gnm::DType::bf16);
  const Result ckpt = run(segs, x, w, true, 3, gnm::DType::bf16);
  ASSERT_EQ(plain.grads.size(), 13u);
  for (std::size_t i = 0; i < plain.grads.size(); ++i) {
    ASSERT_EQ(plain.grads[i], ckpt.grads[i]) << "gradient " << i;
  }
  // And bf16 really was used: the f32 run's gradients differ.
  EXPECT_NE(run(segs, x, w, false, 3).grads, plain.grads);
}

TEST(GradCheckpoint, DropoutInsideASegmentReplaysTheSameMask) {
  gnm::manual_seed(2);
  const auto segs = deep_mlp(6, 3, 33, 0.3);  // odd width, dropout after every tanh
  const Tensor x = gnm::rand({5, 33}, {}, -1, 1).requires_grad_(true);
  const Tensor w = gnm::rand({5, 33}, {}, -1, 1);
  const Result plain = run(segs, x, w, false, 11);
  const Result ckpt = run(segs, x, w, true, 11);
  for (std::size_t i = 0; i < plain.grads.size(); ++i) {
    ASSERT_EQ(plain.grads[i], ckpt.grads[i]) << "gradient " << i;
  }
  // A different seed gives different masks, hence different gradients (the test can fail).
  EXPECT_NE(run(segs, x, w, true, 12).grads, plain.grads);
  // The generator ends where the plain run leaves it: the recomputation restored it.
  (void)run(segs, x, w, false, 11);
  const gnm::GeneratorState after_plain = gnm::generator_state();
  (void)run(segs, x, w, true, 11);
  EXPECT_EQ(gnm::generator_state().subsequence, after_plain.subsequence);
}

// Peak live host storage during forward + backward. Without checkpointing, every Tanh keeps its
// output (which is also the next Linear's saved input): L = 16 activations of B·256 floats. With
// S = 4 segments, the forward keeps the 3 inner segment outputs (the last one, the logits, feeds
// only the loss, which saves nothing for sum), and backward recomputes one segment of 4 layers
// at a time: 3 + 4 = 7 activations (S − 1 + L/S, smallest at S = √L). Both runs also allocate
// the 16·(256² + 256) parameter gradients (4.2 MB) and ~2 transient activation gradients; with
// B = 2048 (2 MiB per activation) the prediction is (7·2 + 4.2 + 2·2) / (16·2 + 4.2 + 2·2)
// ≈ 55 % of the plain peak, i.e. 45 % lower. (Holding on to the logits during backward would
// add one activation to the checkpointed run only: ≈ 39 % lower.)
TEST(GradCheckpoint, PeakMemoryIsLower) {
  gnm::manual_seed(3);
  const auto segs = deep_mlp(16, 4, 256);
  const Tensor x = gnm::rand({2048, 256}, {}, -1, 1);  // no grad: a data batch
  const Result plain = run(segs, x, Tensor(), false, 5);
  const Result ckpt = run(segs, x, Tensor(), true, 5);
  for (std::size_t i = 0; i < plain.grads.size(); ++i) {
    ASSERT_EQ(plain.grads[i], ckpt.grads[i]) << "gradient " << i;
  }
  const double ratio = static_cast<double>(ckpt.peak_bytes) / static_cast<double>(plain.peak_bytes);
  std::printf("peak live host storage: plain %.1f MiB, checkpointed %.1f MiB (%.0f %% lower)\n",
              static_cast<double>(plain.peak_bytes) / 1048576.0,
              static_cast<double>(ckpt.peak_bytes) / 1048576.0, 100.0 * (1.0 - ratio));
  RecordProperty("plain_peak_bytes", std::to_string(plain.peak_bytes));
  RecordProperty("checkpoint_peak_bytes", std::to_string(ckpt.peak_bytes));
  EXPECT_LT(ratio, 0.6);  // chapter 10.5's goal: at least 40 % lower
}

TEST(GradCheckpoint, EdgeCases) {
  gnm::manual_seed(4);
  auto lin = std::make_shared<nn::Linear>(3, 2);
  const auto seg = [lin](const Tensor& in) { return gnm::tanh(lin->forward(in)); };
  const Tensor x = gnm::rand({4, 3});  // does not require grad: parameters still get gradients
  Tensor y = gnm::autograd::checkpoint(seg, x);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(y.grad_fn()->name(), "CheckpointFunctionBackward");
  gnm::sum(y).backward();
  ASSERT_TRUE(lin->weight.grad().defined());
  const std::vector<float> g1 = lin->weight.grad().to_vector<float>();
  lin->zero_grad();
  gnm::sum(seg(x)).backward();
  EXPECT_EQ(lin->weight.grad().to_vector<float>(), g1);

  // Under no_grad it is a plain call; a second backward through it is the usual error.
  {
    gnm::autograd::NoGradGuard no_grad;
    EXPECT_FALSE(gnm::autograd::checkpoint(seg, x).requires_grad());
  }
  Tensor z = gnm::sum(gnm::autograd::checkpoint(seg, x));
  z.backward();
  EXPECT_THROW(z.backward(), gnm::Error);
  // An exception inside the recomputation reaches the caller of backward().
  bool fail = false;
  auto flaky = [&fail, lin](const Tensor& in) {
    if (fail) throw gnm::Error("segment failed on purpose");
    return lin->forward(in);
  };
  Tensor out = gnm::sum(gnm::autograd::checkpoint(flaky, x));
  fail = true;
  EXPECT_THROW(out.backward(), gnm::Error);
  EXPECT_THROW(gnm::autograd::checkpoint(nullptr, x), gnm::Error);
  EXPECT_THROW(gnm::autograd::checkpoint(seg, Tensor()), gnm::Error);
  // Non-floating results pass through without a node.
  const Tensor idx = gnm::autograd::checkpoint(
      [](const Tensor& in) { return gnm::argmax(in, 1); }, x);
  EXPECT_FALSE(idx.requires_grad());
}

}  // namespace
