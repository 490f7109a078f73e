// Section 3.4: the design the seed book studies (Rust's dfdx), in C++20 templates.
//
// Two ideas, both enforced by the compiler instead of at run time:
//
// 1. Shapes are types. Tensor<Shape<32, 784>> and Tensor<Shape<784, 100>> multiply into a
//    Tensor<Shape<32, 100>>; multiplying by a Tensor<Shape<10, 100>> is a compile error whose
//    message says which rule failed ("matmul: inner dimensions differ"). No shape is ever checked
//    at run time, and no run of the program can hit a mismatch.
// 2. The tape travels with the data. A tensor's second parameter is its tape: NoTape (an empty
//    struct, zero bytes, nothing recorded: inference) or OwnedTape (the backward closures
//    recorded so far; move-only). Every operation takes its operands by value, moves the tape
//    out of them into its result and appends its own backward closure, so the loss ends up
//    owning the whole tape. backward() consumes it. Calling backward() on a tensor that carries
//    no tape, or on a non-scalar, does not compile.
//
// Gradients are keyed by tensor id; backward() runs the closures in decreasing id order (ids
// grow with creation, so that is a reverse topological order, whatever order tapes were merged
// in — dfdx sorts by id for the same reason). The kernels and backward rules are the ones of
// gnm::ch03 (ops.hpp): only the bookkeeping differs from the dynamic tape of 3.2.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gnm/core/check.hpp"
#include "ops.hpp"

namespace chapter3::typed {

//! [shape]
/// A compile-time shape: Shape<> is a scalar, Shape<N> a vector, Shape<M, N> a matrix.
template <std::size_t... Dims>
struct Shape {
  static constexpr std::size_t rank = sizeof...(Dims);                 ///< Number of dimensions.
  static constexpr std::size_t numel = (std::size_t{1} * ... * Dims);  ///< Number of elements.
  static constexpr std::array<std::size_t, rank> dims{Dims...};        ///< The extents.
};
//! [shape]

/// "Shape<32, 784>": a shape type's name, for printing.
template <class S>
std::string shape_name() {
  std::string s = "Shape<";
  for (std::size_t i = 0; i < S::rank; ++i) s += (i ? ", " : "") + std::to_string(S::dims[i]);
  return s + ">";
}

/// The (rows, cols) a rank ≤ 2 shape has as a matrix: Shape<> is (1, 1), Shape<N> is (1, N).
template <class S>
constexpr gnm::ch03::Shape2 as_matrix() {
  static_assert(S::rank <= 2, "chapter 3's typed tensors have at most two dimensions");
  if constexpr (S::rank == 0) {
    return {1, 1};
  } else if constexpr (S::rank == 1) {
    return {1, static_cast<std::int64_t>(S::dims[0])};
  } else {
    return {static_cast<std::int64_t>(S::dims[0]), static_cast<std::int64_t>(S::dims[1])};
  }
}

class Gradients;

//! [tapes]
/// No tape: operations record nothing. An empty struct, stored with [[no_unique_address]], so a
/// tensor without a tape is exactly its data pointer and id.
struct NoTape {};

/// The recorded backward closures, each tagged with the id of the tensor it produced. Move-only:
/// a tape has one owner, and a tensor that carries one cannot be copied, only moved on.
class OwnedTape {
 public:
  /// One recorded operation: (id of its output, its backward closure).
  using Entry = std::pair<std::uint64_t, std::function<void(Gradients&)>>;
  OwnedTape() = default;
  OwnedTape(OwnedTape&&) noexcept = default;
  OwnedTape& operator=(OwnedTape&&) noexcept = default;
  OwnedTape(const OwnedTape&) = delete;
  OwnedTape& operator=(const OwnedTape&) = delete;

  /// Appends the backward closure of the operation that produced tensor `out_id`.
  void record(std::uint64_t out_id, std::function<void(Gradients&)> backward) {
    entries_.emplace_back(out_id, std::move(backward));
  }
  /// Appends another tape's entries (two traced operands meet in one operation).
  void merge(OwnedTape&& other) {
    for (auto& e : other.entries_) entries_.push_back(std::move(e));
    other.entries_.clear();
  }
  /// The entries, handed over to backward().
  std::vector<Entry> take() && { return std::move(entries_); }
  /// Number of recorded operations.
  std::size_t size() const { return entries_.size(); }

 private:
  std::vector<Entry> entries_;
};

/// The tape of an operation's result: OwnedTape if either operand carries one.
template <class A, class B>
using MergedTape = std::conditional_t<std::is_same_v<A, NoTape> && std::is_same_v<B, NoTape>,
                                      NoTape, OwnedTape>;

/// Moves the operands' tapes into one.
template <class A, class B>
MergedTape<A, B> merge_tapes(A&& a, B&& b) {
  if constexpr (std::is_same_v<MergedTape<A, B>, NoTape>) {
    return NoTape{};
  } else if constexpr (std::is_same_v<A, NoTape>) {
    return std::move(b);
  } else if constexpr (std::is_same_v<B, NoTape>) {
    return std::move(a);
  } else {
    a.merge(std::move(b));
    return std::move(a);
  }
}
//! [tapes]

/// A fresh id for every tensor value (ids grow with creation time).
inline std::uint64_t next_tensor_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

/// A tensor of compile-time shape S in double precision, carrying tape Tp.
template <class S, class Tp = NoTape>
class Tensor {
 public:
  using shape_type = S;  ///< The shape.
  using tape_type = Tp;  ///< NoTape or OwnedTape.

  /// All zeros.
  static Tensor zeros() {
    return Tensor(std::make_shared<const std::vector<double>>(S::numel, 0.0), next_tensor_id(), Tp{});
  }
  /// From row-major values; gnm::ShapeError when there are not exactly S::numel of them.
  static Tensor from(std::vector<double> values) {
    GNM_CHECK_SHAPE(values.size() == S::numel, "Tensor::from: wrong number of values",
                    shape_name<S>(), values.size());
    return Tensor(std::make_shared<const std::vector<double>>(std::move(values)), next_tensor_id(), Tp{});
  }
  /// Wraps existing storage (used by the operations).
  Tensor(std::shared_ptr<const std::vector<double>> data, std::uint64_t id, Tp tape)
      : data_(std::move(data)), id_(id), tape_(std::move(tape)) {}

  /// The same values and id with a new, empty tape: start recording here (dfdx's trace()).
  Tensor<S, OwnedTape> traced() const { return {data_, id_, OwnedTape{}}; }
  /// The values, row-major.
  const std::vector<double>& values() const { return *data_; }
  /// The shared storage.
  const std::shared_ptr<const std::vector<double>>& storage() const { return data_; }
  /// The id gradients are keyed by.
  std::uint64_t id() const { return id_; }
  /// Moves the tape out (the operations do this with their operands).
  Tp take_tape() && { return std::move(tape_); }

 private:
  std::shared_ptr<const std::vector<double>> data_;
  std::uint64_t id_ = 0;
  [[no_unique_address]] Tp tape_;
};

/// ∂loss/∂tensor for every tensor an operation on the tape touched, keyed by tensor id.
class Gradients {
 public:
  /// The gradient buffer of tensor `id` (numel elements), created as zeros on first use.
  std::vector<double>& get_or_zero(std::uint64_t id, std::size_t numel) {
    auto [it, inserted] = grads_.try_emplace(id);
    if (inserted) it->second.assign(numel, 0.0);
    return it->second;  // a reference into a node-based map: stays valid as it grows
  }
  /// The gradient of `t`, typed like t (zeros if nothing reached it).
  template <class S, class Tp>
  Tensor<S> grad(const Tensor<S, Tp>& t) const {
    const auto it = grads_.find(t.id());
    std::vector<double> v = it != grads_.end() ? it->second : std::vector<double>(S::numel, 0.0);
    return Tensor<S>::from(std::move(v));
  }

 private:
  std::unordered_map<std::uint64_t, std::vector<double>> grads_;
};

namespace detail {
template <class S>
gnm::ch03::ConstMat view(const std::vector<double>& v) {
  constexpr auto m = as_matrix<S>();
  return {v.data(), m.rows, m.cols};
}
template <class S>
gnm::ch03::Mat view(std::vector<double>& v) {
  constexpr auto m = as_matrix<S>();
  return {v.data(), m.rows, m.cols};
}

// Runs a primitive's forward kernel on typed operands and, when the result carries a tape,
// records the primitive's backward rule with the operands' storage and ids captured. Unary
// primitives pass SB = void and b = nullptr.
template <class Out, class SA, class TA, class SB = void, class TB = NoTape>
auto apply(gnm::ch03::Op op, Tensor<SA, TA>&& a, Tensor<SB, TB>* b = nullptr,
           std::vector<std::int32_t> labels = {}) {
  constexpr bool kBinary = !std::is_void_v<SB>;
  using Tp = MergedTape<TA, TB>;
  auto out = std::make_shared<std::vector<double>>(Out::numel);
  std::shared_ptr<std::vector<double>> aux;
  if (gnm::ch03::has_aux(op)) aux = std::make_shared<std::vector<double>>(SA::numel);
  std::shared_ptr<const std::vector<double>> b_data;
  std::uint64_t b_id = 0;
  gnm::ch03::ConstMat b_view;
  if constexpr (kBinary) {
    b_data = b->storage();
    b_id = b->id();
    b_view = view<SB>(*b_data);
  }
  gnm::ch03::forward_op(op, view<SA>(a.values()), b_view, {0.0, labels}, view<Out>(*out),
                        aux ? view<SA>(*aux) : gnm::ch03::Mat{});
  const std::uint64_t out_id = next_tensor_id();
  Tp tape = [&] {
    if constexpr (kBinary) {
      return merge_tapes(std::move(a).take_tape(), std::move(*b).take_tape());
    } else {
      return merge_tapes(std::move(a).take_tape(), NoTape{});
    }
  }();
  if constexpr (std::is_same_v<Tp, OwnedTape>) {
    tape.record(out_id, [op, out, aux, labels = std::move(labels), a_data = a.storage(), b_data,
                         a_id = a.id(), b_id, out_id](Gradients& g) {
      const auto& grad_out = g.get_or_zero(out_id, Out::numel);
      auto& grad_a = g.get_or_zero(a_id, SA::numel);
      gnm::ch03::Mat grad_b;
      gnm::ch03::ConstMat b_values;
      if constexpr (kBinary) {
        grad_b = view<SB>(g.get_or_zero(b_id, SB::numel));
        b_values = view<SB>(*b_data);
      }
      gnm::ch03::backward_op(op, view<SA>(*a_data), b_values, view<Out>(*out),
                             aux ? view<SA>(*aux) : gnm::ch03::ConstMat{}, {0.0, labels},
                             view<Out>(grad_out), view<SA>(grad_a), grad_b);
    });
  }
  return Tensor<Out, Tp>(std::move(out), out_id, std::move(tape));
}
}  // namespace detail

//! [typed_matmul]
/// (M, K) · (K, N) → (M, N). A mismatch of K, or an operand that is not a matrix, fails to
/// compile with the message below.
template <class SA, class TA, class SB, class TB>
auto matmul(Tensor<SA, TA> a, Tensor<SB, TB> b) {
  static_assert(SA::rank == 2 && SB::rank == 2,
                "matmul: both operands must be matrices, Tensor<Shape<M, K>> and Tensor<Shape<K, N>>");
  static_assert(SA::dims[1] == SB::dims[0],
                "matmul: inner dimensions differ: Tensor<Shape<M, K>> times Tensor<Shape<K, N>> "
                "needs the same K");
  using Out = Shape<SA::dims[0], SB::dims[1]>;
  return detail::apply<Out>(gnm::ch03::Op::matmul, std::move(a), &b);
}
//! [typed_matmul]

/// Elementwise sum of two tensors of the same shape.
template <class SA, class TA, class SB, class TB>
auto add(Tensor<SA, TA> a, Tensor<SB, TB> b) {
  static_assert(std::is_same_v<SA, SB>, "add: the operands' shapes differ");
  return detail::apply<SA>(gnm::ch03::Op::add, std::move(a), &b);
}

/// (B, N) + (N): the bias added to every row.
template <class SA, class TA, class SB, class TB>
auto add_bias(Tensor<SA, TA> a, Tensor<SB, TB> b) {
  static_assert(SA::rank == 2 && SB::rank == 1 && SB::dims[0] == SA::dims[SA::rank - 1],
                "add_bias: the bias must be Tensor<Shape<N>> for a Tensor<Shape<B, N>>");
  return detail::apply<SA>(gnm::ch03::Op::add_bias, std::move(a), &b);
}

/// tanh, elementwise.
template <class S, class Tp>
auto tanh(Tensor<S, Tp> a) {
  return detail::apply<S>(gnm::ch03::Op::tanh, std::move(a));
}

/// max(a, 0), elementwise.
template <class S, class Tp>
auto relu(Tensor<S, Tp> a) {
  return detail::apply<S>(gnm::ch03::Op::relu, std::move(a));
}

/// The mean of all elements: a scalar, Tensor<Shape<>>.
template <class S, class Tp>
auto mean(Tensor<S, Tp> a) {
  return detail::apply<Shape<>>(gnm::ch03::Op::mean, std::move(a));
}

/// Mean softmax cross-entropy of (B, C) logits against B labels: a scalar.
template <class S, class Tp>
auto softmax_cross_entropy(Tensor<S, Tp> logits, const std::array<std::int32_t, S::dims[0]>& labels) {
  static_assert(S::rank == 2, "softmax_cross_entropy: the logits must be Tensor<Shape<B, C>>");
  return detail::apply<Shape<>, S, Tp, void, NoTape>(
      gnm::ch03::Op::softmax_ce, std::move(logits), nullptr,
      std::vector<std::int32_t>(labels.begin(), labels.end()));
}

//! [typed_backward]
/// Consumes the loss and its tape; returns every gradient. Only a scalar that carries a tape can
/// be differentiated: anything else does not compile.
template <class S, class Tp>
Gradients backward(Tensor<S, Tp> loss) {
  static_assert(std::is_same_v<Tp, OwnedTape>,
                "backward(): this tensor carries no tape (NoTape), so nothing was recorded; start "
                "the forward pass from x.traced() and move the tensors through the operations");
  static_assert(S::rank == 0, "backward(): the loss must be a scalar Tensor<Shape<>>; reduce it "
                              "first (mean, softmax_cross_entropy)");
  Gradients grads;
  if constexpr (std::is_same_v<Tp, OwnedTape> && S::rank == 0) {
    auto entries = std::move(loss).take_tape().take();
    // Ids grow with creation: decreasing id is a reverse topological order.
    std::sort(entries.begin(), entries.end(),
              [](const auto& x, const auto& y) { return x.first > y.first; });
    grads.get_or_zero(loss.id(), 1)[0] = 1.0;
    for (auto& [id, run_backward] : entries) run_backward(grads);
  }
  return grads;
}
//! [typed_backward]

}  // namespace chapter3::typed
