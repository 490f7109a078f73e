// The roofline figure: ceilings, ridge points, and kernels or ops placed on them.
#include <gtest/gtest.h>

#include <string>

#include "gnm/core/error.hpp"
#include "op_cost.hpp"
#include "roofline_figure.hpp"

using namespace gnm::ch01;

namespace {

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

const std::vector<Ceiling> kCeilings = {
    {"CPU, 1 thread", {100, 20}, "#1f77b4", false, true},
    {"CPU, 2 threads", {200, 30}, "#d62728", false, true},
};

}  // namespace

TEST(RooflineFigure, KernelsBecomeSeriesAtTheirIntensity) {
  std::vector<BenchPoint> bench = {
      {"engine_sgemm", 1, 1024, 1024, 1024, 90},
      {"engine_sgemm", 1, 256, 256, 256, 60},
      {"openblas_sgemm", 2, 1024, 1024, 1024, 170},
  };
  const std::string svg = roofline_svg("Roofline <test>", kCeilings, bench, {}, {100, 20});
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_NE(svg.find("Roofline &lt;test&gt;"), std::string::npos);
  EXPECT_NE(svg.find(">CPU, 1 thread: 100 GFLOP/s, 20 GB/s</text>"), std::string::npos);
  EXPECT_NE(svg.find(">ridge 5 FLOP/B</text>"), std::string::npos);     // 100 / 20
  EXPECT_NE(svg.find(">ridge 6.67 FLOP/B</text>"), std::string::npos);  // 200 / 30
  EXPECT_NE(svg.find(">engine_sgemm (1 thread)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">openblas_sgemm (2 threads)</text>"), std::string::npos);
  EXPECT_EQ(count(svg, "<polyline"), 3);  // two rooflines and the two-point engine series
}

TEST(RooflineFigure, WithoutKernelsTheModelOpsSitOnTheRoof) {
  MlpShape s;
  const auto ops = mlp_ops(s);
  const std::string svg = roofline_svg("mlp", kCeilings, {}, ops, {200, 30});
  EXPECT_NE(svg.find(">GEMM/conv ops</text>"), std::string::npos);
  EXPECT_NE(svg.find(">elementwise/pooling ops</text>"), std::string::npos);
  for (const char* name : {">fc1", ">relu", ">softmax"}) {
    EXPECT_NE(svg.find(name), std::string::npos) << name;
  }
}

TEST(RooflineFigure, NeedsAValidCeiling) {
  EXPECT_THROW(roofline_svg("t", {}, {}, {}, {1, 1}), gnm::Error);
  EXPECT_THROW(roofline_svg("t", {{"bad", {0, 10}, "#000000", false, true}}, {}, {}, {1, 1}),
               gnm::Error);
}

TEST(RooflineFigure, TwoRoofsOfOneMachineLabelOnlyTheWiderRidge) {
  // Chapter 1's AVX-512 and AVX2 ceilings: same bandwidth, two peaks; the AVX2 ridge is a bare
  // marker so that its label does not collide with the AVX-512 one just above it.
  const std::vector<Ceiling> roofs = {
      {"CPU AVX-512, 1 thread", {200, 20}, "#1f77b4", false, true},
      {"CPU AVX2, 1 thread", {100, 20}, "#aec7e8", false, false},
  };
  const std::string svg = roofline_svg("two roofs", roofs, {}, {}, {200, 20});
  EXPECT_NE(svg.find(">CPU AVX-512, 1 thread: 200 GFLOP/s, 20 GB/s</text>"), std::string::npos);
  EXPECT_NE(svg.find(">CPU AVX2, 1 thread: 100 GFLOP/s, 20 GB/s</text>"), std::string::npos);
  EXPECT_NE(svg.find(">ridge 10 FLOP/B</text>"), std::string::npos);  // 200 / 20
  EXPECT_EQ(svg.find(">ridge 5 FLOP/B</text>"), std::string::npos);   // 100 / 20: unlabelled
  EXPECT_EQ(count(svg, "<polyline"), 2);
}
