// Section 3.4: an MLP written with compile-time shapes and a tape that moves through the
// operations (typed_tensor.hpp), checked against the same network on the dynamic tape.
#include <array>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "gnm/core/json.hpp"
#include "random_values.hpp"
#include "sections.hpp"
#include "typed_tensor.hpp"

namespace chapter3 {
namespace {

using typed::Shape;
using typed::Tensor;

constexpr std::size_t kB = 32, kIn = 784, kHid = 64, kOut = 10;

}  // namespace

TypedCheck check_typed_against_tape() {
  TypedCheck r;
  //! [typed_mlp]
  const auto x = Tensor<Shape<kB, kIn>>::from(symmetric_uniform(kB * kIn, 800, 1.0));
  const auto w1 = Tensor<Shape<kIn, kHid>>::from(symmetric_uniform(kIn * kHid, 801, std::sqrt(3.0 / kIn)));
  const auto b1 = Tensor<Shape<kHid>>::from(symmetric_uniform(kHid, 802, 0.1));
  const auto w2 = Tensor<Shape<kHid, kOut>>::from(symmetric_uniform(kHid * kOut, 803, std::sqrt(3.0 / kHid)));
  const auto b2 = Tensor<Shape<kOut>>::from(symmetric_uniform(kOut, 804, 0.1));
  std::array<std::int32_t, kB> labels{};
  for (std::size_t i = 0; i < kB; ++i) labels[i] = static_cast<std::int32_t>((i * 7) % kOut);

  // The tape starts at x.traced() and is moved from op to op; every result's type says what it
  // is: h is a Tensor<Shape<32, 64>, OwnedTape>, loss a Tensor<Shape<>, OwnedTape>.
  auto h = typed::tanh(typed::add_bias(typed::matmul(x.traced(), w1), b1));
  auto logits = typed::add_bias(typed::matmul(std::move(h), w2), b2);
  auto loss = typed::softmax_cross_entropy(std::move(logits), labels);
  static_assert(std::is_same_v<decltype(loss), Tensor<Shape<>, typed::OwnedTape>>);
  r.loss_typed = loss.values()[0];
  const typed::Gradients grads = typed::backward(std::move(loss));  // consumes loss and tape
  //! [typed_mlp]

  //! [typed_inference]
  // The same expression without traced(): NoTape all the way, nothing recorded, no backward
  // possible (calling typed::backward on it does not compile).
  const auto inference = typed::softmax_cross_entropy(
      typed::add_bias(typed::matmul(typed::tanh(typed::add_bias(typed::matmul(x, w1), b1)), w2), b2),
      labels);
  static_assert(std::is_same_v<decltype(inference)::tape_type, typed::NoTape>);
  //! [typed_inference]
  r.loss_no_tape = inference.values()[0];
  r.bytes_no_tape = sizeof(Tensor<Shape<kB, kIn>, typed::NoTape>);
  r.bytes_owned = sizeof(Tensor<Shape<kB, kIn>, typed::OwnedTape>);
  {
    auto again = typed::mean(typed::matmul(x.traced(), w1));
    r.recorded_ops = std::move(again).take_tape().size();  // matmul and mean: 2 closures
  }

  // The dynamic tape on the same values.
  Tape tape;
  auto m = [](const auto& t, std::int64_t rows, std::int64_t cols) {
    return Matrix(rows, cols, t.values());
  };
  const Var xv = tape.constant(m(x, kB, kIn), "x");
  const Var w1v = tape.leaf(m(w1, kIn, kHid), "W1"), b1v = tape.leaf(m(b1, 1, kHid), "b1");
  const Var w2v = tape.leaf(m(w2, kHid, kOut), "W2"), b2v = tape.leaf(m(b2, 1, kOut), "b2");
  const Var loss_v = softmax_cross_entropy(
      add_bias(matmul(tanh(add_bias(matmul(xv, w1v), b1v)), w2v), b2v),
      std::vector<std::int32_t>(labels.begin(), labels.end()));
  tape.backward(loss_v);
  r.loss_tape = tape.value(loss_v)(0, 0);
  auto diff = [&](const std::vector<double>& typed_grad, const Var& v) {
    const Matrix g = tape.grad(v);
    for (std::size_t i = 0; i < typed_grad.size(); ++i) {
      r.max_grad_diff = std::max(r.max_grad_diff, std::fabs(typed_grad[i] - g.values()[i]));
    }
  };
  diff(grads.grad(w1).values(), w1v);
  diff(grads.grad(b1).values(), b1v);
  diff(grads.grad(w2).values(), w2v);
  diff(grads.grad(b2).values(), b2v);
  return r;
}

Section run_typed_section() {
  Section sec;
  const TypedCheck r = check_typed_against_tape();
  std::printf("== 3.4 Typed tensors: compile-time shapes, the tape moved through the ops ==\n");
  std::printf("  x: %s -> h: %s -> logits: %s -> loss: %s\n",
              typed::shape_name<Shape<kB, kIn>>().c_str(), typed::shape_name<Shape<kB, kHid>>().c_str(),
              typed::shape_name<Shape<kB, kOut>>().c_str(), typed::shape_name<Shape<>>().c_str());
  std::printf("  loss: typed %.15f, dynamic tape %.15f, NoTape forward %.15f\n", r.loss_typed,
              r.loss_tape, r.loss_no_tape);
  std::printf("  max |typed - tape| over all parameter gradients: %.1e\n", r.max_grad_diff);
  std::printf("  sizeof(Tensor<..., NoTape>) = %zu bytes, sizeof(Tensor<..., OwnedTape>) = %zu bytes\n",
              r.bytes_no_tape, r.bytes_owned);
  std::printf("  shape errors are compile errors: see ctest -R ch03/compile\n");
  // Same kernels and rules in the same order: agreement to rounding (in practice exact).
  sec.verified = std::fabs(r.loss_typed - r.loss_tape) <= 1e-12 &&
                 r.loss_no_tape == r.loss_typed && r.max_grad_diff <= 1e-12 && r.recorded_ops == 2;
  std::printf("  3.4: %s\n\n", sec.verified ? "ok" : "FAILED");
  std::ostringstream j;
  j << "\"3.4 typed tensors vs the dynamic tape\": {\"rows\": [{\"loss typed\": " << gnm::json_number(r.loss_typed)
    << ", \"loss tape\": " << gnm::json_number(r.loss_tape)
    << ", \"max grad difference\": " << gnm::json_number(r.max_grad_diff)
    << ", \"sizeof NoTape tensor\": " << r.bytes_no_tape
    << ", \"sizeof OwnedTape tensor\": " << r.bytes_owned << "}]}";
  sec.json = j.str();
  return sec;
}

}  // namespace chapter3
