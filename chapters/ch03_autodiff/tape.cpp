// The Wengert-list tape of sections 3.2 and 3.3 (see tape.hpp).
#include "tape.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <utility>

#include "gnm/core/check.hpp"
#include "topo_sort.hpp"

namespace chapter3 {

namespace {
enum Kind : int { kActivation = 0, kGrad = 1, kLeaf = 2 };
}  // namespace

// A reference-counted value or gradient in the pool. The struct itself lives in the arena.
struct Tape::Buffer {
  double* data = nullptr;  // nullptr once freed
  Shape2 shape;
  std::int32_t refs = 0;
  int kind = kActivation;
  bool external = false;   // points into the caller's memory (Tape::parameter): never freed here
  std::size_t bytes() const { return static_cast<std::size_t>(shape.numel()) * sizeof(double); }
};

//! [node]
// One entry of the Wengert list. Trivially destructible: the arena frees nodes wholesale.
struct Tape::Node {
  Op op = Op::leaf;
  std::int32_t in[2] = {-1, -1};     // operand node indices (-1: none)
  Shape2 shape;
  double scalar = 0.0;               // Op::scale's factor
  std::span<const std::int32_t> labels;  // Op::softmax_ce's labels (copied into the arena)
  std::string_view name;             // in the arena
  Buffer* value = nullptr;           // the output; released when nothing refers to it
  Buffer* aux = nullptr;             // softmax_ce's probabilities
  Buffer* grad = nullptr;            // ∂root/∂value, allocated at the first contribution
  Buffer* saved[4] = {};             // what the backward rule reads: in0, in1, out, aux
  std::int32_t handles = 0;          // live Var handles
  bool requires_grad = false;        // a parameter, or computed from one
  bool consumed = false;             // a backward without keep_graph has run through it
};
//! [node]

// --- Var --------------------------------------------------------------------------------------

Var::Var(const Var& other) : tape_(other.tape_), id_(other.id_) {
  if (tape_) tape_->add_handle(id_);
}
Var::Var(Var&& other) noexcept
    : tape_(std::exchange(other.tape_, nullptr)), id_(std::exchange(other.id_, -1)) {}
Var& Var::operator=(const Var& other) {
  if (this != &other) {
    if (other.tape_) other.tape_->add_handle(other.id_);
    if (tape_) tape_->drop_handle(id_);
    tape_ = other.tape_;
    id_ = other.id_;
  }
  return *this;
}
Var& Var::operator=(Var&& other) noexcept {
  if (this != &other) {
    if (tape_) tape_->drop_handle(id_);
    tape_ = std::exchange(other.tape_, nullptr);
    id_ = std::exchange(other.id_, -1);
  }
  return *this;
}
Var::~Var() {
  if (tape_) tape_->drop_handle(id_);
}
Shape2 Var::shape() const {
  GNM_CHECK(tape_ != nullptr, "Var::shape: an empty Var");
  return tape_->shape(*this);
}

// --- Tape: bookkeeping ------------------------------------------------------------------------

Tape::Tape(SavePolicy policy) : policy_(policy) {}

Tape::~Tape() {
  if (live_handles_ != 0) {
    std::fprintf(stderr, "chapter3::Tape destroyed while %zu Var handle(s) still refer to it\n",
                 live_handles_);
    std::abort();
  }
  // The pool gives every buffer back to the system when it is destroyed; the arena the nodes.
}

Tape::Node& Tape::node(const Var& v) const {
  GNM_CHECK(v.tape() == this, "a Var from another tape (or an empty Var) was used on this tape",
            v.id());
  return *nodes_[static_cast<std::size_t>(v.id())];
}

void Tape::account(int kind, std::ptrdiff_t bytes) {
  auto& b = bytes_[kind];
  b = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(b) + bytes);
  peak_[kind] = std::max(peak_[kind], b);
  peak_total_ = std::max(peak_total_, bytes_[0] + bytes_[1] + bytes_[2]);
}

Tape::Buffer* Tape::new_buffer(Shape2 shape, int kind) {
  Buffer* b = arena_.create<Buffer>();
  b->shape = shape;
  b->kind = kind;
  b->data = static_cast<double*>(pool_.allocate(b->bytes()));
  account(kind, static_cast<std::ptrdiff_t>(b->bytes()));
  return b;
}

void Tape::free_buffer(Buffer* b) {
  if (!b || !b->data) return;
  if (b->external) {
    b->data = nullptr;
    return;
  }
  pool_.deallocate(b->data, b->bytes());
  b->data = nullptr;
  account(b->kind, -static_cast<std::ptrdiff_t>(b->bytes()));
}

void Tape::ref(Buffer* b) { ++b->refs; }

// Under keep_everything nothing is freed before reset(): that is the whole baseline.
void Tape::unref(Buffer* b) {
  if (--b->refs == 0 && policy_ == SavePolicy::release_after_use) free_buffer(b);
}

void Tape::add_handle(std::int32_t id) {
  ++nodes_[static_cast<std::size_t>(id)]->handles;
  ++live_handles_;
}

void Tape::drop_handle(std::int32_t id) noexcept {
  Node& n = *nodes_[static_cast<std::size_t>(id)];
  --live_handles_;
  if (--n.handles == 0) unref(n.value);  // the handles' shared reference to the value
}

std::string_view Tape::intern(std::string_view s) {
  auto chars = arena_.allocate_array<char>(s.size());
  std::memcpy(chars.data(), s.data(), s.size());
  return {chars.data(), s.size()};
}

// --- Tape: recording --------------------------------------------------------------------------

Var Tape::leaf(const Matrix& value, std::string_view name, bool requires_grad) {
  return add_leaf(value, name, requires_grad, true);
}

Var Tape::parameter(const Matrix& value, std::string_view name) {
  return add_leaf(value, name, true, false);
}

Var Tape::add_leaf(const Matrix& value, std::string_view name, bool requires_grad, bool copy) {
  const auto id = static_cast<std::int32_t>(nodes_.size());
  Node* n = arena_.create<Node>();
  n->op = Op::leaf;
  n->shape = value.shape();
  n->name = intern(name.empty() ? "leaf" + std::to_string(id) : std::string(name));
  n->requires_grad = requires_grad;
  if (copy) {
    n->value = new_buffer(n->shape, kLeaf);
    std::copy(value.values().begin(), value.values().end(), n->value->data);
  } else {  // read-only use: the rules never write to a value
    n->value = arena_.create<Buffer>();
    n->value->data = const_cast<double*>(value.values().data());
    n->value->shape = n->shape;
    n->value->kind = kLeaf;
    n->value->external = true;
  }
  n->value->refs = 1;  // held by the handles
  n->handles = 1;
  ++live_handles_;
  nodes_.push_back(n);
  return Var(this, id);
}

//! [apply]
Var Tape::apply(Op op, const Var& a, const Var* b, double scalar,
                std::span<const std::int32_t> labels, std::string_view name) {
  const int arity = gnm::ch03::op_arity(op);
  GNM_CHECK(arity >= 1, "Tape::apply: not an operation", gnm::ch03::op_name(op));
  GNM_CHECK(arity == 1 || b != nullptr, "Tape::apply: a binary op needs two operands",
            gnm::ch03::op_name(op));
  Node& na = node(a);
  Node* nb = arity == 2 ? &node(*b) : nullptr;
  const Shape2 shape = gnm::ch03::infer_shape(op, na.shape, nb ? nb->shape : Shape2{});

  const auto id = static_cast<std::int32_t>(nodes_.size());
  Node* n = arena_.create<Node>();
  n->op = op;
  n->in[0] = a.id();
  n->in[1] = nb ? b->id() : -1;
  n->shape = shape;
  n->scalar = scalar;
  if (!labels.empty()) {
    auto copy = arena_.allocate_array<std::int32_t>(labels.size());
    std::copy(labels.begin(), labels.end(), copy.begin());
    n->labels = copy;
  }
  n->name = intern(name.empty() ? gnm::ch03::op_name(op) + std::to_string(id) : std::string(name));
  n->value = new_buffer(shape, kActivation);
  if (gnm::ch03::has_aux(op)) n->aux = new_buffer(na.shape, kActivation);

  // Run the forward now (define-by-run): the operands' values are alive, their handles are ours.
  auto view = [](const Buffer* buf) { return ConstMat{buf->data, buf->shape.rows, buf->shape.cols}; };
  try {
    gnm::ch03::forward_op(op, view(na.value), nb ? view(nb->value) : ConstMat{},
                          {scalar, n->labels}, Mat{n->value->data, shape.rows, shape.cols},
                          n->aux ? Mat{n->aux->data, na.shape.rows, na.shape.cols} : Mat{});
  } catch (...) {  // bad labels: the node never joins the tape, its buffers go back to the pool
    free_buffer(n->value);
    free_buffer(n->aux);
    throw;
  }

  // Save exactly what the backward rule reads, and only if a gradient will ever flow here.
  n->requires_grad = na.requires_grad || (nb && nb->requires_grad);
  if (n->requires_grad) {
    const gnm::ch03::Saved s = gnm::ch03::saved_by(op);
    Buffer* wanted[4] = {s.in0 ? na.value : nullptr, s.in1 && nb ? nb->value : nullptr,
                         s.out ? n->value : nullptr, s.aux ? n->aux : nullptr};
    for (int k = 0; k < 4; ++k) {
      if (wanted[k]) {
        ref(wanted[k]);
        n->saved[k] = wanted[k];
      }
    }
  }
  nodes_.push_back(n);
  n->value->refs += 1;  // the handles' reference
  n->handles = 1;
  ++live_handles_;
  // An aux output that no backward will read (no gradient flows here) is dropped right away.
  if (n->aux && n->aux->refs == 0 && policy_ == SavePolicy::release_after_use) free_buffer(n->aux);
  return Var(this, id);
}
//! [apply]

// --- Tape: backward ---------------------------------------------------------------------------

void Tape::ensure_grad(Node& n) {
  if (n.grad && n.grad->data) return;
  n.grad = new_buffer(n.shape, kGrad);
  std::fill(n.grad->data, n.grad->data + n.shape.numel(), 0.0);
}

//! [backward]
void Tape::backward(const Var& root, const Matrix* seed, bool keep_graph) {
  Node& r = node(root);
  GNM_CHECK(r.requires_grad, "backward: nothing upstream of the root requires a gradient",
            r.name);
  if (seed == nullptr) {
    GNM_CHECK_SHAPE(r.shape == (Shape2{1, 1}),
                    "backward: a root that is not (1, 1) needs a seed gradient of its shape",
                    r.name, gnm::ch03::shape_string(r.shape));
  } else {
    GNM_CHECK_SHAPE(seed->shape() == r.shape, "backward: the seed's shape differs from the root's",
                    gnm::ch03::shape_string(seed->shape()), gnm::ch03::shape_string(r.shape));
  }

  // The graph of gradient flow: a node that requires no gradient is a leaf of it.
  const auto count = static_cast<std::size_t>(root.id()) + 1;
  std::vector<std::vector<std::int32_t>> inputs(count);
  std::vector<std::string_view> names(count);
  for (std::size_t i = 0; i < count; ++i) {
    const Node& n = *nodes_[i];
    names[i] = n.name;
    if (!n.requires_grad) continue;
    for (std::int32_t in : n.in) {
      if (in >= 0) inputs[i].push_back(in);
    }
  }
  const std::vector<std::int32_t> order = gnm::ch03::topological_order(inputs, root.id(), names);

  // Check before touching anything, so that a refused backward leaves every gradient as it was.
  for (std::int32_t id : order) {
    const Node& n = *nodes_[static_cast<std::size_t>(id)];
    GNM_CHECK(!n.consumed,
              "backward through a node a second time: its saved values were freed by the first "
              "backward; pass keep_graph = true to the first call to keep them",
              n.name, gnm::ch03::op_name(n.op));
  }
  for (std::int32_t id : order) {  // intermediate gradients start from zero on every pass
    Node& n = *nodes_[static_cast<std::size_t>(id)];
    if (n.op != Op::leaf && n.grad && n.grad->data) {
      std::fill(n.grad->data, n.grad->data + n.shape.numel(), 0.0);
    }
  }
  ensure_grad(r);
  for (std::int64_t i = 0; i < r.shape.numel(); ++i) {
    r.grad->data[i] += seed ? seed->values()[static_cast<std::size_t>(i)] : 1.0;
  }

  auto cview = [](const Buffer* b, Shape2 s) {
    return ConstMat{b ? b->data : nullptr, s.rows, s.cols};
  };
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node& n = *nodes_[static_cast<std::size_t>(*it)];
    if (n.op == Op::leaf || !n.requires_grad) continue;
    Mat g[2];  // gradients of the operands: null views for those that need none
    const Shape2 in_shape[2] = {
        nodes_[static_cast<std::size_t>(n.in[0])]->shape,
        n.in[1] >= 0 ? nodes_[static_cast<std::size_t>(n.in[1])]->shape : Shape2{}};
    for (int k = 0; k < 2; ++k) {
      if (n.in[k] < 0) continue;
      Node& in = *nodes_[static_cast<std::size_t>(n.in[k])];
      g[k] = {nullptr, in.shape.rows, in.shape.cols};
      if (in.requires_grad) {
        ensure_grad(in);
        g[k].data = in.grad->data;
      }
    }
    gnm::ch03::backward_op(n.op, cview(n.saved[0], in_shape[0]), cview(n.saved[1], in_shape[1]),
                           cview(n.saved[2], n.shape), cview(n.saved[3], in_shape[0]),
                           {n.scalar, n.labels}, cview(n.grad, n.shape), g[0], g[1]);
    // The rule has run: what it saved is no longer needed, nor is this node's gradient.
    if (!keep_graph) {
      for (Buffer*& s : n.saved) {
        if (s) unref(std::exchange(s, nullptr));
      }
      n.consumed = true;
    }
    if (policy_ == SavePolicy::release_after_use) free_buffer(n.grad);
  }
}
//! [backward]

// --- Tape: queries ----------------------------------------------------------------------------

Matrix Tape::value(const Var& v) const {
  const Node& n = node(v);
  GNM_CHECK(n.value->data != nullptr || n.shape.numel() == 0, "value: the node's value was freed",
            n.name);
  return Matrix(n.shape.rows, n.shape.cols,
                std::vector<double>(n.value->data, n.value->data + n.shape.numel()));
}

bool Tape::has_grad(const Var& v) const {
  const Node& n = node(v);
  return n.grad && n.grad->data;
}

Matrix Tape::grad(const Var& v) const {
  const Node& n = node(v);
  GNM_CHECK(n.grad && n.grad->data,
            "grad: the node holds no gradient (not a leaf reached by backward, or freed)", n.name);
  return Matrix(n.shape.rows, n.shape.cols,
                std::vector<double>(n.grad->data, n.grad->data + n.shape.numel()));
}

void Tape::zero_grad() {
  for (Node* n : nodes_) {
    if (n->op == Op::leaf && n->grad && n->grad->data) {
      std::fill(n->grad->data, n->grad->data + n->shape.numel(), 0.0);
    }
  }
}

void Tape::reset() {
  GNM_CHECK(live_handles_ == 0, "Tape::reset: Var handles still refer to this tape",
            live_handles_);
  for (Node* n : nodes_) {
    for (Buffer* b : {n->value, n->aux, n->grad}) free_buffer(b);
  }
  nodes_.clear();
  arena_.reset();
  for (int k = 0; k < 3; ++k) peak_[k] = bytes_[k];
  peak_total_ = bytes_[0] + bytes_[1] + bytes_[2];
}

Shape2 Tape::shape(const Var& v) const { return node(v).shape; }
std::string_view Tape::name(const Var& v) const { return node(v).name; }

std::vector<NodeInfo> Tape::listing() const {
  std::vector<NodeInfo> out;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = *nodes_[i];
    out.push_back({static_cast<std::int32_t>(i), std::string(n.name), n.op, n.in[0], n.in[1],
                   n.shape, n.requires_grad,
                   n.requires_grad ? gnm::ch03::saved_by(n.op) : gnm::ch03::Saved{}});
  }
  return out;
}

TapeMemory Tape::memory() const {
  TapeMemory m;
  m.activation_bytes = bytes_[kActivation];
  m.peak_activation_bytes = peak_[kActivation];
  m.grad_bytes = bytes_[kGrad];
  m.peak_grad_bytes = peak_[kGrad];
  m.leaf_bytes = bytes_[kLeaf];
  m.peak_total_bytes = peak_total_;
  m.pool_system_allocations = pool_.stats().system_allocations;
  m.pool_reuses = pool_.stats().reuses;
  m.arena_bytes = arena_.bytes_used();
  m.nodes = nodes_.size();
  return m;
}

// --- DOT --------------------------------------------------------------------------------------

//! [to_dot]
std::string Tape::to_dot(const Var& root, std::string_view graph_name) const {
  node(root);  // checks that root is ours
  const auto count = static_cast<std::size_t>(root.id()) + 1;
  std::vector<std::vector<std::int32_t>> inputs(count);
  std::vector<std::string_view> names(count);
  std::vector<bool> saved(count, false);  // is the value read by some backward rule?
  for (std::size_t i = 0; i < count; ++i) {
    const Node& n = *nodes_[i];
    names[i] = n.name;
    const gnm::ch03::Saved s = gnm::ch03::saved_by(n.op);
    for (int k = 0; k < 2; ++k) {
      if (n.in[k] < 0) continue;
      inputs[i].push_back(n.in[k]);
      if (n.requires_grad && (k == 0 ? s.in0 : s.in1)) saved[static_cast<std::size_t>(n.in[k])] = true;
    }
    if (n.requires_grad && s.out) saved[i] = true;
  }
  const auto order = gnm::ch03::topological_order(inputs, root.id(), names);
  std::ostringstream dot;
  dot << "digraph \"" << graph_name << "\" {\n"
      << "  // Written by Tape::to_dot (ch03_autodiff --section 3.2 --dot FILE).\n"
      << "  // Ellipses: leaves (blue: parameters); boxes: operations;\n"
      << "  // double border: a value the backward pass reads (saved by the tape).\n"
      << "  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  for (std::int32_t id : order) {
    const Node& n = *nodes_[static_cast<std::size_t>(id)];
    dot << "  n" << id << " [label=\"" << n.name << "\\n";
    if (n.op != Op::leaf) dot << gnm::ch03::op_name(n.op) << " ";
    dot << gnm::ch03::shape_string(n.shape);
    if (n.requires_grad && gnm::ch03::saved_by(n.op).aux) dot << "\\nkeeps softmax for backward";
    dot << "\"";
    if (n.op == Op::leaf) {
      dot << ", shape=ellipse, style=filled, fillcolor=\""
          << (n.requires_grad ? "#cfe3ff" : "#eeeeee") << "\"";
    } else {
      dot << ", shape=box";
    }
    if (saved[static_cast<std::size_t>(id)]) dot << ", peripheries=2";
    dot << "];\n";
  }
  for (std::int32_t id : order) {
    for (std::int32_t in : inputs[static_cast<std::size_t>(id)]) {
      dot << "  n" << in << " -> n" << id << ";\n";
    }
  }
  dot << "}\n";
  return dot.str();
}
//! [to_dot]

// --- Operations -------------------------------------------------------------------------------

namespace {
Var unary(Op op, const Var& a, std::string_view name, double scalar = 0.0) {
  GNM_CHECK(a.tape() != nullptr, "an operation on an empty Var", gnm::ch03::op_name(op));
  return a.tape()->apply(op, a, nullptr, scalar, {}, name);
}
Var binary(Op op, const Var& a, const Var& b, std::string_view name) {
  GNM_CHECK(a.tape() != nullptr && a.tape() == b.tape(),
            "both operands must be Vars of the same tape", gnm::ch03::op_name(op));
  return a.tape()->apply(op, a, &b, 0.0, {}, name);
}
}  // namespace

Var add(const Var& a, const Var& b, std::string_view name) { return binary(Op::add, a, b, name); }
Var sub(const Var& a, const Var& b, std::string_view name) { return binary(Op::sub, a, b, name); }
Var mul(const Var& a, const Var& b, std::string_view name) { return binary(Op::mul, a, b, name); }
Var div(const Var& a, const Var& b, std::string_view name) { return binary(Op::div, a, b, name); }
Var matmul(const Var& a, const Var& b, std::string_view name) {
  return binary(Op::matmul, a, b, name);
}
Var add_bias(const Var& a, const Var& b, std::string_view name) {
  return binary(Op::add_bias, a, b, name);
}
Var exp(const Var& a, std::string_view name) { return unary(Op::exp, a, name); }
Var log(const Var& a, std::string_view name) { return unary(Op::log, a, name); }
Var tanh(const Var& a, std::string_view name) { return unary(Op::tanh, a, name); }
Var relu(const Var& a, std::string_view name) { return unary(Op::relu, a, name); }
Var sum(const Var& a, std::string_view name) { return unary(Op::sum, a, name); }
Var mean(const Var& a, std::string_view name) { return unary(Op::mean, a, name); }
Var scale(const Var& a, double s, std::string_view name) { return unary(Op::scale, a, name, s); }
Var softmax_cross_entropy(const Var& logits, std::span<const std::int32_t> labels,
                          std::string_view name) {
  GNM_CHECK(logits.tape() != nullptr, "softmax_cross_entropy on an empty Var");
  return logits.tape()->apply(Op::softmax_ce, logits, nullptr, 0.0, labels, name);
}

}  // namespace chapter3
