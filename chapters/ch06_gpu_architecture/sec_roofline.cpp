// 6.6 The roofline: attainable FLOP/s = min(peak FLOP/s, arithmetic intensity × bandwidth).
//
// The ceilings are the H100 SXM's published figures and, on a device, the ones 6.6 measures
// (sec_roofline_gpu.cu). The points are every kernel of chapters 6–8 that a GPU run recorded in
// book/results: Note [Roofline points] says which table rows count.
//
// Note [Roofline points]: a results file book/results/ch06_*.json, ch07_*.json or ch08_*.json
// whose "machine" has a "gpu" other than "none" contributes every row of its "tables" that has a
// positive number "FLOP/B" (FLOPs per byte of DRAM traffic the kernel must move) and either
// "GFLOP/s", "TFLOP/s" or "GB/s" (then GFLOP/s = GB/s × FLOP/B). The label is the row's "kernel"
// string, or its first string cell, after the section number of the table's title ("6.1 lane % 4").
// Only the newest file of each program is read. Kernels without FLOPs (copies, transposes) have
// no place on a log-scale roofline; their tables compare them with the copy bandwidth instead.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"
#include "gnm/core/svg_plot.hpp"
#include "sections.hpp"

namespace chapter06 {
namespace {

using namespace gnm::cells;
using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Roof {
  std::string name;
  std::string source;   // "published" or "measured"
  std::string machine;  // "H100 SXM" or the device's name
  double gflops = 0;
  double gbps = 0;
  std::string color;
  bool dashed = false;
  double ridge() const { return gflops / gbps; }
};

//! [published ceilings]
// H100 SXM5 datasheet figures (dense, without sparsity). The fp32 roof is the one for CUDA-core
// kernels such as the SGEMM ladder; the tensor-core roofs apply to TF32/BF16 GEMMs (chapter 7.5).
constexpr double kH100Fp32Gflops = 66.9e3;
constexpr double kH100Tf32Gflops = 494.7e3;
constexpr double kH100Bf16Gflops = 989.4e3;
constexpr double kH100HbmGbps = 3.35e3;
//! [published ceilings]

struct KernelPoint {
  std::string program;
  std::string gpu;
  std::string date;
  std::string label;
  double intensity = 0;
  double gflops = 0;
};

std::optional<double> number_at(const json& row, const char* key) {
  const auto it = row.find(key);
  if (it == row.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

std::string label_of(const std::string& table_title, const json& row) {
  std::string label;
  if (const auto it = row.find("kernel"); it != row.end() && it->is_string()) {
    label = it->get<std::string>();
  } else {
    for (const auto& [key, value] : row.items()) {
      if (value.is_string()) {
        label = value.get<std::string>();
        break;
      }
    }
  }
  const std::string section = table_title.substr(0, table_title.find(' '));
  return label.empty() ? table_title : section + " " + label;
}

// "ch06_….json", "ch07_….json" or "ch08_….json".
bool is_chapter_results(const std::string& file) {
  return file.size() > 9 && file.compare(0, 3, "ch0") == 0 && file[3] >= '6' && file[3] <= '8' &&
         file[4] == '_' && file.compare(file.size() - 5, 5, ".json") == 0;
}

//! [read points]
std::vector<KernelPoint> read_points(const std::filesystem::path& dir) {
  std::vector<KernelPoint> points;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return points;
  std::map<std::string, json> newest;  // program -> its newest GPU results
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string file = entry.path().filename().string();
    if (!entry.is_regular_file() || !is_chapter_results(file)) continue;
    json data;
    try {
      data = json::parse(gnm::read_file(entry.path()));
    } catch (const json::exception& e) {
      throw gnm::IoError("6.6: " + entry.path().string() + " is not valid JSON: " + e.what());
    }
    if (!data.is_object() || !data.contains("tables") || !data.contains("machine")) continue;
    const json& machine = data["machine"];
    if (!machine.contains("gpu") || !machine["gpu"].is_string() || machine["gpu"] == "none") {
      continue;
    }
    const std::string program = data.value("program", file);
    auto& slot = newest[program];
    if (slot.is_null() || data.value("date", "") > slot.value("date", "")) slot = std::move(data);
  }
  for (const auto& [program, data] : newest) {
    for (const auto& [title, table] : data["tables"].items()) {
      if (!table.contains("rows") || !table["rows"].is_array()) continue;
      for (const json& row : table["rows"]) {
        if (!row.is_object()) continue;
        const auto ai = number_at(row, "FLOP/B");
        if (!ai || *ai <= 0) continue;
        std::optional<double> gflops = number_at(row, "GFLOP/s");
        if (!gflops) {
          if (const auto tf = number_at(row, "TFLOP/s")) gflops = *tf * 1e3;
        }
        if (!gflops) {
          if (const auto gb = number_at(row, "GB/s")) gflops = *gb * *ai;
        }
        if (!gflops || *gflops <= 0) continue;
        points.push_back({program, data["machine"]["gpu"].get<std::string>(),
                          data.value("date", ""), label_of(title, row), *ai, *gflops});
      }
    }
  }
  return points;
}
//! [read points]

double decade_below(double v) { return std::pow(10.0, std::floor(std::log10(v))); }
double decade_above(double v) { return std::pow(10.0, std::ceil(std::log10(v))); }

std::string roofline_svg(const std::vector<Roof>& roofs, const std::vector<KernelPoint>& points,
                         const std::string& title) {
  double x_min = 0.1, x_max = 1000, y_max = 0;
  for (const Roof& r : roofs) {
    x_max = std::max(x_max, 4 * r.ridge());
    y_max = std::max(y_max, r.gflops);
  }
  for (const KernelPoint& p : points) {
    x_min = std::min(x_min, p.intensity / 2);
    x_max = std::max(x_max, p.intensity * 2);
    y_max = std::max(y_max, p.gflops);
  }
  x_min = decade_below(x_min);
  x_max = decade_above(x_max);
  gnm::SvgPlot plot(title, {"arithmetic intensity (FLOP/byte of DRAM traffic)",
                            gnm::AxisScale::log10, x_min, x_max},
                    {"GFLOP/s", gnm::AxisScale::log10, std::nullopt, decade_above(y_max * 1.5)},
                    940, 580);
  for (const Roof& r : roofs) {
    char legend[160];
    std::snprintf(legend, sizeof legend, "%s %.3g TFLOP/s, %.3g TB/s (%s)", r.name.c_str(),
                  r.gflops / 1e3, r.gbps / 1e3, r.source.c_str());
    plot.add_series({legend, {x_min, r.ridge(), x_max}, {x_min * r.gbps, r.gflops, r.gflops},
                     gnm::SeriesStyle::line, r.color, r.dashed});
  }
  const char* colors[] = {"#ff7f0e", "#9467bd", "#17becf"};
  std::map<std::string, std::string> color_of;
  for (const KernelPoint& p : points) {
    if (!color_of.count(p.program)) {
      color_of[p.program] = colors[color_of.size() % 3];
      plot.add_series({p.program + " kernels", {}, {}, gnm::SeriesStyle::markers,
                       color_of[p.program]});
    }
    plot.add_point({p.intensity, p.gflops, p.label, color_of[p.program]});
  }
  return plot.render();
}

}  // namespace

Section run_roofline(const Config& cfg) {
  Section s;
  std::vector<Roof> roofs = {
      {"fp32", "published", "H100 SXM", kH100Fp32Gflops, kH100HbmGbps, "#1f77b4", true},
      {"TF32 tensor", "published", "H100 SXM", kH100Tf32Gflops, kH100HbmGbps, "#2ca02c", true},
      {"BF16 tensor", "published", "H100 SXM", kH100Bf16Gflops, kH100HbmGbps, "#d62728", true},
  };
  std::optional<MeasuredCeilings> measured;
  if (auto skipped = skip_without_gpu(std::string(kRooflineTitle) + ": measured ceilings")) {
    s.json = skipped->json;
  } else {
    measured = measure_ceilings(cfg);
  }
  if (measured) {
    roofs.insert(roofs.begin(), Roof{"fp32", "measured", measured->device, measured->fma_gflops,
                                     measured->copy_gbps, "#000000", false});
    s.verified = measured->verified;
    s.figures.emplace_back("measured_fma_gflops", measured->fma_gflops);
    s.figures.emplace_back("measured_copy_gbps", measured->copy_gbps);
    s.figures.emplace_back("measured_memcpy_gbps", measured->memcpy_gbps);
  }
  Table ceilings(std::string(kRooflineTitle) + ": ceilings",
                 {"ceiling", "machine", "source", "GFLOP/s", "GB/s", "ridge FLOP/B"});
  for (const Roof& r : roofs) {
    ceilings.add({str(r.name), str(r.machine), str(r.source), num(r.gflops, 4), num(r.gbps, 4),
                  num(r.ridge(), 3)});
  }
  if (measured) {
    ceilings.add({str("cudaMemcpy D2D"), str(measured->device), str("measured"), num(kNaN),
                  num(measured->memcpy_gbps, 4), num(kNaN)});
  }
  s.add(ceilings);

  const std::vector<KernelPoint> points = read_points(cfg.results_glob_dir);
  const Roof& roof = roofs.front();  // measured when there is a device, else published fp32
  Table placed(std::string(kRooflineTitle) + ": kernels of chapters 6-8",
               {"program", "kernel", "FLOP/B", "GFLOP/s",
                "% of " + roof.source + " " + roof.name + " roof"});
  for (const KernelPoint& p : points) {
    const double attainable = std::min(roof.gflops, p.intensity * roof.gbps);
    placed.add({str(p.program), str(p.label), num(p.intensity, 3), num(p.gflops, 4),
                num(100.0 * p.gflops / attainable, 3)});
  }
  if (points.empty()) {
    std::printf("  no GPU results for chapters 6-8 in %s yet: the figure shows the ceilings only\n",
                cfg.results_glob_dir.string().c_str());
  }
  s.add(placed);
  s.figures.emplace_back("kernels_placed", static_cast<double>(points.size()));

  std::string title = measured ? "Roofline: " + measured->device + " measured, H100 SXM published"
                               : "Roofline: H100 SXM published ceilings";
  if (points.empty()) title += " (no kernels measured yet)";
  std::filesystem::create_directories(cfg.figures_dir);
  const auto path = cfg.figures_dir / "ch06_roofline.svg";
  gnm::write_file_atomic(path, roofline_svg(roofs, points, title));
  std::printf("  figure written to %s\n", path.string().c_str());
  return s;
}

}  // namespace chapter06
