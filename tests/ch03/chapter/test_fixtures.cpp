// Chapter 3 against PyTorch: every primitive's output and vector-Jacobian product, and the small
// MLP's loss and parameter gradients, compared with tests/fixtures/ch03/primitives.json (made by
// scripts/fixtures/ch03_autodiff.py with torch.autograd in float64).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "fixtures_json.hpp"
#include "sections.hpp"
#include "tape.hpp"

namespace {

using chapter3::Matrix;
using chapter3::Tape;
using chapter3::Var;
using gnm::ch03::Op;

using nlohmann::json;

const json& fixtures() {
  static const json doc = gnm::testing::load_json(GNM_CH03_FIXTURES "/primitives.json");
  return doc;
}

Matrix to_matrix(const json& m) {
  std::vector<double> v;
  for (const auto& x : m.at("data")) v.push_back(x.get<double>());
  return Matrix(m.at("shape").at(0).get<std::int64_t>(), m.at("shape").at(1).get<std::int64_t>(),
                std::move(v));
}

Op op_named(const std::string& name) {
  for (int k = 0; k < gnm::ch03::kOpCount; ++k) {
    if (name == gnm::ch03::op_name(static_cast<Op>(k))) return static_cast<Op>(k);
  }
  throw gnm::Error("fixture names an unknown op '" + name + "'");
}

// Both sides compute in double, in possibly different orders: each entry is a short sum of
// products (K ≤ 7 terms) or one elementary function, so they differ by at most a few times
// K·eps relative to the terms. 64·eps·max(1, |ref|) covers it with room, and is still 10^11
// times smaller than any real mistake in a rule.
void expect_matrix_near(const Matrix& got, const Matrix& want, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  const double eps = std::numeric_limits<double>::epsilon();
  for (std::size_t i = 0; i < want.values().size(); ++i) {
    const double w = want.values()[i];
    EXPECT_NEAR(got.values()[i], w, 64 * eps * std::max(1.0, std::fabs(w))) << what << " element " << i;
  }
}

TEST(Ch03Fixtures, EveryPrimitiveMatchesPyTorch) {
  std::set<std::string> seen;
  for (const auto& c : fixtures().at("cases")) {
    const std::string name = c.at("op").get<std::string>();
    SCOPED_TRACE(name);
    seen.insert(name);
    const Op op = op_named(name);
    std::vector<std::int32_t> labels;
    if (c.contains("labels")) {
      for (const auto& l : c.at("labels")) labels.push_back(l.get<std::int32_t>());
    }
    const double scalar = c.contains("scalar") ? c.at("scalar").get<double>() : 0.0;

    Tape tape;
    std::vector<Var> inputs;
    for (const auto& m : c.at("inputs")) inputs.push_back(tape.leaf(to_matrix(m), "in"));
    const Var y = tape.apply(op, inputs[0], inputs.size() > 1 ? &inputs[1] : nullptr, scalar, labels);
    expect_matrix_near(tape.value(y), to_matrix(c.at("output")), name + " output");
    // Seeding y with PyTorch's gy makes the input gradients exactly the rule's VJP.
    const Matrix gy = to_matrix(c.at("grad_output"));
    tape.backward(y, &gy);
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      expect_matrix_near(tape.grad(inputs[k]), to_matrix(c.at("grads").at(k)),
                         name + " grad " + std::to_string(k));
    }
  }
  // Every primitive of the chapter has a fixture.
  for (int k = 0; k < gnm::ch03::kOpCount; ++k) {
    const auto op = static_cast<Op>(k);
    if (gnm::ch03::op_arity(op) >= 1) {
      EXPECT_TRUE(seen.count(gnm::ch03::op_name(op))) << gnm::ch03::op_name(op);
    }
  }
}

TEST(Ch03Fixtures, SmallMlpMatchesPyTorch) {
  const auto& f = fixtures().at("mlp");
  chapter3::SmallMlp m;
  m.x = to_matrix(f.at("x"));
  m.w1 = to_matrix(f.at("params").at(0));
  m.b1 = to_matrix(f.at("params").at(1));
  m.w2 = to_matrix(f.at("params").at(2));
  m.b2 = to_matrix(f.at("params").at(3));
  for (const auto& l : f.at("labels")) m.labels.push_back(l.get<std::int32_t>());
  Tape tape;
  std::vector<Var> params;
  const Var loss = chapter3::record_small_mlp(tape, m, params);
  EXPECT_NEAR(tape.value(loss)(0, 0), f.at("loss").get<double>(),
              64 * std::numeric_limits<double>::epsilon());
  tape.backward(loss);
  for (std::size_t k = 0; k < params.size(); ++k) {
    expect_matrix_near(tape.grad(params[k]), to_matrix(f.at("grads").at(k)),
                       "param " + std::to_string(k));
  }
}

TEST(Ch03Fixtures, ParserRejectsGarbage) {
  EXPECT_THROW(gnm::testing::parse_json("{\"a\": }"), gnm::IoError);
  EXPECT_THROW(gnm::testing::parse_json("[1, 2"), gnm::IoError);
  EXPECT_EQ(gnm::testing::parse_json("[1.5e-3, true, null, \"s\"]").at(0).get<double>(), 1.5e-3);
}

}  // namespace
