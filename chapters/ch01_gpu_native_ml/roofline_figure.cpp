// Builds roofline.svg with the engine's SvgPlot.
#include "roofline_figure.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

#include "gnm/core/check.hpp"
#include "gnm/core/svg_plot.hpp"

namespace gnm::ch01 {
namespace {

// Colours for the kernels, distinct from the ceilings' blues, reds and green; enough for
// chapter 2's nine kernels (ladder v1–v5 and jki, engine AVX2 and AVX-512, OpenBLAS).
constexpr const char* kKernelColors[] = {"#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                                         "#17becf", "#bcbd22", "#7f7f7f", "#000000",
                                         "#393b79", "#8c6d31"};
constexpr const char* kGroupColors[] = {"#ff7f0e", "#9467bd", "#17becf"};  // by OpGroup

// `v` with `digits` significant digits: sig(95.123, 3) = "95.1".
std::string sig(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

double decade_below(double v) { return std::pow(10.0, std::floor(std::log10(v))); }
double decade_above(double v) { return std::pow(10.0, std::ceil(std::log10(v))); }

}  // namespace

std::string roofline_svg(const std::string& title, const std::vector<Ceiling>& ceilings,
                         const std::vector<BenchPoint>& bench, const std::vector<OpCost>& ops,
                         const Roofline& ops_roof) {
  GNM_CHECK(!ceilings.empty(), "a roofline figure needs at least one ceiling");
  // X range: whole decades around every ridge and every point, at least 0.1 to 100 FLOP/byte.
  double x_min = 0.1, x_max = 100, y_max = 0;
  for (const Ceiling& c : ceilings) {
    c.roof.validate();
    x_min = std::min(x_min, c.roof.ridge() / 4);
    x_max = std::max(x_max, c.roof.ridge() * 4);
    y_max = std::max(y_max, c.roof.peak_gflops);
  }
  for (const BenchPoint& p : bench) {
    x_min = std::min(x_min, p.intensity() / 2);
    x_max = std::max(x_max, p.intensity() * 2);
    y_max = std::max(y_max, p.gflops);
  }
  if (bench.empty()) {
    for (const OpCost& op : ops) {
      x_min = std::min(x_min, op.intensity() / 2);
      x_max = std::max(x_max, op.intensity() * 2);
    }
  }
  x_min = decade_below(x_min);
  x_max = decade_above(x_max);
  SvgPlot plot(title, {"arithmetic intensity (FLOP/byte)", AxisScale::log10, x_min, x_max},
               {"GFLOP/s (fp32)", AxisScale::log10, std::nullopt, decade_above(y_max * 1.5)},
               /*width=*/940, /*height=*/560);

  for (const Ceiling& c : ceilings) {
    const Roofline& r = c.roof;
    plot.add_series({c.name + ": " + sig(r.peak_gflops, 4) + " GFLOP/s, " +
                         sig(r.bandwidth_gbps, 4) + " GB/s",
                     {x_min, r.ridge(), x_max},
                     {x_min * r.bandwidth_gbps, r.peak_gflops, r.peak_gflops},
                     SeriesStyle::line, c.color, c.dashed});
    plot.add_point({r.ridge(), r.peak_gflops,
                    c.label_ridge ? "ridge " + sig(r.ridge(), 3) + " FLOP/B" : std::string(),
                    c.color});
  }

  if (!bench.empty()) {
    // One series per kernel and thread count, its sizes in order of intensity. A kernel keeps its
    // colour across thread counts; more than one thread is drawn dashed.
    std::map<std::pair<std::string, int>, std::vector<const BenchPoint*>> series;
    std::map<std::string, std::size_t> color_of;
    for (const BenchPoint& p : bench) {
      series[{p.kernel, p.threads}].push_back(&p);
      color_of.emplace(p.kernel, color_of.size());
    }
    for (auto& [key, points] : series) {
      std::sort(points.begin(), points.end(), [](const BenchPoint* a, const BenchPoint* b) {
        return a->intensity() < b->intensity();
      });
      PlotSeries s;
      s.name = key.first + " (" + std::to_string(key.second) +
               (key.second == 1 ? " thread)" : " threads)");
      for (const BenchPoint* p : points) {
        s.x.push_back(p->intensity());
        s.y.push_back(p->gflops);
      }
      s.style = SeriesStyle::line_and_markers;
      s.color = kKernelColors[color_of[key.first] % std::size(kKernelColors)];
      s.dashed = key.second > 1;
      plot.add_series(std::move(s));
    }
  } else if (!ops.empty()) {
    ops_roof.validate();
    for (int g = 0; g < 3; ++g) {
      plot.add_series({std::string(op_group_name(static_cast<OpGroup>(g))) + " ops", {}, {},
                       SeriesStyle::markers, kGroupColors[g]});
    }
    // Ops of one group at the same intensity share a point and a label: "relu1, relu2".
    std::map<std::tuple<int, double>, std::vector<std::string>> merged;
    for (const OpCost& op : ops) {
      const double ai = std::stod(sig(op.intensity(), 3));
      merged[{static_cast<int>(op_group(op.kind)), ai}].push_back(op.name);
    }
    for (const auto& [key, names] : merged) {
      const auto [g, ai] = key;
      std::string label = names[0];
      for (std::size_t k = 1; k < names.size() && k < 3; ++k) label += ", " + names[k];
      if (names.size() > 3) label += ", …";
      plot.add_point({ai, ops_roof.attainable_gflops(ai), label, kGroupColors[g]});
    }
  }
  return plot.render();
}

}  // namespace gnm::ch01
