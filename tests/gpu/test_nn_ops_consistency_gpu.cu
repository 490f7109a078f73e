// Backend consistency of chapter 9.3's reductions, linear algebra, losses and indexing: every op
// runs on the CPU and on CUDA from the same inputs (f32, and bf16 where the op is floating), and
// the outputs and the gradients of out.backward(upstream) must agree.
//
// Tolerances: both backends accumulate in fp32 but in different orders (trees on the GPU, blocks
// on the CPU, cuBLAS's own tiling), so f32 results agree to ~K·2⁻²⁴ relative to the terms' mass;
// the longest sums here have a few hundred O(1) terms → 1e-4 relative, 1e-5 absolute. bf16 adds
// one rounding of the result on each side: 2·2⁻⁸ relative. Pure data movement (cat, gather, …) and
// argmax must agree exactly.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "gnm/autograd/node.hpp"
#include "gnm/tensor/ops.hpp"
#include "gpu_test.hpp"

namespace {

using gnm::DType;
using gnm::Reduction;
using gnm::Shape;
using gnm::Tensor;

using Op = std::function<Tensor(const std::vector<Tensor>&)>;

Tensor longs(std::vector<std::int64_t> v, Shape shape) {
  return gnm::from_vector(std::span<const std::int64_t>(v), std::move(shape));
}

struct Tolerance {
  double rtol, atol;
};

Tolerance tolerance_for(DType t, bool exact) {
  if (exact) return {0.0, 0.0};
  if (t == DType::bf16) return {2.0 * std::ldexp(1.0, -8), 1e-2};
  return {1e-4, 1e-5};
}

// Runs `op` on `inputs` (CPU tensors; floating ones become leaves) on both backends, with
// backward from the same random upstream, and compares outputs and gradients.
void expect_consistent(const std::string& name, const Op& op, const std::vector<Tensor>& inputs,
                       DType dtype, bool exact = false) {
  SCOPED_TRACE(name + " " + std::string(gnm::dtype_name(dtype)));
  auto make = [&](gnm::Device dev) {
    std::vector<Tensor> v;
    for (const Tensor& t : inputs) {
      Tensor x = gnm::is_floating(t.dtype()) ? t.to(dtype).to(dev).detach() : t.to(dev);
      if (gnm::is_floating(x.dtype())) x.requires_grad_();
      v.push_back(x);
    }
    return v;
  };
  std::vector<Tensor> cpu_in = make(gnm::Device::cpu()), gpu_in = make(gnm::Device::cuda());
  const Tensor cpu_out = op(cpu_in), gpu_out = op(gpu_in);
  ASSERT_TRUE(gpu_out.is_cuda());
  ASSERT_EQ(cpu_out.shape(), gpu_out.shape());
  ASSERT_EQ(cpu_out.dtype(), gpu_out.dtype());
  const Tolerance tol = tolerance_for(dtype, exact || !gnm::is_floating(cpu_out.dtype()));
  const Tensor got = gpu_out.cpu();
  EXPECT_TRUE(gnm::allclose(got.to(DType::f64), cpu_out.to(DType::f64), tol.rtol, tol.atol, true))
      << "CUDA\n" << got << "\nCPU\n" << cpu_out;
  if (!gnm::is_floating(cpu_out.dtype())) return;
  const Tensor upstream = gnm::rand(cpu_out.shape(), {}, -1.0, 1.0).to(dtype);
  cpu_out.backward(upstream);
  gpu_out.backward(upstream.to(gnm::Device::cuda()));
  for (std::size_t i = 0; i < cpu_in.size(); ++i) {
    if (!cpu_in[i].requires_grad()) continue;
    ASSERT_TRUE(gpu_in[i].grad().defined()) << "input " << i;
    EXPECT_TRUE(gnm::allclose(gpu_in[i].grad().cpu().to(DType::f64),
                              cpu_in[i].grad().to(DType::f64), tol.rtol, tol.atol))
        << "gradient of input " << i << "\nCUDA\n" << gpu_in[i].grad().cpu() << "\nCPU\n"
        << cpu_in[i].grad();
  }
}

Tensor r(Shape s) { return gnm::rand(std::move(s), {}, -2.0, 2.0); }

TEST(NnOpsConsistencyGpu, Reductions) {
  GNM_GPU_TEST_OR_SKIP();
  gnm::manual_seed(51);
  for (DType dt : {DType::f32, DType::bf16}) {
    const Tensor x = r({3, 7, 5}), big = r({2, 1000});
    expect_consistent("mean dims", [](const auto& in) { return gnm::mean(in[0], {0, 2}); }, {x}, dt);
    expect_consistent("mean all", [](const auto& in) { return gnm::mean(in[0]); }, {big}, dt);
    expect_consistent("mean strided", [](const auto& in) { return gnm::mean(in[0].t(), {1}, true); },
                      {big}, dt);
    expect_consistent("var", [](const auto& in) { return gnm::var(in[0], {1}, 1); }, {x}, dt);
    expect_consistent("var long", [](const auto& in) { return gnm::var(in[0], {1}, 0, true); }, {big}, dt);
    expect_consistent("max all", [](const auto& in) { return gnm::max(in[0]); }, {big}, dt);
    expect_consistent("max dim", [](const auto& in) { return gnm::max(in[0], 1); }, {x}, dt);
    expect_consistent("max long dim", [](const auto& in) { return gnm::max(in[0], -1, true); }, {big}, dt);
    expect_consistent("argmax", [](const auto& in) { return gnm::argmax(in[0], 1); }, {big}, dt, true);
    expect_consistent("argmax short", [](const auto& in) { return gnm::argmax(in[0], 0); }, {x}, dt, true);
  }
  // Ties and NaN: the first maximum on both backends.
  const std::vector<double> v{1, 3, 3, 2, NAN, 5, NAN, 1};
  const Tensor t = gnm::from_vector(std::span<const double>(v), {2, 4});
  expect_consistent("argmax ties/NaN", [](const auto& in) { return gnm::argmax(in[0], 1); }, {t},
                    DType::f32, true);
}

TEST(NnOpsConsistencyGpu, LinearAlgebra) {
  GNM_GPU_TEST_OR_SKIP();
  gnm::manual_seed(52);
  auto mm = [](const auto& in) { return gnm::matmul(in[0], in[1]); };
  for (DType dt : {DType::f32, DType::bf16}) {
    expect_consistent("mm", mm, {r({33, 70}), r({70, 17})}, dt);
    expect_consistent("mm transposed", [](const auto& in) { return gnm::matmul(in[0].t(), in[1].t()); },
                      {r({70, 33}), r({17, 70})}, dt);
    expect_consistent("mm stepped", [](const auto& in) { return gnm::matmul(in[0].slice(1, 0, 8, 2), in[1]); },
                      {r({5, 8}), r({4, 3})}, dt);
    expect_consistent("broadcast batch", mm, {r({2, 1, 3, 4}), r({3, 4, 2})}, dt);
    expect_consistent("fold batch", mm, {r({2, 3, 4}), r({4, 5})}, dt);
    expect_consistent("1-d", mm, {r({4}), r({2, 4, 3})}, dt);
    expect_consistent("dot", mm, {r({9}), r({9})}, dt);
    expect_consistent("bmm", [](const auto& in) { return gnm::bmm(in[0], in[1]); },
                      {r({3, 5, 6}), r({3, 6, 2})}, dt);
    expect_consistent("linear", [](const auto& in) { return gnm::linear(in[0], in[1], in[2]); },
                      {r({2, 64, 100}), r({30, 100}), r({30})}, dt);
    expect_consistent("linear no bias", [](const auto& in) { return gnm::linear(in[0], in[1]); },
                      {r({7, 5}), r({3, 5})}, dt);
  }
  expect_consistent("empty K", mm, {r({3, 0}), r({0, 4})}, DType::f32, true);
}

TEST(NnOpsConsistencyGpu, Losses) {
  GNM_GPU_TEST_OR_SKIP();
  gnm::manual_seed(53);
  const Tensor target = longs({0, 9, 3, 3, 7, 1}, {6});
  for (DType dt : {DType::f32, DType::bf16}) {
    for (bool log : {false, true}) {
      const auto f = log ? gnm::log_softmax : gnm::softmax;
      expect_consistent("softmax last", [f](const auto& in) { return f(in[0], -1); }, {r({6, 10})}, dt);
      expect_consistent("softmax first", [f](const auto& in) { return f(in[0], 0); }, {r({5, 3, 4})}, dt);
      expect_consistent("softmax long", [f](const auto& in) { return f(in[0], 1); }, {r({3, 3001})}, dt);
    }
    for (Reduction red : {Reduction::none, Reduction::mean, Reduction::sum})
      for (double eps : {0.0, 0.2})
        expect_consistent("cross_entropy",
                          [red, eps](const auto& in) { return gnm::cross_entropy(in[0], in[1], red, eps); },
                          {r({6, 10}), target}, dt);
    expect_consistent("cross_entropy wide",
                      [](const auto& in) { return gnm::cross_entropy(in[0], in[1]); },
                      {r({2, 500}), longs({499, 0}, {2})}, dt);
    expect_consistent("mse", [](const auto& in) { return gnm::mse_loss(in[0], in[1]); },
                      {r({4, 9}), r({4, 9})}, dt);
  }
  // A bad target is reported from the device too.
  const Tensor logits = gnm::zeros({2, 3}, {.device = gnm::Device::cuda()});
  EXPECT_THROW(gnm::cross_entropy(logits, longs({0, 3}, {2}).to(gnm::Device::cuda())), gnm::Error);
}

TEST(NnOpsConsistencyGpu, Indexing) {
  GNM_GPU_TEST_OR_SKIP();
  gnm::manual_seed(54);
  for (DType dt : {DType::f32, DType::bf16}) {
    expect_consistent("cat", [](const auto& in) { return gnm::cat({in[0], in[1].t()}, 1); },
                      {r({3, 2}), r({4, 3})}, dt);
    expect_consistent("stack", [](const auto& in) { return gnm::stack({in[0], in[1]}, 1); },
                      {r({3, 2}), r({3, 2})}, dt);
    expect_consistent("index_select",
                      [](const auto& in) { return gnm::index_select(in[0], 1, in[1]); },
                      {r({3, 5, 2}), longs({4, 0, 4, 4}, {4})}, dt);
    expect_consistent("gather", [](const auto& in) { return gnm::gather(in[0], 1, in[1]); },
                      {r({3, 5}), longs({0, 4, 4, 1, 1, 1}, {3, 2})}, dt);
    expect_consistent("embedding", [](const auto& in) { return gnm::embedding(in[0], in[1]); },
                      {r({7, 33}), longs({6, 1, 1, 0, 6, 6}, {2, 3})}, dt);
  }
  const Tensor w = gnm::zeros({4, 2}, {.device = gnm::Device::cuda()});
  try {
    (void)gnm::embedding(w, longs({1, 9}, {2}).to(gnm::Device::cuda()));
    FAIL() << "expected gnm::Error";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("index_value = 9"), std::string::npos) << e.what();
  }
}

}  // namespace
