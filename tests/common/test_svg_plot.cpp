#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/svg_plot.hpp"

namespace {

// A small XML well-formedness check, enough for what SvgPlot writes: one root element, properly
// nested and closed tags, quoted attributes, no raw '<' or stray '&' in text or attributes, and
// only the five predefined entities. Returns "" when well formed, else what is wrong and where.
std::string xml_problem(const std::string& s) {
  auto entity_ok = [&](std::size_t i) {
    for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"}) {
      if (s.compare(i, std::char_traits<char>::length(e), e) == 0) return true;
    }
    return false;
  };
  auto is_name = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ':' || c == '_';
  };
  std::vector<std::string> open;
  int roots = 0;
  std::size_t i = 0;
  if (s.rfind("<?xml", 0) == 0) i = s.find("?>") + 2;
  while (i < s.size()) {
    const char c = s[i];
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
      return "control character at " + std::to_string(i);
    }
    if (c == '&') {
      if (!entity_ok(i)) return "bad entity at " + std::to_string(i);
      ++i;
      continue;
    }
    if (c != '<') {
      if (open.empty() && !std::isspace(static_cast<unsigned char>(c))) {
        return "text outside the root at " + std::to_string(i);
      }
      ++i;
      continue;
    }
    const bool closing = i + 1 < s.size() && s[i + 1] == '/';
    std::size_t j = i + (closing ? 2 : 1);
    const std::size_t name_start = j;
    while (j < s.size() && is_name(s[j])) ++j;
    const std::string name = s.substr(name_start, j - name_start);
    if (name.empty()) return "tag without a name at " + std::to_string(i);
    if (closing) {
      if (open.empty() || open.back() != name) return "unbalanced </" + name + ">";
      open.pop_back();
      if (s[j] != '>') return "junk in </" + name + ">";
      i = j + 1;
      continue;
    }
    // Attributes: name="value" separated by white space, then > or />.
    for (;;) {
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      if (j >= s.size()) return "unterminated <" + name;
      if (s[j] == '>' || s.compare(j, 2, "/>") == 0) break;
      const std::size_t a = j;
      while (j < s.size() && is_name(s[j])) ++j;
      if (j == a || s[j] != '=' || s[j + 1] != '"') return "bad attribute in <" + name + ">";
      j += 2;
      for (; j < s.size() && s[j] != '"'; ++j) {
        if (s[j] == '<') return "'<' in an attribute of <" + name + ">";
        if (s[j] == '&' && !entity_ok(j)) return "bad entity in an attribute of <" + name + ">";
      }
      ++j;
    }
    if (s[j] == '>') {
      if (open.empty()) ++roots;
      open.push_back(name);
      i = j + 1;
    } else {
      if (open.empty()) ++roots;
      i = j + 2;
    }
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  if (roots != 1) return std::to_string(roots) + " root elements";
  return "";
}

std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

gnm::SvgPlot roofline_like() {
  gnm::SvgPlot p("Roofline", {"intensity (FLOP/byte)", gnm::AxisScale::log10},
                 {"GFLOP/s", gnm::AxisScale::log10});
  p.add_series({"1 thread", {0.1, 5, 100}, {2, 100, 100}});
  p.add_series({"2 threads", {0.1, 6, 100}, {3, 200, 200}, gnm::SeriesStyle::line, "", true});
  p.add_series({"sgemm", {42.7, 85.3, 171}, {60, 80, 90}, gnm::SeriesStyle::line_and_markers});
  p.add_point({5, 100, "ridge 5 FLOP/B"});
  return p;
}

}  // namespace

TEST(SvgPlot, TheCheckerCatchesBrokenXml) {
  // The checker itself must reject what it is meant to catch, or the next test proves nothing.
  EXPECT_EQ(xml_problem("<svg><g></g></svg>"), "");
  EXPECT_NE(xml_problem("<svg><g></svg>"), "");
  EXPECT_NE(xml_problem("<svg>a < b</svg>"), "");
  EXPECT_NE(xml_problem("<svg>a & b</svg>"), "");
  EXPECT_NE(xml_problem("<svg x=\"1\" y=2/>"), "");
  EXPECT_NE(xml_problem("<svg/><svg/>"), "");
}

TEST(SvgPlot, RendersWellFormedSvgWithTitleSeriesAndLegend) {
  const std::string svg = roofline_like().render();
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_EQ(svg.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 0), 0u);
  EXPECT_NE(svg.find("<title>Roofline</title>"), std::string::npos);
  EXPECT_NE(svg.find(">1 thread</text>"), std::string::npos);       // legend entries
  EXPECT_NE(svg.find(">2 threads</text>"), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);       // the dashed series
  EXPECT_NE(svg.find(">ridge 5 FLOP/B</text>"), std::string::npos); // the point's label
  EXPECT_NE(svg.find(">0.1</text>"), std::string::npos);            // decade tick labels
  EXPECT_NE(svg.find(">1000</text>"), std::string::npos);
  EXPECT_NE(svg.find(">intensity (FLOP/byte)</text>"), std::string::npos);
}

TEST(SvgPlot, EscapesTextForXml) {
  EXPECT_EQ(gnm::xml_escape("a < b && c > \"d\" 'e'"),
            "a &lt; b &amp;&amp; c &gt; &quot;d&quot; &apos;e&apos;");
  EXPECT_EQ(gnm::xml_escape(std::string("x\x01y\tz\n", 6)), "xy\tz\n");  // 0x01 is not XML
  EXPECT_EQ(gnm::xml_escape("Xeon® 日本"), "Xeon® 日本");                // UTF-8 passes
  gnm::SvgPlot p("<b>Fast & \"loose\"</b>", {"x < 1", gnm::AxisScale::linear},
                 {"y & z", gnm::AxisScale::linear});
  p.add_series({"</text><script>", {0, 1}, {0, 1}, gnm::SeriesStyle::line, "red\"/><x"});
  p.add_point({0.5, 0.5, "a<b"});
  const std::string svg = p.render();
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_NE(svg.find("&lt;b&gt;Fast &amp; &quot;loose&quot;&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(svg.find("&lt;/text&gt;&lt;script&gt;"), std::string::npos);
}

TEST(SvgPlot, LogAxisRejectsNonPositiveValuesNamingThem) {
  gnm::SvgPlot p("t", {"x", gnm::AxisScale::log10}, {"y", gnm::AxisScale::log10});
  try {
    p.add_series({"bandwidth", {1, 2, 3}, {4, 0, 6}});
    FAIL() << "y = 0 on a log axis was accepted";
  } catch (const gnm::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("series 'bandwidth'"), std::string::npos) << m;
    EXPECT_NE(m.find("y = 0 at index 1"), std::string::npos) << m;
    EXPECT_NE(m.find("logarithmic"), std::string::npos) << m;
  }
  try {
    p.add_point({-2.5, 1, "p"});
    FAIL() << "x = -2.5 on a log axis was accepted";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("x = -2.5"), std::string::npos) << e.what();
  }
  // Nothing bad was kept: the plot still renders.
  EXPECT_EQ(xml_problem(p.render()), "");
}

TEST(SvgPlot, RejectsBadInput) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  gnm::SvgPlot lin("t", {"x"}, {"y"});
  EXPECT_THROW(lin.add_series({"s", {1, 2}, {1}}), gnm::ShapeError);
  EXPECT_THROW(lin.add_series({"s", {1, nan}, {1, 2}}), gnm::Error);
  EXPECT_THROW(lin.add_point({1, inf, "p"}), gnm::Error);
  EXPECT_NO_THROW(lin.add_series({"negative is fine on a linear axis", {-1, 0}, {-5, 0}}));
  EXPECT_THROW(gnm::SvgPlot("t", {"x", gnm::AxisScale::linear, 5.0, 5.0}, {"y"}), gnm::Error);
  EXPECT_THROW(gnm::SvgPlot("t", {"x", gnm::AxisScale::log10, 0.0, 10.0}, {"y"}), gnm::Error);
  EXPECT_THROW(gnm::SvgPlot("t", {"x"}, {"y", gnm::AxisScale::linear, nan}), gnm::Error);
  EXPECT_THROW(gnm::SvgPlot("t", {"x"}, {"y"}, 100, 100), gnm::Error);
}

TEST(SvgPlot, PlacesPointsWhereExpected) {
  // Fixed limits: x log [1, 100], y linear [0, 10]; 10 is half way along x, 5 half way up y.
  gnm::SvgPlot p("t", {"x", gnm::AxisScale::log10, 1.0, 100.0},
                 {"y", gnm::AxisScale::linear, 0.0, 10.0});
  p.add_point({10, 5, "mid"});
  p.add_point({1, 0, ""});
  const gnm::PlotArea a = p.area();
  EXPECT_GT(a.width, 100);
  EXPECT_GT(a.height, 100);
  EXPECT_NEAR(p.x_pixel(1), a.left, 1e-9);
  EXPECT_NEAR(p.x_pixel(100), a.left + a.width, 1e-9);
  EXPECT_NEAR(p.x_pixel(10), a.left + a.width / 2, 1e-9);
  EXPECT_NEAR(p.y_pixel(0), a.top + a.height, 1e-9);
  EXPECT_NEAR(p.y_pixel(10), a.top, 1e-9);
  EXPECT_NEAR(p.y_pixel(5), a.top + a.height / 2, 1e-9);
  const std::string svg = p.render();
  EXPECT_NE(svg.find("cx=\"" + px(a.left + a.width / 2) + "\" cy=\"" + px(a.top + a.height / 2) +
                     "\""), std::string::npos);
  EXPECT_NE(svg.find("cx=\"" + px(a.left) + "\" cy=\"" + px(a.top + a.height) + "\""),
            std::string::npos);
}

TEST(SvgPlot, ChoosesLimitsFromTheData) {
  gnm::SvgPlot log("t", {"x", gnm::AxisScale::log10}, {"y", gnm::AxisScale::linear});
  log.add_series({"s", {0.3, 250}, {0.2, 9.7}});
  EXPECT_EQ(log.x_limits(), std::make_pair(0.1, 1000.0));  // whole decades around the data
  EXPECT_EQ(log.y_limits(), std::make_pair(0.0, 10.0));    // nice steps of 2
  gnm::SvgPlot exact("t", {"x", gnm::AxisScale::log10}, {"y", gnm::AxisScale::log10, 1.0});
  exact.add_point({100, 1000, ""});
  EXPECT_EQ(exact.x_limits(), std::make_pair(100.0, 1000.0));  // a single decade value
  EXPECT_EQ(exact.y_limits(), std::make_pair(1.0, 1000.0));    // a fixed min is kept
  gnm::SvgPlot empty("t", {"x"}, {"y", gnm::AxisScale::log10});
  EXPECT_EQ(empty.x_limits(), std::make_pair(0.0, 1.0));
  EXPECT_EQ(empty.y_limits(), std::make_pair(1.0, 10.0));
  EXPECT_EQ(xml_problem(empty.render()), "");
}

TEST(SvgPlot, FormatsTicksCompactly) {
  EXPECT_EQ(gnm::format_tick(0), "0");
  EXPECT_EQ(gnm::format_tick(0.01), "0.01");
  EXPECT_EQ(gnm::format_tick(0.1 + 0.2), "0.3");
  EXPECT_EQ(gnm::format_tick(1000), "1000");
  EXPECT_EQ(gnm::format_tick(-20), "-20");
  EXPECT_EQ(gnm::format_tick(1e6), "1e6");
  EXPECT_EQ(gnm::format_tick(2.5e-5), "2.5e-5");
}

TEST(SvgPlot, NudgesOverlappingLabelsApart) {
  gnm::SvgPlot p("t", {"x", gnm::AxisScale::linear, 0.0, 10.0},
                 {"y", gnm::AxisScale::linear, 0.0, 10.0});
  p.add_point({5, 5, "first label"});
  p.add_point({5, 5, "second label"});
  const std::string svg = p.render();
  auto y_of = [&](const std::string& label) {
    const auto end = svg.find(">" + label + "</text>");
    const auto y = svg.rfind(" y=\"", end);
    return std::stod(svg.substr(y + 4));
  };
  EXPECT_GE(std::fabs(y_of("first label") - y_of("second label")), 12.0);
  EXPECT_EQ(xml_problem(svg), "");
}
