/// \file
/// SvgPlot: a small SVG chart writer for the book's figures (rooflines, training curves,
/// benchmark comparisons), so that every figure is made by a program from measured numbers.
///
/// \code
/// gnm::SvgPlot plot("Roofline", {"arithmetic intensity (FLOP/byte)", gnm::AxisScale::log10},
///                   {"GFLOP/s", gnm::AxisScale::log10});
/// plot.add_series({.name = "1 thread", .x = {0.1, 3.2, 100}, .y = {3, 96, 96}});
/// plot.add_point({.x = 170, .y = 80, .text = "sgemm 1024"});
/// gnm::write_file_atomic("roofline.svg", plot.render());
/// \endcode
///
/// Axes are linear or base-10 logarithmic, with ticks, grid lines and labels. Limits are fixed by
/// the caller or chosen from the data (whole decades on a log axis, "nice" steps of 1, 2 or 5 on a
/// linear one). Every value is checked when it is added: a non-finite value, or a value <= 0 on a
/// log axis, throws gnm::Error naming the series and the value, so a bad measurement can never turn
/// into a silently broken figure. Text is escaped for XML. The output is a self-contained SVG 1.1
/// document (no scripts, no external fonts or styles).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gnm {

/// How an axis maps data values to positions.
enum class AxisScale {
  linear,  ///< Equal distances for equal differences.
  log10,   ///< Equal distances for equal ratios; every value must be > 0.
};

/// One axis of a plot.
struct PlotAxis {
  std::string label{};                  ///< Text beside the axis, e.g. "GFLOP/s".
  AxisScale scale = AxisScale::linear;  ///< Linear or logarithmic.
  std::optional<double> min{};          ///< Lower limit; chosen from the data when empty.
  std::optional<double> max{};          ///< Upper limit; chosen from the data when empty.
};

/// How a series is drawn.
enum class SeriesStyle {
  line,              ///< A polyline through the points, in order.
  markers,           ///< A dot at each point.
  line_and_markers,  ///< Both.
};

/// A named sequence of (x, y) points; x and y must have the same length.
struct PlotSeries {
  std::string name{};                     ///< Legend entry; an empty name has none.
  std::vector<double> x{};                ///< X values.
  std::vector<double> y{};                ///< Y values, y[i] belongs to x[i].
  SeriesStyle style = SeriesStyle::line;  ///< Line, markers or both.
  std::string color{};                    ///< CSS colour ("#1f77b4"); empty = next palette colour.
  bool dashed = false;                    ///< Draw the line dashed.
};

/// A single dot with a text label beside it (labels are nudged apart when they would overlap).
struct PlotPoint {
  double x = 0;         ///< X value.
  double y = 0;         ///< Y value.
  std::string text{};   ///< Label; may be empty.
  std::string color{};  ///< CSS colour; empty = dark grey.
};

/// The plot area inside the SVG, in pixels (y grows downwards, as in SVG).
struct PlotArea {
  double left = 0;    ///< X of the left edge.
  double top = 0;     ///< Y of the top edge.
  double width = 0;   ///< Width in pixels.
  double height = 0;  ///< Height in pixels.
};

/// A chart being built; add series and points, then render() it to an SVG document.
class SvgPlot {
 public:
  /// A plot of `width` × `height` pixels. Throws gnm::Error when the size is below 240 × 180,
  /// when an axis has min >= max, or when a log axis has a limit <= 0 (naming the value).
  SvgPlot(std::string title, PlotAxis x_axis, PlotAxis y_axis, int width = 860, int height = 540);

  /// Adds a series. Throws gnm::ShapeError when x and y differ in length, gnm::Error for a
  /// non-finite value or a value <= 0 on a log axis (naming the series, the index and the value).
  void add_series(PlotSeries series);

  /// Adds a labelled point; the same checks as add_series().
  void add_point(PlotPoint point);

  /// The x limits the plot uses: the fixed ones, or those chosen from the data added so far.
  std::pair<double, double> x_limits() const;
  /// The y limits the plot uses (see x_limits()).
  std::pair<double, double> y_limits() const;

  /// The plot area in pixels, which depends on the legend (so on the series added so far).
  PlotArea area() const;
  /// The horizontal pixel position of data value `x` with the current limits and area.
  double x_pixel(double x) const;
  /// The vertical pixel position of data value `y` with the current limits and area.
  double y_pixel(double y) const;

  /// The complete SVG document (UTF-8). Points outside the limits are clipped to the plot area.
  std::string render() const;

 private:
  std::string title_;
  PlotAxis x_axis_;
  PlotAxis y_axis_;
  int width_;
  int height_;
  std::vector<PlotSeries> series_;
  std::vector<PlotPoint> points_;
};

/// Escapes `text` for XML character data and attribute values: & < > " ' become entities, and
/// control characters that XML 1.0 forbids (all below 0x20 except tab, newline and carriage
/// return) are dropped. UTF-8 passes through unchanged.
std::string xml_escape(std::string_view text);

/// Formats a tick value compactly: "0", "0.5", "20", "1000", "1e6", "2.5e-5".
std::string format_tick(double value);

}  // namespace gnm
