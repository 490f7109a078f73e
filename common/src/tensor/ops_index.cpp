// Joining and indexing (chapter 9.3): cat, stack, index_select, gather and embedding, with their
// backward rules (9.5).
//
//   cat:           each input's gradient is its window of g (narrow along the cat dim)
//   stack:         cat of unsqueezed inputs (the unsqueeze views carry their own backward)
//   index_select:  grad_x = zeros, then grad_x[…, index[k], …] += g[…, k, …]  (index_add)
//   embedding:     the same with dim 0: grad_weight[index[k], :] += g[k, :]
//   gather:        grad_x = zeros, then scatter-add of g at index along dim
// Duplicated indices accumulate. Indices outside the valid range are a gnm::Error naming the
// index, its position and the size, before any kernel runs (PyTorch's device-side assert, but
// recoverable).
#include "gnm/autograd/node.hpp"
#include "gnm/tensor/ops.hpp"
#include "kernels.hpp"
#include "kernels_nn.hpp"

namespace gnm {

namespace detail {

void check_index_range(const Tensor& index, std::int64_t size, const char* what) {
  if (index.numel() == 0) return;
  std::int64_t pos = -1;
  kernels::run_on(
      index, [&] { pos = kernels::first_out_of_range_cpu(index, size); },
      [&] {
#if GNM_HAVE_CUDA
        pos = kernels::first_out_of_range_cuda(index, size);
#endif
      });
  if (pos < 0) return;
  const std::vector<std::int64_t> host = index.detach().cpu().contiguous().to_vector<std::int64_t>();
  const std::int64_t index_value = host[static_cast<std::size_t>(pos)];
  const std::int64_t position = pos;
  GNM_CHECK(false, "index out of range [0, size)", what, index_value, size, position);
}

Tensor scatter_add_into_zeros(const Shape& shape, std::int64_t dim, const Tensor& index,
                              const Tensor& g) {
  const DType acc = g.dtype() == DType::f64 ? DType::f64 : DType::f32;
  Tensor out = zeros(shape, {.dtype = acc, .device = g.device()});
  const Tensor ga = g.detach().to(acc);
  const Tensor idx = index.detach();
  kernels::run_on(
      out, [&] { kernels::scatter_add_cpu(out, dim, idx, ga); },
      [&] {
#if GNM_HAVE_CUDA
        kernels::scatter_add_cuda(out, dim, idx, ga);
#endif
      });
  return out.to(g.dtype());
}

}  // namespace detail

namespace {

void check_index_tensor(const Tensor& x, const Tensor& index, const char* op) {
  GNM_CHECK(index.dtype() == DType::i64, "index tensor must be i64", op, dtype_name(index.dtype()));
  GNM_CHECK(x.device() == index.device(), "tensor and index on different devices", op,
            x.device().str(), index.device().str());
}

class CatBackward final : public autograd::Node {
 public:
  std::vector<std::int64_t> sizes;
  std::vector<bool> need;
  std::int64_t dim = 0;
  std::string name() const override { return "CatBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_not_released();
    std::vector<Tensor> out(sizes.size());
    std::int64_t off = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      if (need[i]) out[i] = grads[0].narrow(dim, off, sizes[i]).contiguous();
      off += sizes[i];
    }
    return out;
  }
};

// Rows picked along dim 0 of x viewed as (outer, V, inner): index_select and embedding.
class IndexSelectBackward final : public autograd::Node {
 public:
  Tensor index;  // (n), contiguous
  Shape x_shape;
  std::int64_t outer = 1, inner = 1;
  std::string label;
  std::string name() const override { return label; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_not_released();
    const Tensor& g = grads[0];
    const DType acc = g.dtype() == DType::f64 ? DType::f64 : DType::f32;
    Tensor out = zeros(x_shape, {.dtype = acc, .device = g.device()});
    const Tensor gc = g.to(acc).contiguous();
    kernels::run_on(
        out, [&] { kernels::index_add_cpu(out, gc, index, outer, inner); },
        [&] {
#if GNM_HAVE_CUDA
          kernels::index_add_cuda(out, gc, index, outer, inner);
#endif
        });
    return {out.to(g.dtype())};
  }
  void release() override {
    index = Tensor();
    Node::release();
  }
};

// out (out_shape) = rows index[k] of x (outer, V, inner), with the backward named `label`.
Tensor select_rows(const Tensor& x, const Tensor& flat_index, std::int64_t outer,
                   std::int64_t inner, const Shape& out_shape, const char* label) {
  const Tensor xc = x.detach().contiguous();
  Tensor out = empty(out_shape, {.dtype = x.dtype(), .device = x.device()});
  if (out.numel() > 0)
    kernels::run_on(
        x, [&] { kernels::index_select_cpu(out, xc, flat_index, outer, inner); },
        [&] {
#if GNM_HAVE_CUDA
          kernels::index_select_cuda(out, xc, flat_index, outer, inner);
#endif
        });
  if (autograd::any_requires_grad({&x})) {
    auto node = std::make_shared<IndexSelectBackward>();
    node->index = flat_index;
    node->x_shape = x.shape();
    node->outer = outer;
    node->inner = inner;
    node->label = label;
    autograd::set_history(node, {&x}, {&out});
  }
  return out;
}

class GatherBackward final : public autograd::Node {
 public:
  Tensor index;
  Shape x_shape;
  std::int64_t dim = 0;
  std::string name() const override { return "GatherBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_not_released();
    return {detail::scatter_add_into_zeros(x_shape, dim, index, grads[0])};
  }
  void release() override {
    index = Tensor();
    Node::release();
  }
};

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim) {
  GNM_CHECK(!tensors.empty(), "cat needs at least one tensor");
  const Tensor& first = tensors[0];
  GNM_CHECK_SHAPE(first.dim() > 0, "cat: a 0-d tensor cannot be concatenated (unsqueeze it)",
                  shape_str(first.shape()));
  const std::int64_t d = wrap_dim(dim, first.dim());
  Shape shape = first.shape();
  shape[static_cast<std::size_t>(d)] = 0;
  bool grad = false;
  for (const Tensor& t : tensors) {
    GNM_CHECK(t.device() == first.device(), "cat: tensors on different devices",
              first.device().str(), t.device().str());
    GNM_CHECK(t.dtype() == first.dtype(), "cat: tensors of different dtypes",
              dtype_name(first.dtype()), dtype_name(t.dtype()));
    bool fits = t.dim() == first.dim();
    for (std::int64_t i = 0; fits && i < t.dim(); ++i)
      fits = i == d || t.size(i) == first.size(i);
    GNM_CHECK_SHAPE(fits, "cat: shapes differ outside the cat dim", d, shape_str(first.shape()),
                    shape_str(t.shape()));
    shape[static_cast<std::size_t>(d)] += t.size(d);
    grad = grad || autograd::any_requires_grad({&t});
  }
  Tensor out = empty(shape, {.dtype = first.dtype(), .device = first.device()});
  std::int64_t off = 0;
  for (const Tensor& t : tensors) {
    const std::int64_t n = t.size(d);
    if (t.numel() > 0) {
      const Tensor window = out.narrow(d, off, n);
      const Tensor src = t.detach();
      kernels::run_on(
          out, [&] { kernels::copy_cpu(window, src); },
          [&] {
#if GNM_HAVE_CUDA
            kernels::copy_cuda(window, src);
#endif
          });
    }
    off += n;
  }
  if (grad) {
    auto node = std::make_shared<CatBackward>();
    node->dim = d;
    autograd::set_history(node, {}, {&out});
    for (const Tensor& t : tensors) {  // set_history takes a fixed list; add the edges by hand
      node->next_edges.push_back(autograd::gradient_edge(t));
      node->sizes.push_back(t.size(d));
      node->need.push_back(t.requires_grad());
    }
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim) {
  GNM_CHECK(!tensors.empty(), "stack needs at least one tensor");
  const std::int64_t d = wrap_dim(dim, tensors[0].dim() + 1);
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (const Tensor& t : tensors) {
    GNM_CHECK_SHAPE(t.shape() == tensors[0].shape(), "stack: tensors must have equal shapes",
                    shape_str(tensors[0].shape()), shape_str(t.shape()));
    parts.push_back(t.unsqueeze(d));
  }
  return cat(parts, d);
}

Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index) {
  check_index_tensor(x, index, "index_select");
  GNM_CHECK_SHAPE(x.dim() >= 1 && index.dim() <= 1,
                  "index_select needs x of at least 1 dim and a 0-d or 1-d index",
                  shape_str(x.shape()), shape_str(index.shape()));
  const std::int64_t d = wrap_dim(dim, x.dim());
  detail::check_index_range(index, x.size(d), "index_select index");
  std::int64_t outer = 1, inner = 1;
  for (std::int64_t i = 0; i < x.dim(); ++i) {
    if (i < d) outer *= x.size(i);
    if (i > d) inner *= x.size(i);
  }
  Shape shape = x.shape();
  shape[static_cast<std::size_t>(d)] = index.numel();
  const Tensor flat = index.detach().contiguous().reshape({index.numel()});
  return select_rows(x, flat, outer, inner, shape, "IndexSelectBackward0");
}

Tensor embedding(const Tensor& weight, const Tensor& indices) {
  check_index_tensor(weight, indices, "embedding");
  GNM_CHECK_SHAPE(weight.dim() == 2, "embedding: weight must be (V, D)", shape_str(weight.shape()));
  detail::check_index_range(indices, weight.size(0),
                            "embedding index (V = number of rows of the weight)");
  Shape shape = indices.shape();
  shape.push_back(weight.size(1));
  const Tensor flat = indices.detach().contiguous().reshape({indices.numel()});
  return select_rows(weight, flat, 1, weight.size(1), shape, "EmbeddingBackward0");
}

Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index) {
  check_index_tensor(x, index, "gather");
  GNM_CHECK_SHAPE(index.dim() == x.dim(), "gather: index must have x's number of dims",
                  shape_str(x.shape()), shape_str(index.shape()));
  if (x.dim() == 0) return gather(x.reshape({1}), 0, index.reshape({1})).reshape({});
  const std::int64_t d = wrap_dim(dim, x.dim());
  for (std::int64_t i = 0; i < x.dim(); ++i)
    GNM_CHECK_SHAPE(i == d || index.size(i) <= x.size(i),
                    "gather: index is larger than x outside the gather dim", i,
                    shape_str(x.shape()), shape_str(index.shape()));
  detail::check_index_range(index, x.size(d), "gather index");
  Tensor out = empty(index.shape(), {.dtype = x.dtype(), .device = x.device()});
  const Tensor xd = x.detach(), id = index.detach();
  if (out.numel() > 0)
    kernels::run_on(
        x, [&] { kernels::gather_cpu(out, xd, d, id); },
        [&] {
#if GNM_HAVE_CUDA
          kernels::gather_cuda(out, xd, d, id);
#endif
        });
  if (autograd::any_requires_grad({&x})) {
    auto node = std::make_shared<GatherBackward>();
    node->index = id;
    node->x_shape = x.shape();
    node->dim = d;
    autograd::set_history(node, {&x}, {&out});
  }
  return out;
}

}  // namespace gnm
