// Section 3.4's compile-time checks (tests/ch03/CMakeLists.txt, ch03/compile/*). Compiled once per
// case: with no GNM_CASE_* defined this is a well-typed program and must compile; with one
// defined, exactly that line is wrong and the compiler must reject it with the static_assert
// message of the broken rule.
#include <array>
#include <cstdint>
#include <utility>

#include "typed_tensor.hpp"

using chapter3::typed::Shape;
using chapter3::typed::Tensor;

int main() {
  const auto x = Tensor<Shape<32, 784>>::zeros();
  const auto w1 = Tensor<Shape<784, 100>>::zeros();
  const auto b1 = Tensor<Shape<100>>::zeros();
  const auto w2 = Tensor<Shape<100, 10>>::zeros();
  const std::array<std::int32_t, 32> labels{};

//! [shape_mismatch]
#if defined(GNM_CASE_SHAPE_MISMATCH)
  auto h = matmul(x.traced(), w2);  // (32, 784) · (100, 10): K = 784 vs 100
#elif defined(GNM_CASE_BIAS_MISMATCH)
  auto h = add_bias(matmul(x.traced(), w1), Tensor<Shape<10>>::zeros());  // bias of 10 for 100 columns
#else
  auto h = add_bias(matmul(x.traced(), w1), b1);
#endif
//! [shape_mismatch]
  auto logits = matmul(tanh(std::move(h)), w2);  // Tensor<Shape<32, 10>, OwnedTape>

#if defined(GNM_CASE_NO_TAPE)
  auto grads = backward(mean(matmul(x, w1)));  // x was never traced: NoTape all the way
#elif defined(GNM_CASE_NON_SCALAR)
  auto grads = backward(std::move(logits));  // (32, 10) is not a loss
#elif defined(GNM_CASE_COPY_TAPE)
  auto copy = logits;  // a taped tensor has one owner: it can be moved, not copied
  auto grads = backward(softmax_cross_entropy(std::move(logits), labels));
#else
  auto grads = backward(softmax_cross_entropy(std::move(logits), labels));
#endif
  return static_cast<int>(grads.grad(w1).values().size() == 784 * 100 ? 0 : 1);
}
