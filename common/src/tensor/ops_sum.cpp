// sum over dimensions, and sum_to (the reduction every broadcasting backward ends with).
#include <algorithm>

#include "gnm/autograd/node.hpp"
#include "gnm/tensor/ops.hpp"
#include "kernels.hpp"

#if GNM_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "gnm/cuda/check.hpp"
#endif

namespace gnm {

namespace {

class SumBackward final : public autograd::Node {
 public:
  Shape input_shape;
  Shape kept_shape;  // the output with reduced dims as size 1
  std::string name() const override { return "SumBackward1"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    check_not_released();
    return {g[0].reshape(kept_shape).expand(input_shape).contiguous()};
  }
};

}  // namespace

Tensor sum(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim) {
  const std::int64_t nd = x.dim();
  std::vector<bool> reduced(static_cast<std::size_t>(nd), dims.empty());
  for (std::int64_t d : dims) {
    const auto w = static_cast<std::size_t>(wrap_dim(d, nd));
    GNM_CHECK_SHAPE(!reduced[w] || dims.empty(), "dimension appears twice in sum", d, shape_str(x.shape()));
    if (nd > 0) reduced[w] = true;
  }
  // Integers and bools sum in int64, as PyTorch does.
  const Tensor in = is_floating(x.dtype()) || x.dtype() == DType::i64 ? x : x.to(DType::i64);
  Shape kept = in.shape(), out_shape;
  for (std::size_t d = 0; d < kept.size(); ++d) {
    if (reduced[d]) kept[d] = 1;
    if (!reduced[d] || keepdim) out_shape.push_back(kept[d]);
  }
  Tensor out = empty(kept, {.dtype = in.dtype(), .device = in.device()});
  if (out.numel() > 0) {
#if GNM_HAVE_CUDA
    if (in.is_cuda()) {
      GNM_CUDA_CHECK(cudaSetDevice(in.device().index));
      kernels::sum_cuda(out, in.detach(), reduced);
    } else
#endif
      kernels::sum_cpu(out, in.detach(), reduced);
  }
  out = out.detach().view(out_shape);
  if (autograd::any_requires_grad({&x})) {
    auto node = std::make_shared<SumBackward>();
    node->input_shape = x.shape();
    node->kept_shape = kept;
    autograd::set_history(node, {&x}, {&out});
  }
  return out;
}

Tensor sum(const Tensor& x) { return sum(x, {}, false); }

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const std::int64_t lead = grad.dim() - static_cast<std::int64_t>(shape.size());
  GNM_CHECK_SHAPE(lead >= 0, "sum_to: target has more dimensions than the gradient",
                  shape_str(grad.shape()), shape_str(shape));
  std::vector<std::int64_t> dims;
  for (std::int64_t d = 0; d < grad.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
      continue;
    }
    const std::int64_t want = shape[static_cast<std::size_t>(d - lead)];
    const std::int64_t have = grad.shape()[static_cast<std::size_t>(d)];
    if (want == 1 && have != 1) {
      dims.push_back(d);
    } else {
      GNM_CHECK_SHAPE(want == have, "sum_to: shapes are not broadcast-compatible",
                      shape_str(grad.shape()), shape_str(shape));
    }
  }
  if (dims.empty()) return grad.reshape(shape);
  return sum(grad, dims, true).reshape(shape);
}

}  // namespace gnm
