// The roofline figure: measured ceilings, and either chapter 2's GEMM kernels or a model's ops
// placed on them. Written by the program (roofline.svg), shown in the book.
#pragma once

#include <string>
#include <vector>

#include "bench_points.hpp"
#include "op_cost.hpp"

namespace gnm::ch01 {

/// One roofline drawn in the figure.
struct Ceiling {
  std::string name;       // legend text, e.g. "CPU, 2 threads"
  Roofline roof;          // peak and bandwidth
  std::string color;      // CSS colour
  bool dashed = false;
  bool label_ridge = true;  // false: the ridge is a bare marker (a second roof of one machine)
};

/// Builds the SVG document. With `bench` points, each kernel (and thread count) is one series
/// at its GEMM intensity and measured GFLOP/s. Without them, the `ops` are placed at their
/// intensity and their attainable GFLOP/s on `ops_roof` (they sit on that roof by construction).
/// Throws gnm::Error when there is no ceiling or a value cannot be drawn on log axes.
std::string roofline_svg(const std::string& title, const std::vector<Ceiling>& ceilings,
                         const std::vector<BenchPoint>& bench, const std::vector<OpCost>& ops,
                         const Roofline& ops_roof);

}  // namespace gnm::ch01
