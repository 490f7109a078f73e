// Tensor::str(): PyTorch's print format, summarised above 1000 elements (3 edge items per dim).
#include <cmath>
#include <cstdio>
#include <sstream>

#include "gnm/autograd/node.hpp"
#include "gnm/tensor/tensor.hpp"

namespace gnm {

namespace {

constexpr std::int64_t kSummarizeAbove = 1000;  // torch's default print threshold
constexpr std::int64_t kEdgeItems = 3;

enum class Style { integer_valued, fixed, scientific, integer, boolean };

struct Formatter {
  Style style = Style::fixed;
  std::size_t width = 0;

  std::string raw(double v) const {
    char buf[64];
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    switch (style) {
      case Style::boolean: return v != 0.0 ? "True" : "False";
      case Style::integer: std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v)); break;
      case Style::integer_valued: std::snprintf(buf, sizeof buf, "%.0f.", v); break;
      case Style::fixed: std::snprintf(buf, sizeof buf, "%.4f", v); break;
      case Style::scientific: std::snprintf(buf, sizeof buf, "%.4e", v); break;
    }
    return buf;
  }
  std::string operator()(double v) const {
    std::string s = raw(v);
    return std::string(width > s.size() ? width - s.size() : 0, ' ') + s;
  }
};

// Multi-index positions shown along one dimension: all, or the edges with a gap marker (-1).
std::vector<std::int64_t> shown(std::int64_t n, bool summarize) {
  std::vector<std::int64_t> idx;
  if (!summarize || n <= 2 * kEdgeItems) {
    for (std::int64_t i = 0; i < n; ++i) idx.push_back(i);
  } else {
    for (std::int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
    idx.push_back(-1);
    for (std::int64_t i = n - kEdgeItems; i < n; ++i) idx.push_back(i);
  }
  return idx;
}

void collect(const Tensor& t, const std::vector<double>& v, const Shape& strides, std::int64_t dim,
             std::int64_t base, bool summarize, std::vector<double>& out) {
  if (dim == t.dim()) {
    out.push_back(v[static_cast<std::size_t>(base)]);
    return;
  }
  for (std::int64_t i : shown(t.shape()[static_cast<std::size_t>(dim)], summarize))
    if (i >= 0) collect(t, v, strides, dim + 1, base + i * strides[static_cast<std::size_t>(dim)], summarize, out);
}

void emit(std::ostringstream& os, const Tensor& t, const std::vector<double>& v, const Shape& strides,
          std::int64_t dim, std::int64_t base, bool summarize, const Formatter& fmt, std::size_t indent) {
  if (dim == t.dim()) {
    os << fmt(v[static_cast<std::size_t>(base)]);
    return;
  }
  os << '[';
  const auto idx = shown(t.shape()[static_cast<std::size_t>(dim)], summarize);
  const bool last_dim = dim == t.dim() - 1;
  for (std::size_t k = 0; k < idx.size(); ++k) {
    if (k > 0) {
      os << ',';
      if (last_dim) {
        os << ' ';
      } else {
        os << std::string(static_cast<std::size_t>(t.dim() - dim - 1), '\n');
        os << std::string(indent + 1, ' ');
      }
    }
    if (idx[k] < 0) {
      os << "...";
      continue;
    }
    emit(os, t, v, strides, dim + 1, base + idx[k] * strides[static_cast<std::size_t>(dim)], summarize, fmt,
         indent + 1);
  }
  os << ']';
}

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  const Tensor c = detach().to(Device::cpu()).contiguous();
  const std::vector<double> v = c.to_vector<double>();
  std::ostringstream os;
  os << "tensor(";
  const bool summarize = numel() > kSummarizeAbove;
  if (numel() == 0) {
    os << "[]";
  } else {
    std::vector<double> visible;
    collect(c, v, c.strides(), 0, 0, summarize, visible);
    Formatter fmt;
    if (dtype() == DType::boolean) {
      fmt.style = Style::boolean;
    } else if (!is_floating(dtype())) {
      fmt.style = Style::integer;
    } else {
      bool whole = true;
      double max_abs = 0.0, min_abs = INFINITY;
      for (double x : visible) {
        if (!std::isfinite(x)) continue;
        whole = whole && x == std::floor(x);
        max_abs = std::max(max_abs, std::abs(x));
        if (x != 0.0) min_abs = std::min(min_abs, std::abs(x));
      }
      if (max_abs >= 1e8 || (std::isfinite(min_abs) && (min_abs < 1e-4 || max_abs / min_abs > 1e3) && !whole))
        fmt.style = Style::scientific;
      else
        fmt.style = whole ? Style::integer_valued : Style::fixed;
    }
    for (double x : visible) fmt.width = std::max(fmt.width, fmt.raw(x).size());
    emit(os, c, v, c.strides(), 0, 0, summarize, fmt, 7);
  }
  if (numel() == 0 && dim() != 1) os << ", size=" << shape_str(shape());
  if (device().is_cuda()) os << ", device='" << device().str() << "'";
  if (dtype() != DType::f32 && dtype() != DType::i64 && dtype() != DType::boolean)
    os << ", dtype=" << dtype_name(dtype());
  if (grad_fn()) {
    os << ", grad_fn=<" << grad_fn()->name() << '>';
  } else if (requires_grad()) {
    os << ", requires_grad=True";
  }
  os << ')';
  return os.str();
}

}  // namespace gnm
