// Section 9.2: dynamic shapes. One two-layer model runs at batch sizes 1, 7 and 64 with no
// change to its code; each output row is checked against a double reference within a bound
// propagated through the layers, and against the same sample run alone. Then the shape errors
// the engine reports, each naming both shapes.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/timer.hpp"
#include "gnm/tensor/ops.hpp"
#include "op_cases.hpp"
#include "sections.hpp"

namespace chapter9 {

namespace {

using gnm::Tensor;

constexpr std::int64_t kIn = 20, kHidden = 32, kClasses = 10;
constexpr double kU = 0x1p-24;  // fp32 unit roundoff

std::vector<float> uniform(std::size_t n, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(n);
  if (n > 0) gnm::fill_uniform(v, seed, lo, hi);
  return v;
}

struct Model {
  std::vector<float> w1, b1, w2, b2;  // (32, 20), (32), (10, 32), (10)
  Tensor tw1, tb1, tw2, tb2;
};

Model make_model() {
  Model m{uniform(kHidden * kIn, 91, -0.5f, 0.5f), uniform(kHidden, 92, -0.1f, 0.1f),
          uniform(kClasses * kHidden, 93, -0.5f, 0.5f), uniform(kClasses, 94, -0.1f, 0.1f),
          {}, {}, {}, {}};
  m.tw1 = gnm::from_vector(std::span<const float>(m.w1), {kHidden, kIn});
  m.tb1 = gnm::from_vector(std::span<const float>(m.b1), {kHidden});
  m.tw2 = gnm::from_vector(std::span<const float>(m.w2), {kClasses, kHidden});
  m.tb2 = gnm::from_vector(std::span<const float>(m.b2), {kClasses});
  return m;
}

//! [any_batch]
// The same code for every batch size B: shapes flow from the input.
Tensor forward(const Model& m, const Tensor& x) {             // x (B, 20)
  const Tensor h = gnm::relu(gnm::linear(x, m.tw1, m.tb1));    // (B, 32)
  return gnm::softmax(gnm::linear(h, m.tw2, m.tb2), 1);        // (B, 10)
}
//! [any_batch]

// One row in double, with a bound on each probability's error: the K-term dot products are within
// K·u·Σ|terms| (+ the bias add), hidden errors propagate through |W2|, and softmax adds
// (C + 4)·u relative plus twice the largest logit error (exp(l + δ) / Σ changes by ≤ 2δ relative).
void reference_row(const Model& m, const float* x, double* p, double* bound) {
  double h[kHidden], hb[kHidden], logit[kClasses], lb = 0.0;
  for (std::int64_t j = 0; j < kHidden; ++j) {
    double s = m.b1[j], mass = std::fabs(static_cast<double>(m.b1[j]));
    for (std::int64_t k = 0; k < kIn; ++k) {
      const double t = static_cast<double>(x[k]) * static_cast<double>(m.w1[j * kIn + k]);
      s += t;
      mass += std::fabs(t);
    }
    h[j] = std::max(s, 0.0);
    hb[j] = (kIn + 1) * kU * mass;
  }
  for (std::int64_t i = 0; i < kClasses; ++i) {
    double s = m.b2[i], mass = std::fabs(static_cast<double>(m.b2[i])), carried = 0.0;
    for (std::int64_t j = 0; j < kHidden; ++j) {
      const double w = m.w2[i * kHidden + j];
      s += w * h[j];
      mass += std::fabs(w * h[j]);
      carried += std::fabs(w) * hb[j];
    }
    logit[i] = s;
    lb = std::max(lb, (kHidden + 1) * kU * mass + carried);
  }
  const double mx = *std::max_element(logit, logit + kClasses);
  double z = 0.0;
  for (double l : logit) z += std::exp(l - mx);
  for (std::int64_t i = 0; i < kClasses; ++i) {
    p[i] = std::exp(logit[i] - mx) / z;
    bound[i] = p[i] * ((kClasses + 4) * kU + 2.0 * lb);
  }
}

struct ShapeErrorCase {
  std::string call;
  std::function<void()> run;
  std::vector<std::string> must_name;  // substrings the message must contain
};

}  // namespace

Section run_batching(const Sizes& sizes) {
  Section sec;
  std::printf("9.2 Dynamic shapes and batching\n\n");
  const Model m = make_model();
  Table batches("9.2 one model, any batch size",
                {"batch", "output shape", "max |p - ref|", "max error / bound",
                 "rows equal to the sample run alone", "µs per batch", "µs per sample"});
  for (std::int64_t B : {1, 7, 64}) {
    const auto x = uniform(static_cast<std::size_t>(B * kIn), 200 + static_cast<std::uint64_t>(B));
    const Tensor tx = gnm::from_vector(std::span<const float>(x), {B, kIn});
    const Tensor p = forward(m, tx);
    const std::vector<float> got = p.to_vector<float>();
    double worst = 0.0, ratio = 0.0;
    std::int64_t same = 0;
    for (std::int64_t r = 0; r < B; ++r) {
      double ref[kClasses], bound[kClasses];
      reference_row(m, &x[static_cast<std::size_t>(r * kIn)], ref, bound);
      const Tensor alone = forward(m, tx.narrow(0, r, 1));  // (1, 10): the sample by itself
      const std::vector<float> one = alone.to_vector<float>();
      bool equal = true;
      for (std::int64_t i = 0; i < kClasses; ++i) {
        const auto k = static_cast<std::size_t>(r * kClasses + i);
        const double err = std::fabs(static_cast<double>(got[k]) - ref[i]);
        worst = std::max(worst, err);
        ratio = std::max(ratio, err / bound[i]);
        equal = equal && one[static_cast<std::size_t>(i)] == got[k];
      }
      same += equal ? 1 : 0;
    }
    const double ms = gnm::median_time_ms(
        std::max(3, static_cast<int>(sizes.budget_ms / 5.0)), [&] { (void)forward(m, tx); }, 2);
    sec.verified = sec.verified && ratio <= 1.0 && p.shape() == gnm::Shape{B, kClasses};
    batches.add({integer(B), str(paren(p.shape())), sci(worst), num(ratio),
                 str(std::to_string(same) + " of " + std::to_string(B)), num(1e3 * ms),
                 num(1e3 * ms / static_cast<double>(B))});
  }
  sec.add(batches);

  //! [shape_errors]
  const Tensor x7 = gnm::zeros({7, 21});
  const std::vector<ShapeErrorCase> cases = {
      {"linear(x (7, 21), w1 (32, 20), b1)", [&] { (void)gnm::linear(x7, m.tw1, m.tb1); },
       {"[7, 21]", "[32, 20]"}},
      {"zeros({3, 4}) + zeros({2, 4})", [] { (void)(gnm::zeros({3, 4}) + gnm::zeros({2, 4})); },
       {"[3, 4]", "[2, 4]"}},
      {"matmul(zeros({2, 3}), zeros({4, 5}))",
       [] { (void)gnm::matmul(gnm::zeros({2, 3}), gnm::zeros({4, 5})); }, {"[2, 3]", "[4, 5]"}},
      {"zeros({3, 4}).view({5, -1})", [] { (void)gnm::zeros({3, 4}).view({5, -1}); },
       {"[3, 4]", "[5, -1]"}},
  };
  //! [shape_errors]
  Table errors("9.2 shape errors", {"call", "error", "message", "names both shapes"});
  for (const ShapeErrorCase& c : cases) {
    std::string type = "(nothing thrown)", message;
    try {
      c.run();
    } catch (const gnm::ShapeError& e) {
      type = "gnm::ShapeError";
      message = e.what();
    } catch (const gnm::Error& e) {
      type = "gnm::Error";
      message = e.what();
    }
    bool names = type == "gnm::ShapeError";
    for (const auto& s : c.must_name) names = names && message.find(s) != std::string::npos;
    sec.verified = sec.verified && names;
    errors.add({str(c.call), str(type), str(message), flag(names)});
  }
  sec.add(errors);
  return sec;
}

}  // namespace chapter9
