// Section 9.6: broadcasting and views. Broadcast products and their backward, where each input's
// gradient is the output gradient summed back to its shape (checked with exercise 9.2); then the
// view ops on one (2, 3, 4) tensor, which share its storage (checked with exercise 9.1), and a
// gradient flowing back through a chain of views.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "gnm/tensor/ops.hpp"
#include "op_cases.hpp"
#include "reduce_to_shape.hpp"
#include "sections.hpp"
#include "strided.hpp"

namespace chapter9 {

namespace {

using gnm::Shape;
using gnm::Tensor;
constexpr double kU = 0x1p-24;

}  // namespace

Section run_broadcast_views() {
  Section sec;
  std::printf("9.6 Broadcasting and views\n\n");
  Table bcast("9.6 broadcasting and its backward",
              {"a", "b", "a * b", "a.grad", "b.grad", "max |grad - ex 9.2|", "bound", "ok"});
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 1}, {1, 4}}, {{2, 3, 4}, {4}}, {{5, 1, 3}, {4, 1}}, {{1}, {7, 1, 13}}, {{6, 1}, {}}};
  std::uint64_t seed = 600;
  for (const auto& [sa, sb] : shapes) {
    //! [broadcast_backward]
    Tensor a = uniform_tensor(sa, ++seed, -1.0f, 1.0f).requires_grad_(true);
    Tensor b = uniform_tensor(sb, ++seed, -1.0f, 1.0f).requires_grad_(true);
    const Tensor c = a * b;  // broadcast to gnm::broadcast_shapes(sa, sb)
    const Tensor g = uniform_tensor(c.shape(), ++seed, -1.0f, 1.0f);
    c.backward(g);  // a.grad = sum_to(g * b, sa), and for b
    //! [broadcast_backward]
    // The same by hand: g ⊙ (the other operand expanded), reduced with exercise 9.2.
    const auto check = [&](const Tensor& self, const Tensor& other) {
      const std::vector<float> prod = (g * other.detach().expand(c.shape())).to_vector<float>();
      const std::vector<float> want = gnm::ch09::reduce_to_shape(prod, c.shape(), self.shape());
      const std::vector<float> got = self.grad().to_vector<float>();
      double err = 0.0;
      for (std::size_t i = 0; i < want.size(); ++i) {
        err = std::max(err, std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i])));
      }
      return got.size() == want.size() ? err : HUGE_VAL;
    };
    const double err = std::max(check(a, b), check(b, a));
    // A gradient element sums K = numel(c) / numel(input) products of magnitude < 1, so the
    // engine's float sum is within K·u·K of the exact one (Higham) and exercise 9.2's within u·K.
    const auto k =
        static_cast<double>(c.numel()) / static_cast<double>(std::min(a.numel(), b.numel()));
    const double bound = (k * k + k) * kU;
    const bool ok = err <= bound && a.grad().shape() == sa && b.grad().shape() == sb;
    sec.verified = sec.verified && ok;
    bcast.add({str(paren(sa)), str(paren(sb)), str(paren(c.shape())), str(paren(a.grad().shape())),
               str(paren(b.grad().shape())), sci(err), sci(bound), flag(ok)});
  }
  sec.add(bcast);

  //! [views]
  const Tensor x = gnm::arange(24).to(gnm::DType::f32).view({2, 3, 4});
  const std::vector<std::pair<std::string, Tensor>> views = {
      {"x.view({6, 4})", x.view({6, 4})},
      {"x.transpose(0, 2)", x.transpose(0, 2)},
      {"x.permute({2, 0, 1})", x.permute({2, 0, 1})},
      {"x.slice(2, 1, 4, 2)", x.slice(2, 1, 4, 2)},
      {"x.narrow(1, 1, 2)", x.narrow(1, 1, 2)},
      {"x.select(1, 2)", x.select(1, 2)},
      {"x.unsqueeze(1)", x.unsqueeze(1)},
      {"x.narrow(0, 1, 1).squeeze()", x.narrow(0, 1, 1).squeeze()},
      {"x.select(2, 0).unsqueeze(2).expand({2, 3, 5})",
       x.select(2, 0).unsqueeze(2).expand({2, 3, 5})},
      {"x.flatten()", x.flatten()},
      {"x.transpose(0, 2).reshape({24})", x.transpose(0, 2).reshape({24})},  // must copy
      {"x.transpose(0, 2).contiguous()", x.transpose(0, 2).contiguous()},    // copies
  };
  //! [views]
  Table vt("9.6 views of x = arange(24).view({2, 3, 4})",
           {"view", "shape", "strides", "offset", "shares x's storage", "contiguous",
            "ex 9.1 copy agrees"});
  const std::span<const float> storage(static_cast<const float*>(x.storage()->data()), 24);
  for (const auto& [name, v] : views) {
    const bool shares = v.storage() == x.storage();
    // A copy's values are checked in its own storage: only views are read through x's.
    bool agrees = true;
    if (shares) {
      const gnm::ch09::Layout layout{v.shape(), v.strides(), v.offset()};
      agrees = gnm::ch09::contiguous_copy(storage, layout) == v.contiguous().to_vector<float>();
    }
    const bool copies =
        name.find("reshape") != std::string::npos || name.find("contiguous()") != std::string::npos;
    const bool ok = agrees && shares != copies;
    sec.verified = sec.verified && ok;
    vt.add({str(name), str(paren(v.shape())), str(paren(v.strides())), integer(v.offset()),
            yes_no(shares), yes_no(v.is_contiguous()), flag(agrees)});
  }
  sec.add(vt);

  //! [view_backward]
  Tensor leaf = gnm::zeros({3, 4}, {.requires_grad = true});
  gnm::sum(leaf.t().slice(0, 1, 4, 2) * 2.0).backward();  // columns 1 and 3 of leaf, times 2
  //! [view_backward]
  std::printf("gradient through t().slice(0, 1, 4, 2): leaf.grad =\n%s\n\n",
              leaf.grad().str().c_str());
  const std::vector<float> want = {0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2};
  sec.verified = sec.verified && leaf.grad().to_vector<float>() == want;
  return sec;
}

}  // namespace chapter9
