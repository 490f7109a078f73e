// Section 9.5's gradcheck list (see grad_cases.hpp). Shapes are small and odd (1, 3, 5, 7) so
// that central differences over every element stay cheap; broadcasting and transposed inputs
// exercise sum_to and the view backward inside the ops' rules.
#include "grad_cases.hpp"

#include "gnm/core/philox.hpp"
#include "gnm/tensor/fusion.hpp"
#include "gnm/tensor/ops.hpp"
#include "op_cases.hpp"

namespace chapter9 {

namespace {

using gnm::Tensor;
using Args = std::vector<Tensor>;

std::uint64_t g_seed = 700;

// A float64 leaf of `shape` in [lo, hi) that requires grad.
Tensor leaf(const gnm::Shape& shape, float lo = -2.0f, float hi = 2.0f) {
  Tensor t = uniform_tensor(shape, ++g_seed, lo, hi).to(gnm::DType::f64);
  t.requires_grad_(true);
  return t;
}

Tensor index_tensor(std::vector<std::int64_t> v, const gnm::Shape& shape) {
  return gnm::from_vector(std::span<const std::int64_t>(v), shape);
}

GradCase unary(std::string name, Tensor (*op)(const Tensor&), float lo = -2.0f, float hi = 2.0f) {
  return {std::move(name), "(3, 5)", {leaf({3, 5}, lo, hi)}, [op](const Args& in) {
            return op(in[0]);
          }};
}

}  // namespace

std::vector<GradCase> make_grad_cases() {
  g_seed = 700;
  const Tensor cond = gnm::gt(uniform_tensor({3, 5}, 77, 0.0f, 1.0f), gnm::full({}, 0.5));
  std::vector<GradCase> c = {
      {"add",
       "(3, 5) (5)",
       {leaf({3, 5}), leaf({5})},
       [](const Args& in) { return in[0] + in[1]; }},
      {"add(alpha = 2)",
       "(3, 1) (1, 5)",
       {leaf({3, 1}), leaf({1, 5})},
       [](const Args& in) { return gnm::add(in[0], in[1], 2.0); }},
      {"sub",
       "(3, 1) (1, 5)",
       {leaf({3, 1}), leaf({1, 5})},
       [](const Args& in) { return in[0] - in[1]; }},
      {"mul (transposed a)",
       "(5, 3).t() (3, 5)",
       {leaf({5, 3}), leaf({3, 5})},
       [](const Args& in) { return in[0].t() * in[1]; }},
      {"div",
       "(3, 5) (3, 1)",
       {leaf({3, 5}), leaf({3, 1}, 0.5f, 2.0f)},
       [](const Args& in) { return in[0] / in[1]; }},
      {"pow",
       "(3, 5) (5)",
       {leaf({3, 5}, 0.5f, 2.0f), leaf({5})},
       [](const Args& in) { return gnm::pow(in[0], in[1]); }},
      {"pow(x, 2.5)",
       "(3, 5)",
       {leaf({3, 5}, 0.5f, 2.0f)},
       [](const Args& in) { return gnm::pow(in[0], 2.5); }},
      {"maximum",
       "(3, 5) (5)",
       {leaf({3, 5}), leaf({5})},
       [](const Args& in) { return gnm::maximum(in[0], in[1]); }},
      {"minimum",
       "(3, 5) (5)",
       {leaf({3, 5}), leaf({5})},
       [](const Args& in) { return gnm::minimum(in[0], in[1]); }},
      {"add(x, 0.75)", "(3, 5)", {leaf({3, 5})}, [](const Args& in) { return in[0] + 0.75; }},
      {"mul(x, 1.5)", "(3, 5)", {leaf({3, 5})}, [](const Args& in) { return 1.5 * in[0]; }},
      {"where",
       "bool (3, 5) (3, 5) (5)",
       {cond, leaf({3, 5}), leaf({5})},
       [](const Args& in) { return gnm::where(in[0], in[1], in[2]); }},
      unary("neg", gnm::neg),
      unary("exp", gnm::exp),
      unary("log", gnm::log, 0.5f, 2.0f),
      unary("sqrt", gnm::sqrt, 0.5f, 2.0f),
      unary("abs", gnm::abs),
      unary("square", gnm::square),
      unary("relu", gnm::relu),
      unary("gelu (erf)", [](const Tensor& x) { return gnm::gelu(x, false); }),
      unary("gelu (tanh)", [](const Tensor& x) { return gnm::gelu(x, true); }),
      unary("silu", gnm::silu),
      unary("tanh", gnm::tanh),
      unary("sigmoid", gnm::sigmoid),
      unary("clamp(x, -0.5, 0.5)", [](const Tensor& x) { return gnm::clamp(x, -0.5, 0.5); }),
      {"dropout(p = 0.3)",
       "(7, 3)",
       {leaf({7, 3})},
       [](const Args& in) {
         gnm::manual_seed(99);  // the same mask on every call: gradcheck calls f many times
         return gnm::dropout(in[0], 0.3, true);
       }},
      {"bias_act(gelu)",
       "(3, 5) (5)",
       {leaf({3, 5}), leaf({5})},
       [](const Args& in) { return gnm::bias_act(in[0], in[1], gnm::Activation::gelu); }},
      {"sum", "(3, 5)", {leaf({3, 5})}, [](const Args& in) { return gnm::sum(in[0]); }},
      {"sum(dim 1, keepdim)",
       "(3, 5)",
       {leaf({3, 5})},
       [](const Args& in) { return gnm::sum(in[0], {1}, true); }},
      {"sum_to((1, 5))",
       "(3, 5)",
       {leaf({3, 5})},
       [](const Args& in) {
         return gnm::sum_to(in[0], {1, 5});
       }},
      {"mean", "(3, 5)", {leaf({3, 5})}, [](const Args& in) { return gnm::mean(in[0]); }},
      {"mean(dim 0)",
       "(3, 5)",
       {leaf({3, 5})},
       [](const Args& in) { return gnm::mean(in[0], {0}); }},
      {"var(dim 1)", "(3, 5)", {leaf({3, 5})}, [](const Args& in) { return gnm::var(in[0], {1}); }},
      {"max", "(3, 5)", {leaf({3, 5})}, [](const Args& in) { return gnm::max(in[0]); }},
      {"max(dim 1)", "(3, 5)", {leaf({3, 5})}, [](const Args& in) { return gnm::max(in[0], 1); }},
      {"matmul",
       "(3, 4) (4, 5)",
       {leaf({3, 4}), leaf({4, 5})},
       [](const Args& in) { return gnm::matmul(in[0], in[1]); }},
      {"matmul (1-d @ 2-d)",
       "(4) (4, 5)",
       {leaf({4}), leaf({4, 5})},
       [](const Args& in) { return gnm::matmul(in[0], in[1]); }},
      {"matmul (batch broadcast)",
       "(2, 3, 4) (4, 5)",
       {leaf({2, 3, 4}), leaf({4, 5})},
       [](const Args& in) { return gnm::matmul(in[0], in[1]); }},
      {"bmm",
       "(2, 3, 4) (2, 4, 5)",
       {leaf({2, 3, 4}), leaf({2, 4, 5})},
       [](const Args& in) { return gnm::bmm(in[0], in[1]); }},
      {"linear",
       "(3, 4) (5, 4) (5)",
       {leaf({3, 4}), leaf({5, 4}), leaf({5})},
       [](const Args& in) { return gnm::linear(in[0], in[1], in[2]); }},
      {"linear (no bias, 3-d x)",
       "(2, 3, 4) (5, 4)",
       {leaf({2, 3, 4}), leaf({5, 4})},
       [](const Args& in) { return gnm::linear(in[0], in[1]); }},
      {"softmax(dim 1)",
       "(3, 5)",
       {leaf({3, 5})},
       [](const Args& in) { return gnm::softmax(in[0], 1); }},
      {"log_softmax(dim 0)",
       "(3, 5)",
       {leaf({3, 5})},
       [](const Args& in) { return gnm::log_softmax(in[0], 0); }},
      {"cross_entropy",
       "(4, 5) (4) i64",
       {leaf({4, 5}), index_tensor({0, 4, 2, 4}, {4})},
       [](const Args& in) { return gnm::cross_entropy(in[0], in[1]); }},
      {"cross_entropy(smoothing 0.1, sum)",
       "(4, 5) (4) i64",
       {leaf({4, 5}), index_tensor({1, 3, 3, 0}, {4})},
       [](const Args& in) { return gnm::cross_entropy(in[0], in[1], gnm::Reduction::sum, 0.1); }},
      {"mse_loss",
       "(3, 5) (3, 5)",
       {leaf({3, 5}), leaf({3, 5})},
       [](const Args& in) { return gnm::mse_loss(in[0], in[1]); }},
      {"cat(dim 1)",
       "(3, 2) (3, 4)",
       {leaf({3, 2}), leaf({3, 4})},
       [](const Args& in) {
         return gnm::cat({in[0], in[1]}, 1);
       }},
      {"stack(dim 1)",
       "(3, 5) (3, 5)",
       {leaf({3, 5}), leaf({3, 5})},
       [](const Args& in) {
         return gnm::stack({in[0], in[1]}, 1);
       }},
      {"index_select(dim 0)",
       "(5, 3) (4) i64",
       {leaf({5, 3}), index_tensor({4, 0, 4, 2}, {4})},
       [](const Args& in) { return gnm::index_select(in[0], 0, in[1]); }},
      {"gather(dim 1)",
       "(3, 5) (3, 2) i64",
       {leaf({3, 5}), index_tensor({0, 4, 1, 1, 3, 2}, {3, 2})},
       [](const Args& in) { return gnm::gather(in[0], 1, in[1]); }},
      {"embedding",
       "(7, 3) (2, 4) i64",
       {leaf({7, 3}), index_tensor({6, 0, 2, 2, 5, 1, 6, 3}, {2, 4})},
       [](const Args& in) { return gnm::embedding(in[0], in[1]); }},
      {"views: permute, slice, expand, reshape",
       "(2, 3, 5)",
       {leaf({2, 3, 5})},
       [](const Args& in) {
         return in[0]
             .permute({2, 0, 1})
             .slice(0, 1, 5, 2)
             .select(2, 1)
             .unsqueeze(0)
             .expand({3, 2, 2})
             .reshape({6, 2});
       }},
  };
  return c;
}

std::vector<std::pair<std::string, std::function<Tensor(const Tensor&, const Tensor&)>>>
make_no_grad_cases() {
  return {{"eq", gnm::eq},
          {"ne", gnm::ne},
          {"lt", gnm::lt},
          {"le", gnm::le},
          {"gt", gnm::gt},
          {"ge", gnm::ge},
          {"argmax(dim 1)", [](const Tensor& a, const Tensor&) { return gnm::argmax(a, 1); }}};
}

}  // namespace chapter9
