#include "gnm/tensor/shape.hpp"

#include <limits>
#include <sstream>

#include "gnm/core/check.hpp"

namespace gnm {

std::int64_t shape_numel(std::span<const std::int64_t> shape) {
  bool empty = false;  // a zero size makes any shape empty, however large the others (as PyTorch)
  for (const std::int64_t s : shape) {
    GNM_CHECK_SHAPE(s >= 0, "negative size in shape", shape_str(shape));
    empty = empty || s == 0;
  }
  if (empty) return 0;
  std::int64_t n = 1;
  for (const std::int64_t s : shape) {
    GNM_CHECK_SHAPE(s == 0 || n <= std::numeric_limits<std::int64_t>::max() / s,
                    "shape has too many elements", shape_str(shape));
    n *= s;
  }
  return n;
}

Shape contiguous_strides(std::span<const std::int64_t> shape) {
  Shape strides(shape.size());
  std::int64_t s = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    // Only an empty shape can get here with sizes whose product overflows (shape_numel rejects
    // the others): its strides are never used to address memory, so saturate instead of wrapping.
    if (__builtin_mul_overflow(s, shape[i] > 0 ? shape[i] : 1, &s))
      s = std::numeric_limits<std::int64_t>::max();
  }
  return strides;
}

std::string shape_str(std::span<const std::int64_t> shape) {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

std::int64_t wrap_dim(std::int64_t dim, std::int64_t ndim) {
  const std::int64_t n = ndim > 0 ? ndim : 1;
  GNM_CHECK_SHAPE(dim >= -n && dim < n, "dimension out of range", dim, ndim);
  return dim < 0 ? dim + n : dim;
}

Shape broadcast_shapes(std::span<const std::int64_t> a, std::span<const std::int64_t> b) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t sa = i < a.size() ? a[a.size() - 1 - i] : 1;
    const std::int64_t sb = i < b.size() ? b[b.size() - 1 - i] : 1;
    GNM_CHECK_SHAPE(sa == sb || sa == 1 || sb == 1, "shapes cannot be broadcast together",
                    shape_str(a), shape_str(b));
    out[n - 1 - i] = sa == 1 ? sb : sa;
  }
  return out;
}

void check_shape(std::span<const std::int64_t> shape, const char* what) {
  GNM_CHECK_SHAPE(shape.size() <= static_cast<std::size_t>(kMaxDims), "too many dimensions",
                  what, shape_str(shape), kMaxDims);
  for (const std::int64_t s : shape)
    GNM_CHECK_SHAPE(s >= 0, "negative size in shape", what, shape_str(shape));
  (void)shape_numel(shape);
}

}  // namespace gnm
