// Exercise 9.1: strided indexing and a contiguous copy of any layout (task statement in
// exercises/ch09/strided.hpp).
#include "strided.hpp"

#include <string>

#include "gnm/core/check.hpp"

namespace gnm::ch09 {

namespace {

std::string dims_str(const std::vector<std::int64_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace

void check_layout(const Layout& layout, std::size_t storage_size) {
  GNM_CHECK_SHAPE(layout.shape.size() == layout.strides.size(),
                  "layout: shape and strides differ in length", dims_str(layout.shape),
                  dims_str(layout.strides));
  GNM_CHECK_SHAPE(layout.offset >= 0, "layout: negative offset", layout.offset);
  std::int64_t last = layout.offset;  // the largest storage index the layout reaches
  bool empty = false;
  for (std::size_t d = 0; d < layout.shape.size(); ++d) {
    GNM_CHECK_SHAPE(layout.shape[d] >= 0 && layout.strides[d] >= 0,
                    "layout: negative size or stride", d, dims_str(layout.shape),
                    dims_str(layout.strides));
    if (layout.shape[d] == 0) empty = true;
    else last += (layout.shape[d] - 1) * layout.strides[d];
  }
  const auto size = static_cast<std::int64_t>(storage_size);
  GNM_CHECK(empty || last < size, "layout reaches outside its storage", layout.offset, last, size);
}

//! [element_offset]
std::int64_t element_offset(const Layout& layout, std::span<const std::int64_t> index) {
  GNM_CHECK_SHAPE(index.size() == layout.shape.size(), "element_offset: wrong number of indices",
                  index.size(), dims_str(layout.shape));
  // BEGIN SOLUTION("ex 9.1", "start at layout.offset; for each d check 0 <= index[d] < shape[d] (GNM_CHECK naming d, index[d], shape[d]) and add index[d] * strides[d]")
  std::int64_t pos = layout.offset;
  for (std::size_t d = 0; d < index.size(); ++d) {
    const std::int64_t i = index[d], size = layout.shape[d];
    GNM_CHECK(i >= 0 && i < size, "element_offset: index out of range", d, i, size);
    pos += i * layout.strides[d];
  }
  return pos;
  // END SOLUTION
}
//! [element_offset]

//! [contiguous_copy]
std::vector<float> contiguous_copy(std::span<const float> storage, const Layout& layout) {
  check_layout(layout, storage.size());
  std::int64_t numel = 1;
  for (std::int64_t s : layout.shape) numel *= s;
  std::vector<float> out(static_cast<std::size_t>(numel));
  // BEGIN SOLUTION("ex 9.1", "keep idx (one counter per dim, all 0) and pos = offset; for k in [0, numel): out[k] = storage[pos]; then from the last dim outwards: ++idx[d], pos += strides[d]; if idx[d] < shape[d] stop, else pos -= shape[d] * strides[d], idx[d] = 0 and carry into d - 1")
  const auto nd = static_cast<std::int64_t>(layout.shape.size());
  std::vector<std::int64_t> idx(layout.shape.size(), 0);
  std::int64_t pos = layout.offset;
  for (std::int64_t k = 0; k < numel; ++k) {
    out[static_cast<std::size_t>(k)] = storage[static_cast<std::size_t>(pos)];
    // Step the odometer: the last index moves fastest. A wrap undoes that dimension's whole
    // travel, (shape[d] − 1)·strides[d] plus the step just taken, and carries one to the left.
    for (std::int64_t d = nd - 1; d >= 0; --d) {
      const auto u = static_cast<std::size_t>(d);
      ++idx[u];
      pos += layout.strides[u];
      if (idx[u] < layout.shape[u]) break;
      pos -= layout.shape[u] * layout.strides[u];
      idx[u] = 0;
    }
  }
  // END SOLUTION
  return out;
}
//! [contiguous_copy]

}  // namespace gnm::ch09
