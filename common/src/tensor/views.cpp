// Views (chapter 9.6): new shape/strides/offset over the same Storage, each with its backward.
#include <algorithm>
#include <numeric>

#include "gnm/autograd/node.hpp"
#include "gnm/tensor/ops.hpp"
#include "gnm/tensor/tensor.hpp"

namespace gnm {

namespace {

Tensor make_view(const Tensor& base, Shape shape, Shape strides, std::int64_t offset) {
  check_shape(shape, "view");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

// Backward of shape-only views (view, reshape-as-view, squeeze, unsqueeze, flatten).
class ViewBackward final : public autograd::Node {
 public:
  Shape input_shape;
  std::string label;
  std::string name() const override { return label; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    check_not_released();
    return {g[0].reshape(input_shape)};
  }
};

class PermuteBackward final : public autograd::Node {
 public:
  Shape inverse;
  std::string name() const override { return "PermuteBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    check_not_released();
    return {g[0].permute(inverse)};
  }
};

class ExpandBackward final : public autograd::Node {
 public:
  Shape input_shape;
  std::string name() const override { return "ExpandBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    check_not_released();
    return {sum_to(g[0], input_shape)};
  }
};

// slice/narrow/select: the gradient is zero outside the window.
class SliceBackward final : public autograd::Node {
 public:
  Shape input_shape;
  std::int64_t dim = 0, start = 0, end = 0, step = 1;
  bool drop_dim = false;  // select(): the window is one index and the dim was removed
  std::string name() const override { return drop_dim ? "SelectBackward0" : "SliceBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    check_not_released();
    Tensor out = zeros(input_shape, {.dtype = g[0].dtype(), .device = g[0].device()});
    Tensor window = out.slice(dim, start, end, step);
    window.copy_(drop_dim ? g[0].unsqueeze(dim) : g[0]);
    return {out};
  }
};

Tensor with_view_history(Tensor out, const Tensor& in, std::shared_ptr<autograd::Node> node) {
  if (autograd::any_requires_grad({&in})) autograd::set_history(node, {&in}, {&out});
  return out;
}

Tensor shape_view(const Tensor& in, Tensor out, const char* label) {
  if (!autograd::any_requires_grad({&in})) return out;
  auto node = std::make_shared<ViewBackward>();
  node->input_shape = in.shape();
  node->label = label;
  return with_view_history(std::move(out), in, node);
}

Shape infer_shape(Shape shape, std::int64_t numel, const Shape& from) {
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      GNM_CHECK_SHAPE(infer < 0, "only one dimension can be inferred", shape_str(shape));
      infer = static_cast<int>(i);
    } else {
      GNM_CHECK_SHAPE(shape[i] >= 0, "invalid size in view shape", shape_str(shape));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    GNM_CHECK_SHAPE(known != 0 && numel % known == 0, "view shape is invalid for the input",
                    shape_str(shape), shape_str(from));
    shape[static_cast<std::size_t>(infer)] = numel / known;
  }
  GNM_CHECK_SHAPE(shape_numel(shape) == numel, "view shape is invalid for the input",
                  shape_str(shape), shape_str(from));
  return shape;
}

// Strides that view (shape, strides) as `target` without copying; false when impossible.
// Input dims are grouped into chunks that are contiguous with each other (each dim's stride is the
// next one's stride times its size); a chunk can be re-split into any target dims with the same
// product, which then get row-major strides based on the chunk's innermost stride.
bool view_strides(const Shape& shape, const Shape& strides, const Shape& target, Shape& out) {
  if (shape.empty() || shape_numel(shape) == 0) {
    out = contiguous_strides(target);
    return true;
  }
  out.assign(target.size(), 0);
  std::int64_t view_d = static_cast<std::int64_t>(target.size()) - 1;
  std::int64_t base = strides.back();
  std::int64_t tensor_numel = 1;
  std::int64_t view_numel = 1;
  for (std::int64_t d = static_cast<std::int64_t>(shape.size()) - 1; d >= 0; --d) {
    const auto du = static_cast<std::size_t>(d);
    tensor_numel *= shape[du];
    const bool chunk_ends =
        d == 0 || (shape[du - 1] != 1 && strides[du - 1] != tensor_numel * base);
    if (!chunk_ends) continue;
    while (view_d >= 0 &&
           (view_numel < tensor_numel || target[static_cast<std::size_t>(view_d)] == 1)) {
      out[static_cast<std::size_t>(view_d)] = view_numel * base;
      view_numel *= target[static_cast<std::size_t>(view_d)];
      --view_d;
    }
    if (view_numel != tensor_numel) return false;
    if (d > 0) {
      base = strides[du - 1];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  return view_d == -1;
}

}  // namespace

Tensor Tensor::view(Shape shape_in) const {
  const Shape target = infer_shape(std::move(shape_in), numel(), shape());
  Shape st;
  GNM_CHECK_SHAPE(view_strides(shape(), strides(), target, st),
                  "view is not possible on this layout; use reshape() (it copies)",
                  shape_str(shape()), shape_str(strides()), shape_str(target));
  return shape_view(*this, make_view(*this, target, st, offset()), "ViewBackward0");
}

Tensor Tensor::reshape(Shape shape_in) const {
  const Shape target = infer_shape(std::move(shape_in), numel(), shape());
  Shape st;
  if (view_strides(shape(), strides(), target, st))
    return shape_view(*this, make_view(*this, target, st, offset()), "ViewBackward0");
  return contiguous().view(target);
}

Tensor Tensor::transpose(std::int64_t d0, std::int64_t d1) const {
  Shape perm(static_cast<std::size_t>(dim()));
  std::iota(perm.begin(), perm.end(), 0);
  if (dim() == 0) return *this;
  std::swap(perm[static_cast<std::size_t>(wrap_dim(d0, dim()))],
            perm[static_cast<std::size_t>(wrap_dim(d1, dim()))]);
  return permute(perm);
}

Tensor Tensor::t() const {
  GNM_CHECK_SHAPE(dim() <= 2, "t() expects a tensor with at most 2 dimensions", shape_str(shape()));
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::permute(Shape dims) const {
  const std::size_t n = static_cast<std::size_t>(dim());
  GNM_CHECK_SHAPE(dims.size() == n, "permute needs one entry per dimension", shape_str(dims),
                  shape_str(shape()));
  Shape new_shape(n), new_strides(n), inverse(n);
  std::vector<bool> seen(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    const auto d = static_cast<std::size_t>(wrap_dim(dims[i], dim()));
    GNM_CHECK_SHAPE(!seen[d], "permute has a repeated dimension", shape_str(dims));
    seen[d] = true;
    new_shape[i] = shape()[d];
    new_strides[i] = strides()[d];
    inverse[d] = static_cast<std::int64_t>(i);
  }
  Tensor out = make_view(*this, new_shape, new_strides, offset());
  if (!autograd::any_requires_grad({this})) return out;
  auto node = std::make_shared<PermuteBackward>();
  node->inverse = inverse;
  return with_view_history(std::move(out), *this, node);
}

Tensor Tensor::slice(std::int64_t d, std::int64_t start, std::int64_t end, std::int64_t step) const {
  GNM_CHECK_SHAPE(dim() > 0, "slice of a 0-d tensor");
  const auto dd = static_cast<std::size_t>(wrap_dim(d, dim()));
  GNM_CHECK(step > 0, "slice step must be positive", step);
  const std::int64_t n = shape()[dd];
  // Python semantics: negative indices count from the end; out-of-range bounds clamp.
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<std::int64_t>(start, 0, n);
  end = std::clamp<std::int64_t>(end, start, n);
  Shape s = shape(), st = strides();
  s[dd] = (end - start + step - 1) / step;
  st[dd] = strides()[dd] * step;
  Tensor out = make_view(*this, s, st, offset() + start * strides()[dd]);
  if (!autograd::any_requires_grad({this})) return out;
  auto node = std::make_shared<SliceBackward>();
  node->input_shape = shape();
  node->dim = static_cast<std::int64_t>(dd);
  node->start = start;
  node->end = end;
  node->step = step;
  return with_view_history(std::move(out), *this, node);
}

Tensor Tensor::narrow(std::int64_t d, std::int64_t start, std::int64_t length) const {
  const std::int64_t n = size(d);
  if (start < 0) start += n;
  GNM_CHECK_SHAPE(start >= 0 && length >= 0 && start + length <= n, "narrow window out of range",
                  start, length, n);
  return slice(d, start, start + length);
}

Tensor Tensor::select(std::int64_t d, std::int64_t index) const {
  GNM_CHECK_SHAPE(dim() > 0, "select on a 0-d tensor");
  const auto dd = static_cast<std::size_t>(wrap_dim(d, dim()));
  const std::int64_t n = shape()[dd];
  GNM_CHECK_SHAPE(index >= -n && index < n, "select index out of range", index, n);
  if (index < 0) index += n;
  Shape s = shape(), st = strides();
  s.erase(s.begin() + static_cast<std::ptrdiff_t>(dd));
  st.erase(st.begin() + static_cast<std::ptrdiff_t>(dd));
  Tensor out = make_view(*this, s, st, offset() + index * strides()[dd]);
  if (!autograd::any_requires_grad({this})) return out;
  auto node = std::make_shared<SliceBackward>();
  node->input_shape = shape();
  node->dim = static_cast<std::int64_t>(dd);
  node->start = index;
  node->end = index + 1;
  node->drop_dim = true;
  return with_view_history(std::move(out), *this, node);
}

Tensor Tensor::expand(Shape target) const {
  const std::size_t n = static_cast<std::size_t>(dim());
  GNM_CHECK_SHAPE(target.size() >= n, "expand cannot drop dimensions", shape_str(shape()),
                  shape_str(target));
  const std::size_t lead = target.size() - n;
  Shape st(target.size(), 0);
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (i < lead) {
      GNM_CHECK_SHAPE(target[i] >= 0, "expand size must be >= 0 for new dimensions", shape_str(target));
      continue;
    }
    const std::int64_t have = shape()[i - lead];
    if (target[i] == -1) target[i] = have;
    if (have == target[i]) {
      st[i] = strides()[i - lead];
    } else {
      GNM_CHECK_SHAPE(have == 1, "expand: size must match or be 1", shape_str(shape()),
                      shape_str(target));
    }
  }
  if (target == shape()) return *this;
  Tensor out = make_view(*this, target, st, offset());
  if (!autograd::any_requires_grad({this})) return out;
  auto node = std::make_shared<ExpandBackward>();
  node->input_shape = shape();
  return with_view_history(std::move(out), *this, node);
}

Tensor Tensor::squeeze() const {
  Shape s;
  for (std::int64_t v : shape()) if (v != 1) s.push_back(v);
  if (s.size() == shape().size()) return *this;
  return reshape(s);
}

Tensor Tensor::squeeze(std::int64_t d) const {
  if (dim() == 0) return *this;
  const auto dd = static_cast<std::size_t>(wrap_dim(d, dim()));
  if (shape()[dd] != 1) return *this;
  Shape s = shape();
  s.erase(s.begin() + static_cast<std::ptrdiff_t>(dd));
  return reshape(s);
}

Tensor Tensor::unsqueeze(std::int64_t d) const {
  const std::int64_t dd = wrap_dim(d, dim() + 1);
  Shape s = shape(), st = strides();
  const std::int64_t stride = dd < dim() ? strides()[static_cast<std::size_t>(dd)] * shape()[static_cast<std::size_t>(dd)] : 1;
  s.insert(s.begin() + dd, 1);
  st.insert(st.begin() + dd, stride);
  return shape_view(*this, make_view(*this, s, st, offset()), "UnsqueezeBackward0");
}

Tensor Tensor::flatten(std::int64_t start_dim, std::int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  const std::int64_t a = wrap_dim(start_dim, dim());
  const std::int64_t b = wrap_dim(end_dim, dim());
  GNM_CHECK_SHAPE(a <= b, "flatten: start_dim must not come after end_dim", start_dim, end_dim);
  Shape s;
  std::int64_t merged = 1;
  for (std::int64_t i = 0; i < dim(); ++i) {
    if (i < a || i > b) {
      s.push_back(shape()[static_cast<std::size_t>(i)]);
    } else {
      merged *= shape()[static_cast<std::size_t>(i)];
      if (i == b) s.push_back(merged);
    }
  }
  return reshape(s);
}

}  // namespace gnm
