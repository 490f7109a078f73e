// Sections 3.2 and 3.3: a define-by-run reverse-mode autodiff on small dense matrices.
//
// Tape is a Wengert list: every operation, as it runs, appends a node (its op, its operands'
// indices, its shape) to the tape, computes its value eagerly and saves the values that its
// backward rule will read. backward() walks the nodes the root depends on in reverse topological
// order and applies each node's rule (gnm::ch03::backward_op), accumulating gradients.
//
// Memory (section 3.3): nodes live in a gnm::Arena (one bump allocation each, all freed at once by
// reset()); values and gradients live in a gnm::PoolAllocator and are reference counted. A value
// stays alive while a Var handle refers to it or a node has saved it for its backward. Under
// SavePolicy::release_after_use, a backward pass drops each node's saved values as soon as that
// node's rule has run, and unreferenced intermediates die right after the forward statement that
// used them; SavePolicy::keep_everything keeps every value and gradient until reset(), the
// baseline the chapter measures against.
//
// A Var is a counted handle {tape, node index}. It must not outlive its Tape (the Tape aborts
// with a message if one does: a destructor cannot throw).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gnm/core/arena.hpp"
#include "mat.hpp"
#include "ops.hpp"

namespace chapter3 {

using gnm::ch03::ConstMat;
using gnm::ch03::Mat;
using gnm::ch03::Matrix;
using gnm::ch03::Op;
using gnm::ch03::Shape2;

class Tape;

/// When a tape frees the values and gradients it holds.
enum class SavePolicy {
  release_after_use,  ///< Free a value when no handle and no pending backward needs it.
  keep_everything,    ///< Keep every value and gradient until reset() (the naive baseline).
};

/// Bytes a tape holds, by kind, now and at the peak since construction or reset().
struct TapeMemory {
  std::size_t activation_bytes = 0;       ///< Values (and aux) of operation nodes, live now.
  std::size_t peak_activation_bytes = 0;  ///< Their peak.
  std::size_t grad_bytes = 0;             ///< Gradient buffers, live now.
  std::size_t peak_grad_bytes = 0;        ///< Their peak.
  std::size_t leaf_bytes = 0;             ///< Values of leaves (inputs, parameters), live now.
  std::size_t peak_total_bytes = 0;       ///< Peak of activations + gradients + leaves.
  std::size_t pool_system_allocations = 0;  ///< Pool requests that went to the system.
  std::size_t pool_reuses = 0;            ///< Pool requests served from a free list.
  std::size_t arena_bytes = 0;            ///< Arena bytes used by nodes, names and labels.
  std::size_t nodes = 0;                  ///< Nodes on the tape.
};

/// One node of a tape as the listing of section 3.2 prints it.
struct NodeInfo {
  std::int32_t id = 0;            ///< Index on the tape.
  std::string name;               ///< The node's name.
  Op op = Op::leaf;               ///< Its primitive.
  std::int32_t in0 = -1;          ///< First operand (-1: none).
  std::int32_t in1 = -1;          ///< Second operand (-1: none).
  Shape2 shape;                   ///< Output shape.
  bool requires_grad = false;     ///< A gradient will flow through it.
  gnm::ch03::Saved saved;         ///< What its backward reads (empty when !requires_grad).
};

/// A handle to one node of a Tape (copying it counts one more reference).
class Var {
 public:
  Var() = default;
  Var(const Var& other);
  Var(Var&& other) noexcept;
  Var& operator=(const Var& other);
  Var& operator=(Var&& other) noexcept;
  ~Var();

  /// The tape this handle belongs to (nullptr for a default-constructed Var).
  Tape* tape() const { return tape_; }
  /// The node's index on its tape.
  std::int32_t id() const { return id_; }
  /// The node's shape.
  Shape2 shape() const;

 private:
  friend class Tape;
  Var(Tape* tape, std::int32_t id) : tape_(tape), id_(id) {}  // adopts a counted handle
  Tape* tape_ = nullptr;
  std::int32_t id_ = -1;
};

/// The Wengert-list tape (see the file comment).
class Tape {
 public:
  explicit Tape(SavePolicy policy = SavePolicy::release_after_use);
  ~Tape();
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  /// A leaf holding a copy of `value`: a parameter (requires_grad) or an input (not).
  Var leaf(const Matrix& value, std::string_view name, bool requires_grad = true);
  /// A leaf that refers to `value` instead of copying it (a parameter that lives in a model):
  /// `value` must stay alive and unchanged until the tape is reset. Requires a gradient.
  Var parameter(const Matrix& value, std::string_view name);
  /// A leaf that does not require a gradient.
  Var constant(const Matrix& value, std::string_view name) { return leaf(value, name, false); }
  /// Records and runs op(a, b): b is ignored for unary ops; `labels` for softmax_ce only.
  Var apply(Op op, const Var& a, const Var* b, double scalar = 0.0,
            std::span<const std::int32_t> labels = {}, std::string_view name = {});

  /// Reverse-mode sweep from `root`: accumulates ∂root/∂leaf into every leaf that requires a
  /// gradient. A (1, 1) root needs no seed; any other root needs `seed` of its shape
  /// (gnm::ShapeError naming the shape otherwise). Without keep_graph the saved values are
  /// released and a second backward through the same nodes is a gnm::Error naming the node.
  void backward(const Var& root, const Matrix* seed = nullptr, bool keep_graph = false);

  /// A copy of the node's value.
  Matrix value(const Var& v) const;
  /// A copy of the node's gradient (gnm::Error naming the node when it has none).
  Matrix grad(const Var& v) const;
  /// True when the node holds a gradient.
  bool has_grad(const Var& v) const;
  /// Zeroes the gradients of all leaves (they accumulate across backward calls, as PyTorch's).
  void zero_grad();
  /// Forgets every node and frees every buffer, keeping the arena blocks and the pool's cached
  /// buffers for the next step. gnm::Error when Var handles are still alive.
  void reset();

  /// The subgraph that `root` depends on as Graphviz DOT (deterministic): leaves as ellipses
  /// (parameters shaded), operations as boxes, values saved for the backward double-bordered.
  std::string to_dot(const Var& root, std::string_view graph_name) const;

  /// Every node, in recording order (the Wengert list itself).
  std::vector<NodeInfo> listing() const;
  /// Bytes held now and at the peak (see TapeMemory).
  TapeMemory memory() const;
  /// Number of nodes.
  std::size_t size() const { return nodes_.size(); }
  /// The policy given at construction.
  SavePolicy policy() const { return policy_; }
  /// The node's shape.
  Shape2 shape(const Var& v) const;
  /// The node's name.
  std::string_view name(const Var& v) const;

 private:
  friend class Var;
  struct Buffer;
  struct Node;

  Node& node(const Var& v) const;
  Var add_leaf(const Matrix& value, std::string_view name, bool requires_grad, bool copy);
  Buffer* new_buffer(Shape2 shape, int kind);
  void ref(Buffer* b);
  void unref(Buffer* b);
  void free_buffer(Buffer* b);
  void ensure_grad(Node& n);
  void add_handle(std::int32_t id);
  void drop_handle(std::int32_t id) noexcept;
  void account(int kind, std::ptrdiff_t bytes);
  std::string_view intern(std::string_view s);

  SavePolicy policy_;
  gnm::Arena arena_;
  gnm::PoolAllocator pool_;
  std::vector<Node*> nodes_;
  std::size_t live_handles_ = 0;
  std::size_t bytes_[3] = {0, 0, 0};  // by kind: activation, grad, leaf
  std::size_t peak_[3] = {0, 0, 0};
  std::size_t peak_total_ = 0;
};

/// a + b (same shapes).
Var add(const Var& a, const Var& b, std::string_view name = {});
/// a − b (same shapes).
Var sub(const Var& a, const Var& b, std::string_view name = {});
/// a ⊙ b (same shapes).
Var mul(const Var& a, const Var& b, std::string_view name = {});
/// a ⊘ b (same shapes).
Var div(const Var& a, const Var& b, std::string_view name = {});
/// exp(a).
Var exp(const Var& a, std::string_view name = {});
/// log(a).
Var log(const Var& a, std::string_view name = {});
/// tanh(a).
Var tanh(const Var& a, std::string_view name = {});
/// max(a, 0).
Var relu(const Var& a, std::string_view name = {});
/// a (M, K) · b (K, N); gnm::ShapeError naming both shapes when K differs.
Var matmul(const Var& a, const Var& b, std::string_view name = {});
/// Σ a → (1, 1).
Var sum(const Var& a, std::string_view name = {});
/// Σ a / numel → (1, 1).
Var mean(const Var& a, std::string_view name = {});
/// s · a.
Var scale(const Var& a, double s, std::string_view name = {});
/// a (M, N) + b (1, N) on every row.
Var add_bias(const Var& a, const Var& b, std::string_view name = {});
/// Mean softmax cross-entropy of logits (B, C) against one label per row → (1, 1).
Var softmax_cross_entropy(const Var& logits, std::span<const std::int32_t> labels,
                          std::string_view name = {});

/// add(a, b).
inline Var operator+(const Var& a, const Var& b) { return add(a, b); }
/// sub(a, b).
inline Var operator-(const Var& a, const Var& b) { return sub(a, b); }
/// mul(a, b): elementwise, as in NumPy and PyTorch.
inline Var operator*(const Var& a, const Var& b) { return mul(a, b); }
/// div(a, b).
inline Var operator/(const Var& a, const Var& b) { return div(a, b); }

}  // namespace chapter3
