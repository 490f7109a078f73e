// Section 1.2: the FLOP-and-byte model (conventions in op_cost.hpp).
#include "op_cost.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "gnm/core/check.hpp"
#include "gnm/core/error.hpp"

namespace gnm::ch01 {
namespace {

// Sizes beyond 2^31 would make FLOP counts beyond 2^93: no model of this chapter has them, and
// every count stays an exact double for the sizes the tests use.
constexpr std::int64_t kMaxSize = std::int64_t{1} << 31;

void check_size(const char* model, const char* what, std::int64_t v) {
  if (v < 1 || v > kMaxSize) {
    throw Error(std::string(model) + " " + what + " must be in [1, 2^31], got " +
                std::to_string(v));
  }
}

double d(std::int64_t v) { return static_cast<double>(v); }

std::string dims(std::initializer_list<std::int64_t> v) {
  std::string s = "(";
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it != v.begin()) s += 'x';
    s += std::to_string(*it);
  }
  return s + ")";
}

}  // namespace

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::gemm: return "GEMM";
    case OpKind::conv: return "conv";
    case OpKind::elementwise: return "elementwise";
    case OpKind::normalization: return "normalization";
    case OpKind::softmax: return "softmax";
    case OpKind::pooling: return "pooling";
  }
  return "?";
}

const char* op_group_name(OpGroup group) {
  switch (group) {
    case OpGroup::matmul: return "GEMM/conv";
    case OpGroup::elementwise: return "elementwise/pooling";
    case OpGroup::normalization: return "normalization/softmax";
  }
  return "?";
}

OpGroup op_group(OpKind kind) {
  switch (kind) {
    case OpKind::gemm:
    case OpKind::conv: return OpGroup::matmul;
    case OpKind::elementwise:
    case OpKind::pooling: return OpGroup::elementwise;
    case OpKind::normalization:
    case OpKind::softmax: return OpGroup::normalization;
  }
  return OpGroup::elementwise;
}

void Roofline::validate() const {
  GNM_CHECK(std::isfinite(peak_gflops) && peak_gflops > 0,
            "the roofline's peak must be positive and finite", peak_gflops);
  GNM_CHECK(std::isfinite(bandwidth_gbps) && bandwidth_gbps > 0,
            "the roofline's bandwidth must be positive and finite", bandwidth_gbps);
}

double Roofline::attainable_gflops(double intensity) const {
  return std::min(peak_gflops, intensity * bandwidth_gbps);
}

double Roofline::seconds(const OpCost& op) const {
  return std::max(op.flops / (peak_gflops * 1e9), op.bytes / (bandwidth_gbps * 1e9));
}

double gemm_intensity(std::int64_t m, std::int64_t n, std::int64_t k) {
  return 2.0 * d(m) * d(n) * d(k) / (4.0 * (d(m) * d(k) + d(k) * d(n) + d(m) * d(n)));
}

//! [gemm_cost]
OpCost gemm_op(const std::string& name, std::int64_t m, std::int64_t n, std::int64_t k, bool bias,
               std::int64_t batch) {
  for (auto [what, v] : {std::pair{"M", m}, {"N", n}, {"K", k}, {"batch", batch}}) {
    check_size("GEMM", what, v);
  }
  OpCost op;
  op.name = name;
  op.kind = OpKind::gemm;
  op.shape = (batch > 1 ? std::to_string(batch) + "x" : "") + dims({m, k}) + dims({k, n});
  // Each of the M·N outputs is a K-long dot product: K multiplies and K adds.
  op.flops = d(batch) * 2.0 * d(m) * d(n) * d(k);
  // Read A and B, write C, once each.
  op.bytes = d(batch) * 4.0 * (d(m) * d(k) + d(k) * d(n) + d(m) * d(n));
  if (bias) {
    op.flops += d(batch) * d(m) * d(n);
    op.bytes += d(batch) * 4.0 * d(n);
  }
  return op;
}
//! [gemm_cost]

OpCost conv2d_op(const std::string& name, std::int64_t batch, std::int64_t c_in, std::int64_t h,
                 std::int64_t w, std::int64_t c_out, std::int64_t kernel, std::int64_t stride,
                 std::int64_t pad) {
  for (auto [what, v] : {std::pair{"batch", batch}, {"input channels", c_in}, {"height", h},
                         {"width", w}, {"output channels", c_out}, {"kernel", kernel},
                         {"stride", stride}}) {
    check_size("conv", what, v);
  }
  GNM_CHECK(pad >= 0 && pad < kernel, "conv padding must be in [0, kernel)", pad, kernel);
  GNM_CHECK_SHAPE(h + 2 * pad >= kernel && w + 2 * pad >= kernel,
                  "the conv kernel does not fit in the padded image", h, w, kernel, pad);
  const std::int64_t ho = (h + 2 * pad - kernel) / stride + 1;
  const std::int64_t wo = (w + 2 * pad - kernel) / stride + 1;
  OpCost op;
  op.name = name;
  op.kind = OpKind::conv;
  op.shape = dims({batch, c_in, h, w}) + "->" + dims({batch, c_out, ho, wo}) + " k" +
             std::to_string(kernel);
  // Each output value is a dot product of length Cin·k·k.
  op.flops = 2.0 * d(batch) * d(c_out) * d(ho) * d(wo) * d(c_in) * d(kernel) * d(kernel);
  op.bytes = 4.0 * (d(batch) * d(c_in) * d(h) * d(w) + d(c_out) * d(c_in) * d(kernel) * d(kernel) +
                    d(batch) * d(c_out) * d(ho) * d(wo));
  return op;
}

OpCost elementwise_op(const std::string& name, std::int64_t elements, double flops_per_element,
                      int inputs) {
  check_size("elementwise op", "size", elements);
  GNM_CHECK(inputs >= 1, "an elementwise op reads at least one tensor", inputs);
  OpCost op;
  op.name = name;
  op.kind = OpKind::elementwise;
  op.shape = dims({elements});
  op.flops = flops_per_element * d(elements);
  op.bytes = 4.0 * d(elements) * (inputs + 1);
  return op;
}

OpCost norm_op(const std::string& name, std::int64_t elements, std::int64_t channels) {
  check_size("normalization", "size", elements);
  check_size("normalization", "channels", channels);
  OpCost op;
  op.name = name;
  op.kind = OpKind::normalization;
  op.shape = dims({elements});
  op.flops = kNormFlops * d(elements);
  op.bytes = 4.0 * (2.0 * d(elements) + 2.0 * d(channels));  // x in, y out, gamma and beta
  return op;
}

OpCost softmax_op(const std::string& name, std::int64_t rows, std::int64_t cols) {
  check_size("softmax", "rows", rows);
  check_size("softmax", "columns", cols);
  OpCost op;
  op.name = name;
  op.kind = OpKind::softmax;
  op.shape = dims({rows, cols});
  op.flops = kSoftmaxFlops * d(rows) * d(cols);
  op.bytes = 8.0 * d(rows) * d(cols);
  return op;
}

std::vector<OpCost> mlp_ops(const MlpShape& s) {
  check_size("MLP", "batch", s.batch);
  check_size("MLP", "input", s.input);
  check_size("MLP", "hidden", s.hidden);
  check_size("MLP", "layers", s.layers);
  check_size("MLP", "classes", s.classes);
  GNM_CHECK(s.layers <= 1000, "MLP layers must be at most 1000", s.layers);
  const int layers = static_cast<int>(s.layers);
  std::vector<OpCost> ops;
  ops.push_back(gemm_op("fc1", s.batch, s.hidden, s.input, true));
  if (layers > 1) {
    ops.push_back(gemm_op("fc2.." + std::to_string(layers), s.batch, s.hidden, s.hidden, true));
    ops.back().count = layers - 1;
  }
  ops.push_back(elementwise_op("relu", s.batch * s.hidden, kReluFlops));
  ops.back().count = layers;
  ops.push_back(gemm_op("out", s.batch, s.classes, s.hidden, true));
  ops.push_back(softmax_op("softmax", s.batch, s.classes));
  return ops;
}

std::vector<OpCost> cnn_ops(const CnnShape& s) {
  check_size("CNN", "batch", s.batch);
  check_size("CNN", "in_channels", s.in_channels);
  check_size("CNN", "image", s.image);
  check_size("CNN", "channels", s.channels);
  check_size("CNN", "layers", s.layers);
  check_size("CNN", "classes", s.classes);
  GNM_CHECK(s.layers <= 16, "CNN layers must be at most 16", s.layers);
  const std::int64_t scale = std::int64_t{1} << s.layers;
  GNM_CHECK_SHAPE(s.image % scale == 0,
                  "the CNN halves the image in every block: image must be divisible by 2^layers",
                  s.image, s.layers, scale);
  GNM_CHECK(s.channels <= kMaxSize / (scale / 2), "CNN channels * 2^(layers-1) is too large",
            s.channels, s.layers);
  std::vector<OpCost> ops;
  std::int64_t c_in = s.in_channels;
  std::int64_t size = s.image;
  for (std::int64_t i = 0; i < s.layers; ++i) {
    const std::int64_t c_out = s.channels << i;
    const std::string n = std::to_string(i + 1);
    const std::int64_t elements = s.batch * c_out * size * size;
    ops.push_back(conv2d_op("conv" + n, s.batch, c_in, size, size, c_out, 3, 1, 1));
    ops.push_back(norm_op("bn" + n, elements, c_out));
    ops.push_back(elementwise_op("relu" + n, elements, kReluFlops));
    OpCost pool;
    pool.name = "pool" + n;
    pool.kind = OpKind::pooling;
    pool.shape = dims({s.batch, c_out, size / 2, size / 2});
    pool.flops = kMaxPoolFlops * d(elements / 4);
    pool.bytes = 4.0 * (d(elements) + d(elements / 4));
    ops.push_back(pool);
    c_in = c_out;
    size /= 2;
  }
  OpCost gap;  // global average pool: sum each channel's size² values, divide once
  gap.name = "avgpool";
  gap.kind = OpKind::pooling;
  gap.shape = dims({s.batch, c_in});
  gap.flops = d(s.batch) * d(c_in) * (d(size) * d(size) + 1);
  gap.bytes = 4.0 * d(s.batch) * d(c_in) * (d(size) * d(size) + 1);
  ops.push_back(gap);
  ops.push_back(gemm_op("fc", s.batch, s.classes, c_in, true));
  ops.push_back(softmax_op("softmax", s.batch, s.classes));
  return ops;
}

//! [transformer_ops]
std::vector<OpCost> transformer_ops(const TransformerShape& s) {
  check_size("Transformer", "batch", s.batch);
  check_size("Transformer", "seq", s.seq);
  check_size("Transformer", "hidden", s.hidden);
  check_size("Transformer", "heads", s.heads);
  check_size("Transformer", "layers", s.layers);
  GNM_CHECK(s.layers <= 1000, "Transformer layers must be at most 1000", s.layers);
  GNM_CHECK_SHAPE(s.hidden % s.heads == 0, "the heads must divide the hidden size", s.hidden,
                  s.heads);
  const std::int64_t B = s.batch, T = s.seq, C = s.hidden, H = s.heads, D = C / H;
  const std::int64_t tokens = B * T;
  std::vector<OpCost> ops = {
      norm_op("ln1", tokens * C, C),
      gemm_op("qkv", tokens, 3 * C, C, true),             // (BT, C) x (C, 3C)
      gemm_op("attn.scores", T, T, D, false, B * H),      // per head: (T, D) x (D, T)
      softmax_op("attn.softmax", B * H * T, T),           // (B, H, T, T)
      gemm_op("attn.values", T, D, T, false, B * H),      // per head: (T, T) x (T, D)
      gemm_op("proj", tokens, C, C, true),                // (BT, C) x (C, C)
      elementwise_op("residual1", tokens * C, kAddFlops, 2),
      norm_op("ln2", tokens * C, C),
      gemm_op("fc1", tokens, 4 * C, C, true),             // (BT, C) x (C, 4C)
      elementwise_op("gelu", tokens * 4 * C, kGeluFlops),
      gemm_op("fc2", tokens, C, 4 * C, true),             // (BT, 4C) x (4C, C)
      elementwise_op("residual2", tokens * C, kAddFlops, 2),
  };
  for (auto& op : ops) op.count = static_cast<int>(s.layers);
  return ops;
}
//! [transformer_ops]

ModelTotals model_totals(const std::vector<OpCost>& ops, const Roofline& r) {
  r.validate();
  ModelTotals t;
  for (const OpCost& op : ops) {
    const auto g = static_cast<int>(op_group(op.kind));
    t.flops[g] += op.count * op.flops;
    t.bytes[g] += op.count * op.bytes;
    t.seconds[g] += op.count * r.seconds(op);
  }
  return t;
}

}  // namespace gnm::ch01
