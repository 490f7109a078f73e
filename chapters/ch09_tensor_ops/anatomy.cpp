// Section 9.1: what a gnm::Tensor is — a shared Storage plus shape, strides (in elements), offset
// and dtype — shown on a 3 × 4 tensor, its views, a write through a view, and dtype conversions.
// Every layout is checked with exercise 9.1 (element_offset, contiguous_copy) against the engine.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "gnm/tensor/ops.hpp"
#include "op_cases.hpp"
#include "sections.hpp"
#include "strided.hpp"

namespace chapter9 {

namespace {

using gnm::DType;
using gnm::Tensor;

std::span<const float> storage_floats(const Tensor& t) {
  return {static_cast<const float*>(t.storage()->data()), t.storage()->nbytes() / sizeof(float)};
}

// Exercise 9.1's view of the layout agrees with the engine: every element found by
// element_offset, and contiguous_copy equal to Tensor::contiguous().
bool layout_agrees(const Tensor& t) {
  const gnm::ch09::Layout layout{t.shape(), t.strides(), t.offset()};
  const std::span<const float> storage = storage_floats(t);
  const std::vector<float> want = t.contiguous().to_vector<float>();
  if (gnm::ch09::contiguous_copy(storage, layout) != want) return false;
  std::vector<std::int64_t> idx(t.shape().size(), 0);
  for (std::size_t k = 0; k < want.size(); ++k) {
    std::int64_t rest = static_cast<std::int64_t>(k);
    for (std::size_t d = idx.size(); d-- > 0;) {
      idx[d] = rest % t.shape()[d];
      rest /= t.shape()[d];
    }
    const std::int64_t pos = gnm::ch09::element_offset(layout, idx);
    if (storage[static_cast<std::size_t>(pos)] != want[k]) return false;
  }
  return true;
}

}  // namespace

Section run_anatomy() {
  Section sec;
  std::printf("9.1 Tensor anatomy\n\n");
  //! [anatomy]
  const Tensor x = gnm::arange(12).to(DType::f32).view({3, 4});  // (3, 4), strides (4, 1)
  const Tensor xt = x.t();                     // (4, 3), strides (1, 4): the same 12 floats
  const Tensor row = x.select(0, 1);           // (4), offset 4
  const Tensor col = x.select(1, 2);           // (3), stride 4, offset 2
  const Tensor odd = x.slice(1, 1, 4, 2);      // (3, 2), columns 1 and 3
  const Tensor wide = row.unsqueeze(0).expand({5, 4});  // (5, 4), stride 0 along the rows
  const Tensor copy = xt.contiguous();         // (4, 3), a new row-major storage
  //! [anatomy]
  std::printf("x =\n%s\nx.t() =\n%s\n\n", x.str().c_str(), xt.str().c_str());

  Table layouts("9.1 layouts",
                {"tensor", "shape", "strides", "offset", "contiguous", "shares x's storage",
                 "ex 9.1 agrees"});
  const std::vector<std::pair<std::string, Tensor>> views = {
      {"x", x},           {"x.t()", xt},       {"x.select(0, 1)", row}, {"x.select(1, 2)", col},
      {"x.slice(1, 1, 4, 2)", odd}, {"row.unsqueeze(0).expand({5, 4})", wide},
      {"x.t().contiguous()", copy}};
  for (const auto& [name, t] : views) {
    const bool shares = t.storage() == x.storage();
    const bool agrees = layout_agrees(t);
    // Every view shares x's storage; only the contiguous copy does not.
    sec.verified = sec.verified && agrees && (shares == (name != "x.t().contiguous()"));
    layouts.add({str(name), str(paren(t.shape())), str(paren(t.strides())),
                 integer(t.offset()), yes_no(t.is_contiguous()), yes_no(shares), flag(agrees)});
  }
  sec.add(layouts);

  //! [write_through_view]
  Tensor y = gnm::arange(6).to(DType::f32).view({2, 3});  // [[0, 1, 2], [3, 4, 5]]
  y.t().select(0, 2).fill_(-1.0);  // row 2 of the transposed view is column 2 of y
  //! [write_through_view]
  const std::vector<float> want_y = {0, 1, -1, 3, 4, -1};
  const bool write_ok = y.to_vector<float>() == want_y;
  sec.verified = sec.verified && write_ok;
  std::printf("y.t().select(0, 2).fill_(-1) writes through the view: y =\n%s\n\n",
              y.str().c_str());

  // Conversions: z in [-0.5, 1.1) with fractions, to each dtype and back to f32.
  const Tensor z = x / 7.0 - 0.5;
  const std::vector<float> zf = z.to_vector<float>();
  Table dtypes("9.1 dtype conversions",
               {"dtype", "bytes", "first row printed", "max |back to f32 - z|", "bound", "ok"});
  struct Conv {
    DType dtype;
    double bound;  // |z − back| for |z| < 2: the spacing of the format around 1, or truncation
  };
  for (const Conv& c : {Conv{DType::f64, 0.0}, Conv{DType::f16, 0x1p-11}, Conv{DType::bf16, 0x1p-8},
                        Conv{DType::i32, 1.0}, Conv{DType::i64, 1.0}, Conv{DType::boolean, 1.5}}) {
    const Tensor converted = z.to(c.dtype);
    const std::vector<float> back = converted.to(DType::f32).to_vector<float>();
    double err = 0.0;
    for (std::size_t i = 0; i < zf.size(); ++i) {
      err = std::max(err, std::fabs(static_cast<double>(back[i]) - static_cast<double>(zf[i])));
    }
    const bool ok = err <= c.bound && converted.dtype() == c.dtype;
    sec.verified = sec.verified && ok;
    std::string first = converted.select(0, 0).str();
    dtypes.add({str(std::string(gnm::dtype_name(c.dtype))),
                integer(static_cast<std::int64_t>(converted.element_size())),
                str(first), sci(err), sci(c.bound), flag(ok)});
  }
  sec.add(dtypes);
  return sec;
}

}  // namespace chapter9
