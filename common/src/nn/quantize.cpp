// QuantizedLinear (int8 weights, dynamic per-row activation quantization), quantize_dynamic and
// model_weight_bytes. The quantization and the int8 GEMM live in int8_gemm.cpp.
#include "gnm/nn/quantize.hpp"

#include <algorithm>
#include <limits>
#include <memory>

#include "gnm/autograd/node.hpp"
#include "gnm/core/check.hpp"
#include "gnm/tensor/ops.hpp"

namespace gnm::nn {

// ---- QuantizedLinear ----------------------------------------------------------------------------

QuantizedLinear::QuantizedLinear(const Linear& linear)
    : in_features(linear.in_features), out_features(linear.out_features) {
  GNM_CHECK(in_features <= kMaxInt8Depth,
            "QuantizedLinear: in_features is too large for exact int32 sums", in_features,
            kMaxInt8Depth);
  autograd::NoGradGuard no_grad;
  const std::vector<float> w =
      linear.weight.detach().to(Device::cpu()).to(DType::f32).contiguous().to_vector<float>();
  weight_ = quantize_rows(w, out_features, in_features);
  if (linear.bias.defined()) bias_ = linear.bias.detach().to_vector<float>();
}

std::shared_ptr<QuantizedLinear> QuantizedLinear::from_linear(const Linear& linear) {
  return std::make_shared<QuantizedLinear>(linear);
}

std::string QuantizedLinear::extra_repr() const {
  return "in_features=" + std::to_string(in_features) +
         ", out_features=" + std::to_string(out_features) +
         ", dtype=qint8, qscheme=per_channel_symmetric";
}

Tensor QuantizedLinear::dequantized_weight() const {
  Tensor w = empty({out_features, in_features});
  float* p = w.data<float>();
  for (std::int64_t r = 0; r < out_features; ++r)
    for (std::int64_t c = 0; c < in_features; ++c)
      p[r * in_features + c] = weight_.dequantized(r, c);
  return w;
}

//! [quantized_linear_forward]
Tensor QuantizedLinear::forward(const Tensor& x) {
  GNM_CHECK_AS(NotImplemented, !x.is_cuda() && x.dtype() == DType::f32,
               "DynamicQuantizedLinear runs on the CPU in f32 only (use x.cpu().to(f32))",
               x.device().str(), dtype_name(x.dtype()));
  GNM_CHECK_SHAPE(x.dim() >= 1 && x.size(-1) == in_features,
                  "DynamicQuantizedLinear: the input's last size must be in_features",
                  shape_str(x.shape()), shape_str(Shape{out_features, in_features}));
  Shape out_shape = x.shape();
  out_shape.back() = out_features;
  const std::int64_t rows = shape_numel(Shape(x.shape().begin(), x.shape().end() - 1));
  Tensor y = empty(out_shape);
  if (rows == 0 || out_features == 0) return y;

  // 1. Quantize each input row (its own scale sx[i]); 2. exact int32 GEMM with the int8 weight.
  const Tensor xc = x.detach().contiguous();
  std::vector<char> non_finite;
  const QuantizedMatrix qx = quantize_rows(
      std::span<const float>(xc.data<float>(), static_cast<std::size_t>(rows * in_features)),
      rows, in_features, nullptr, &non_finite);
  const auto n_out = static_cast<std::size_t>(rows * out_features);
  const auto acc = std::make_unique_for_overwrite<std::int32_t[]>(n_out);  // no memset
  int8_matmul_nt(qx, weight_, std::span<std::int32_t>(acc.get(), n_out));

  // 3. Epilogue in f32: y = acc · (sx[i] · sw[j]) + b[j]. acc is exact; converting it to f32
  //    and the two products and the sum each round once (≤ 4 ulps of |y| in all).
  float* py = y.data<float>();
  const float* sw = weight_.scales.data();
  for (std::int64_t i = 0; i < rows; ++i) {
    const float sx = qx.scales[static_cast<std::size_t>(i)];
    const std::int32_t* a = acc.get() + i * out_features;
    float* yi = py + i * out_features;
    if (non_finite[static_cast<std::size_t>(i)]) {  // as the f32 layer: NaN/inf in, NaN out
      std::fill(yi, yi + out_features, std::numeric_limits<float>::quiet_NaN());
    } else if (bias_.empty()) {
      for (std::int64_t j = 0; j < out_features; ++j)
        yi[j] = static_cast<float>(a[j]) * (sx * sw[j]);
    } else {
      for (std::int64_t j = 0; j < out_features; ++j)
        yi[j] = static_cast<float>(a[j]) * (sx * sw[j]) + bias_[static_cast<std::size_t>(j)];
    }
  }
  return y;
}
//! [quantized_linear_forward]

// ---- quantize_dynamic ---------------------------------------------------------------------------

namespace {

// A fresh copy of a stateless layer of a known type, or null when `m` is of another type.
std::shared_ptr<Module> copy_known_layer(const Module& m) {
  std::shared_ptr<Module> out;
  if (dynamic_cast<const ReLU*>(&m)) {
    out = std::make_shared<ReLU>();
  } else if (const auto* g = dynamic_cast<const GELU*>(&m)) {
    out = std::make_shared<GELU>(g->tanh_approximation);
  } else if (dynamic_cast<const SiLU*>(&m)) {
    out = std::make_shared<SiLU>();
  } else if (dynamic_cast<const Tanh*>(&m)) {
    out = std::make_shared<Tanh>();
  } else if (dynamic_cast<const Sigmoid*>(&m)) {
    out = std::make_shared<Sigmoid>();
  } else if (const auto* d = dynamic_cast<const Dropout*>(&m)) {
    out = std::make_shared<Dropout>(d->p);
  } else if (const auto* f = dynamic_cast<const Flatten*>(&m)) {
    out = std::make_shared<Flatten>(f->start_dim, f->end_dim);
  }
  if (out) out->train(m.is_training());
  return out;
}

}  // namespace

//! [quantize_dynamic]
std::shared_ptr<Sequential> quantize_dynamic(const Sequential& model) {
  auto out = std::make_shared<Sequential>();
  out->train(model.is_training());  // before any child is added: train() recurses
  for (const auto& [name, child] : model.named_children()) {
    if (const auto* lin = dynamic_cast<const Linear*>(child.get())) {
      out->push_back(QuantizedLinear::from_linear(*lin));
    } else if (const auto* seq = dynamic_cast<const Sequential*>(child.get())) {
      out->push_back(quantize_dynamic(*seq));
    } else if (auto copy = copy_known_layer(*child)) {
      out->push_back(std::move(copy));
    } else {
      out->push_back(child);  // unknown type (or already quantized): shared
    }
  }
  return out;
}
//! [quantize_dynamic]

std::int64_t model_weight_bytes(const Module& model) {
  std::int64_t bytes = 0;
  for (const auto& [name, t] : model.named_parameters())
    bytes += t.numel() * static_cast<std::int64_t>(t.element_size());
  for (const auto& [name, t] : model.named_buffers())
    bytes += t.numel() * static_cast<std::int64_t>(t.element_size());
  // QuantizedLinears hold no tensors: walk the tree for them (each counted once if shared).
  std::vector<const Module*> seen;
  const auto visit = [&](const auto& self, const Module& m) -> void {
    if (const auto* q = dynamic_cast<const QuantizedLinear*>(&m)) {
      if (std::find(seen.begin(), seen.end(), &m) == seen.end()) {
        seen.push_back(&m);
        bytes += q->weight_bytes() + 4 * static_cast<std::int64_t>(q->bias().size());
      }
    }
    for (const auto& [name, c] : m.named_children()) self(self, *c);
  };
  visit(visit, model);
  return bytes;
}

}  // namespace gnm::nn
