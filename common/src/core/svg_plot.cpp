#include "gnm/core/svg_plot.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include "gnm/core/check.hpp"
#include "gnm/core/error.hpp"

namespace gnm {
namespace {

// Tableau 10: distinguishable in colour and reasonably so in grey scale.
constexpr std::array<const char*, 10> kPalette = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                  "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                                  "#bcbd22", "#17becf"};

// Layout in pixels, for 12 px text.
constexpr double kMarginLeft = 76;
constexpr double kMarginTop = 48;
constexpr double kMarginBottom = 58;
constexpr double kMarginRightBare = 24;
constexpr double kLegendGap = 16;
constexpr double kLegendSample = 30;  // line/marker sample plus the gap before the text
constexpr double kLegendRow = 18;
constexpr double kCharWidth = 7.2;    // average advance of 12 px DejaVu Sans (0.6 em)
constexpr double kLabelHeight = 14;

const char* axis_name(bool is_x) { return is_x ? "x" : "y"; }

// Exact decade of a positive value: the e with 10^e <= v < 10^(e+1). std::log10 may be off by
// one ulp near powers of ten, so the estimate is corrected against std::pow.
int decade_floor(double v) {
  int e = static_cast<int>(std::floor(std::log10(v)));
  if (std::pow(10.0, e + 1) <= v) ++e;
  if (std::pow(10.0, e) > v) --e;
  return e;
}

// A step of 1, 2 or 5 times a power of ten close to `raw`.
double nice_step(double raw) {
  const double p = std::pow(10.0, decade_floor(raw));
  const double m = raw / p;
  return (m < 1.5 ? 1.0 : m < 3.5 ? 2.0 : m < 7.5 ? 5.0 : 10.0) * p;
}

double transform(double v, AxisScale s) { return s == AxisScale::log10 ? std::log10(v) : v; }

void check_value(double v, AxisScale s, bool is_x, const std::string& what, std::size_t index) {
  if (!std::isfinite(v)) {
    throw Error(std::string("plot: ") + what + " has a non-finite " + axis_name(is_x) +
                " value at index " + std::to_string(index) + ": " + std::to_string(v));
  }
  if (s == AxisScale::log10 && v <= 0) {
    throw Error(std::string("plot: ") + what + " has " + axis_name(is_x) + " = " +
                format_tick(v) + " at index " + std::to_string(index) +
                ", but the " + axis_name(is_x) + " axis is logarithmic (values must be > 0)");
  }
}

void check_axis(const PlotAxis& a, bool is_x) {
  const std::string name = std::string(axis_name(is_x)) + " axis";
  for (const auto& lim : {a.min, a.max}) {
    if (!lim) continue;
    GNM_CHECK(std::isfinite(*lim), "plot: " + name + " limits must be finite", *lim);
    GNM_CHECK(a.scale != AxisScale::log10 || *lim > 0,
              "plot: " + name + " is logarithmic, its limits must be > 0", *lim);
  }
  if (a.min && a.max) {
    GNM_CHECK(*a.min < *a.max, "plot: " + name + " needs min < max", *a.min, *a.max);
  }
}

// Display width of UTF-8 text: wide (CJK, three-byte and longer) code points count double.
double text_width(std::string_view s) {
  double chars = 0;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u & 0xC0) == 0x80) continue;  // continuation byte
    chars += u >= 0xE0 ? 2.0 : 1.0;
  }
  return chars * kCharWidth;
}

// Cuts `s` at a code-point boundary so that it fits in `width` pixels, marking the cut with "…".
std::string fit_text(const std::string& s, double width) {
  if (text_width(s) <= width) return s;
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = 1;
    const auto u = static_cast<unsigned char>(s[i]);
    if (u >= 0xF0) len = 4; else if (u >= 0xE0) len = 3; else if (u >= 0xC0) len = 2;
    const std::string next = out + s.substr(i, len);
    if (text_width(next) + kCharWidth > width) break;
    out = next;
    i += len;
  }
  return out + "\xE2\x80\xA6";  // U+2026 HORIZONTAL ELLIPSIS
}

std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

struct Tick {
  double value;
  bool major;    // grid line drawn darker
  bool labeled;  // has a text label
};

std::vector<Tick> make_ticks(double lo, double hi, AxisScale s) {
  std::vector<Tick> ticks;
  if (s == AxisScale::linear) {
    const double step = nice_step((hi - lo) / 5.0);
    const auto k0 = static_cast<long long>(std::ceil(lo / step - 1e-9));
    const auto k1 = static_cast<long long>(std::floor(hi / step + 1e-9));
    for (long long k = k0; k <= k1; ++k) {
      double v = static_cast<double>(k) * step;
      if (std::fabs(v) < step * 1e-9) v = 0;
      ticks.push_back({v, true, true});
    }
    return ticks;
  }
  const int e0 = decade_floor(lo);
  const int e1 = decade_floor(hi);
  const int decades = e1 - e0 + 1;
  const int stride = std::max(1, (decades + 9) / 10);  // at most ~10 decade labels
  const bool label_minor = decades <= 2;               // few decades: label 2 and 5 as well
  const double tol = 1e-9;
  for (int e = e0; e <= e1; ++e) {
    const double p = std::pow(10.0, e);
    for (int m = 1; m <= 9; ++m) {
      const double v = m * p;
      if (v < lo * (1 - tol) || v > hi * (1 + tol)) continue;
      if (m == 1) {
        ticks.push_back({v, true, (e - e0) % stride == 0});
      } else if (decades <= 6) {
        ticks.push_back({v, false, label_minor && (m == 2 || m == 5)});
      }
    }
  }
  return ticks;
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        out.push_back(c);
    }
  }
  return out;
}

std::string format_tick(double value) {
  if (value == 0) return "0";
  if (!std::isfinite(value)) return std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
  char buf[48];
  const double a = std::fabs(value);
  if (a >= 1e-3 && a < 1e6) {
    std::snprintf(buf, sizeof buf, "%.6g", value);
    return buf;
  }
  // 1.5e+06 -> 1.5e6, 2e-05 -> 2e-5.
  std::snprintf(buf, sizeof buf, "%.3g", value);
  std::string s = buf;
  const auto e = s.find('e');
  if (e == std::string::npos) return s;
  return s.substr(0, e) + "e" + std::to_string(std::stoi(s.substr(e + 1)));
}

SvgPlot::SvgPlot(std::string title, PlotAxis x_axis, PlotAxis y_axis, int width, int height)
    : title_(std::move(title)),
      x_axis_(std::move(x_axis)),
      y_axis_(std::move(y_axis)),
      width_(width),
      height_(height) {
  GNM_CHECK(width >= 240 && height >= 180, "plot: the figure must be at least 240 x 180 pixels",
            width, height);
  check_axis(x_axis_, true);
  check_axis(y_axis_, false);
}

void SvgPlot::add_series(PlotSeries series) {
  GNM_CHECK_SHAPE(series.x.size() == series.y.size(),
                  "plot: series '" + series.name + "' needs as many x as y values",
                  series.x.size(), series.y.size());
  const std::string what = "series '" + series.name + "'";
  for (std::size_t i = 0; i < series.x.size(); ++i) {
    check_value(series.x[i], x_axis_.scale, true, what, i);
    check_value(series.y[i], y_axis_.scale, false, what, i);
  }
  if (series.color.empty()) series.color = kPalette[series_.size() % kPalette.size()];
  series_.push_back(std::move(series));
}

void SvgPlot::add_point(PlotPoint point) {
  const std::string what = "point '" + point.text + "'";
  check_value(point.x, x_axis_.scale, true, what, 0);
  check_value(point.y, y_axis_.scale, false, what, 0);
  if (point.color.empty()) point.color = "#333333";
  points_.push_back(std::move(point));
}

namespace {

// Limits for one axis: the data range rounded outwards (decades or nice steps), then the fixed
// limits the caller gave, if any.
std::pair<double, double> axis_limits(const PlotAxis& a, const std::vector<double>& values) {
  const bool log = a.scale == AxisScale::log10;
  double lo = log ? 1.0 : 0.0;
  double hi = log ? 10.0 : 1.0;
  if (!values.empty()) {
    const auto [mn, mx] = std::minmax_element(values.begin(), values.end());
    lo = *mn;
    hi = *mx;
    if (log) {
      lo = std::pow(10.0, decade_floor(lo));
      const int e_hi = decade_floor(hi);
      hi = std::pow(10.0, std::pow(10.0, e_hi) < hi ? e_hi + 1 : e_hi);
      // A single decade value leaves lo == hi: widened below, after any fixed limit.
    } else {
      if (hi == lo) {
        const double pad = lo == 0 ? 1.0 : std::fabs(lo) * 0.5;
        lo -= pad;
        hi += pad;
      }
      const double step = nice_step((hi - lo) / 5.0);
      lo = std::floor(lo / step) * step;
      hi = std::ceil(hi / step) * step;
    }
  }
  if (a.min) lo = *a.min;
  if (a.max) hi = *a.max;
  if (lo >= hi) {  // one value at a decade, or a fixed limit on the far side of the data
    if (a.max && !a.min) {
      lo = log ? hi / 10 : hi - 1;
    } else {
      hi = log ? lo * 10 : lo + 1;
    }
  }
  return {lo, hi};
}

}  // namespace

std::pair<double, double> SvgPlot::x_limits() const {
  std::vector<double> v;
  for (const auto& s : series_) v.insert(v.end(), s.x.begin(), s.x.end());
  for (const auto& p : points_) v.push_back(p.x);
  return axis_limits(x_axis_, v);
}

std::pair<double, double> SvgPlot::y_limits() const {
  std::vector<double> v;
  for (const auto& s : series_) v.insert(v.end(), s.y.begin(), s.y.end());
  for (const auto& p : points_) v.push_back(p.y);
  return axis_limits(y_axis_, v);
}

PlotArea SvgPlot::area() const {
  double legend = 0;
  for (const auto& s : series_) {
    if (!s.name.empty()) legend = std::max(legend, kLegendSample + text_width(s.name) + 12);
  }
  legend = std::min(legend, 0.4 * width_);
  const double right = legend > 0 ? legend + 2 * kLegendGap : kMarginRightBare;
  return {kMarginLeft, kMarginTop, width_ - kMarginLeft - right,
          height_ - kMarginTop - kMarginBottom};
}

namespace {

// The data-to-pixel mapping, computed once per render (limits and area scan all the data).
struct Frame {
  PlotArea a;
  AxisScale xs, ys;
  double x0, x1, y0, y1;  // transformed limits
  double x(double v) const { return a.left + (transform(v, xs) - x0) / (x1 - x0) * a.width; }
  double y(double v) const {
    return a.top + a.height - (transform(v, ys) - y0) / (y1 - y0) * a.height;
  }
  bool inside(double vx, double vy) const {
    const double tx = transform(vx, xs), ty = transform(vy, ys);
    const double ex = 1e-9 * (x1 - x0), ey = 1e-9 * (y1 - y0);
    return tx >= x0 - ex && tx <= x1 + ex && ty >= y0 - ey && ty <= y1 + ey;
  }
};

Frame make_frame(const SvgPlot& p, AxisScale xs, AxisScale ys) {
  const auto [xlo, xhi] = p.x_limits();
  const auto [ylo, yhi] = p.y_limits();
  return {p.area(), xs, ys, transform(xlo, xs), transform(xhi, xs), transform(ylo, ys),
          transform(yhi, ys)};
}

}  // namespace

double SvgPlot::x_pixel(double x) const {
  return make_frame(*this, x_axis_.scale, y_axis_.scale).x(x);
}

double SvgPlot::y_pixel(double y) const {
  return make_frame(*this, x_axis_.scale, y_axis_.scale).y(y);
}

std::string SvgPlot::render() const {
  const Frame f = make_frame(*this, x_axis_.scale, y_axis_.scale);
  const PlotArea a = f.a;
  const auto [xlo, xhi] = x_limits();
  const auto [ylo, yhi] = y_limits();
  const double bottom = a.top + a.height;
  const double right = a.left + a.width;
  std::string o;
  o += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  o += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" +
       std::to_string(width_) + "\" height=\"" + std::to_string(height_) + "\" viewBox=\"0 0 " +
       std::to_string(width_) + " " + std::to_string(height_) +
       "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n";
  o += "<title>" + xml_escape(title_) + "</title>\n";
  o += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o += "<defs><clipPath id=\"plot-area\"><rect x=\"" + px(a.left) + "\" y=\"" + px(a.top) +
       "\" width=\"" + px(a.width) + "\" height=\"" + px(a.height) + "\"/></clipPath></defs>\n";
  o += "<text x=\"" + px(width_ / 2.0) + "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" "
       "font-weight=\"bold\">" + xml_escape(title_) + "</text>\n";

  // Grid lines and tick labels.
  o += "<g stroke-width=\"1\">\n";
  for (const Tick& t : make_ticks(xlo, xhi, x_axis_.scale)) {
    const std::string x = px(f.x(t.value));
    o += "<line x1=\"" + x + "\" y1=\"" + px(a.top) + "\" x2=\"" + x + "\" y2=\"" + px(bottom) +
         "\" stroke=\"" + (t.major ? "#d0d0d0" : "#eeeeee") + "\"/>\n";
    if (t.labeled) {
      o += "<text x=\"" + x + "\" y=\"" + px(bottom + 18) + "\" text-anchor=\"middle\">" +
           xml_escape(format_tick(t.value)) + "</text>\n";
    }
  }
  for (const Tick& t : make_ticks(ylo, yhi, y_axis_.scale)) {
    const std::string y = px(f.y(t.value));
    o += "<line x1=\"" + px(a.left) + "\" y1=\"" + y + "\" x2=\"" + px(right) + "\" y2=\"" + y +
         "\" stroke=\"" + (t.major ? "#d0d0d0" : "#eeeeee") + "\"/>\n";
    if (t.labeled) {
      o += "<text x=\"" + px(a.left - 8) + "\" y=\"" + px(f.y(t.value) + 4) +
           "\" text-anchor=\"end\">" + xml_escape(format_tick(t.value)) + "</text>\n";
    }
  }
  o += "</g>\n";
  o += "<rect x=\"" + px(a.left) + "\" y=\"" + px(a.top) + "\" width=\"" + px(a.width) +
       "\" height=\"" + px(a.height) + "\" fill=\"none\" stroke=\"#333333\"/>\n";
  o += "<text x=\"" + px(a.left + a.width / 2) + "\" y=\"" + px(bottom + 42) +
       "\" text-anchor=\"middle\">" + xml_escape(x_axis_.label) + "</text>\n";
  o += "<text transform=\"translate(18," + px(a.top + a.height / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + xml_escape(y_axis_.label) + "</text>\n";

  // Data, clipped to the plot area.
  o += "<g clip-path=\"url(#plot-area)\">\n";
  for (const PlotSeries& s : series_) {
    const std::string color = xml_escape(s.color);
    if (s.style != SeriesStyle::markers && s.x.size() >= 2) {
      o += "<polyline fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\"";
      if (s.dashed) o += " stroke-dasharray=\"6 4\"";
      o += " points=\"";
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (i > 0) o += ' ';
        o += px(f.x(s.x[i]));
        o += ',';
        o += px(f.y(s.y[i]));
      }
      o += "\"/>\n";
    }
    if (s.style != SeriesStyle::line) {
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        o += "<circle cx=\"" + px(f.x(s.x[i])) + "\" cy=\"" + px(f.y(s.y[i])) +
             "\" r=\"3.5\" fill=\"" + color + "\"/>\n";
      }
    }
  }
  for (const PlotPoint& p : points_) {
    o += "<circle cx=\"" + px(f.x(p.x)) + "\" cy=\"" + px(f.y(p.y)) +
         "\" r=\"4\" fill=\"" + xml_escape(p.color) + "\" stroke=\"white\" stroke-width=\"1\"/>\n";
  }
  o += "</g>\n";

  // Point labels, nudged up or down until they no longer overlap an earlier label.
  struct Box {
    double x0, y0, x1, y1;
  };
  std::vector<Box> placed;
  for (const PlotPoint& p : points_) {
    if (p.text.empty() || !f.inside(p.x, p.y)) continue;
    const double cx = f.x(p.x);
    const double cy = f.y(p.y);
    const double w = text_width(p.text);
    const bool to_left = cx + 7 + w > right;
    const double x0 = to_left ? cx - 7 - w : cx + 7;
    double chosen = 0;
    for (int k = 0; k < 11; ++k) {
      const double dy = (k % 2 ? 1 : -1) * kLabelHeight * ((k + 1) / 2);
      const Box b{x0, cy - 4 + dy - 11, x0 + w, cy - 4 + dy + 3};
      const bool clear = std::none_of(placed.begin(), placed.end(), [&](const Box& q) {
        return b.x0 < q.x1 && q.x0 < b.x1 && b.y0 < q.y1 && q.y0 < b.y1;
      });
      if (clear && b.y0 >= a.top && b.y1 <= bottom) {
        chosen = dy;
        break;
      }
    }
    placed.push_back({x0, cy - 4 + chosen - 11, x0 + w, cy - 4 + chosen + 3});
    const double ty = cy + chosen;
    if (chosen != 0) {
      o += "<line x1=\"" + px(cx) + "\" y1=\"" + px(cy) + "\" x2=\"" + px(to_left ? x0 + w : x0) +
           "\" y2=\"" + px(ty - 4) + "\" stroke=\"#999999\" stroke-width=\"0.75\"/>\n";
    }
    o += "<text x=\"" + px(to_left ? cx - 7 : cx + 7) + "\" y=\"" + px(ty) + "\" text-anchor=\"" +
         (to_left ? "end" : "start") + "\" fill=\"#222222\">" + xml_escape(p.text) + "</text>\n";
  }

  // Legend, to the right of the plot area.
  const double lx = right + kLegendGap;
  double ly = a.top + 10;
  const double text_room = width_ - lx - kLegendSample - 4;
  for (const PlotSeries& s : series_) {
    if (s.name.empty()) continue;
    const std::string color = xml_escape(s.color);
    if (s.style != SeriesStyle::markers) {
      o += "<line x1=\"" + px(lx) + "\" y1=\"" + px(ly) + "\" x2=\"" + px(lx + 24) + "\" y2=\"" +
           px(ly) + "\" stroke=\"" + color + "\" stroke-width=\"2\"" +
           (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
    }
    if (s.style != SeriesStyle::line) {
      o += "<circle cx=\"" + px(lx + 12) + "\" cy=\"" + px(ly) + "\" r=\"3.5\" fill=\"" + color +
           "\"/>\n";
    }
    o += "<text x=\"" + px(lx + kLegendSample) + "\" y=\"" + px(ly + 4) + "\">" +
         xml_escape(fit_text(s.name, text_room)) + "</text>\n";
    ly += kLegendRow;
  }
  o += "</svg>\n";
  return o;
}

}  // namespace gnm
