// Reads Google Benchmark JSON (chapter 2's ch02_bench) into GEMM points for the roofline.
#include "bench_points.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <tuple>

#include "gnm/core/error.hpp"
#include "op_cost.hpp"

#if GNM_CH01_HAVE_JSON
#include <nlohmann/json.hpp>
#endif

namespace gnm::ch01 {

double BenchPoint::intensity() const { return gemm_intensity(m, n, k); }

bool bench_json_supported() { return GNM_CH01_HAVE_JSON != 0; }

double flop_rate_scale(std::string_view counter_name) {
  std::string key;
  for (const char c : counter_name) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  // "GFLOP/s" and "GFLOPS" both normalise to "gflops"; "FLOP/s" and "FLOPS" to "flops".
  if (key == "flops") return 1e-9;  // a kIsRate counter: FLOP per second
  if (key == "kflops") return 1e-6;
  if (key == "mflops") return 1e-3;
  if (key == "gflops") return 1.0;
  if (key == "tflops") return 1e3;
  return 0.0;
}

#if GNM_CH01_HAVE_JSON
namespace {

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 1) return std::nullopt;
  return v;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "BM_sgemm_engine/1024/threads:2" -> kernel "sgemm_engine", 1024³, 2 threads.
bool parse_name(const std::string& name, BenchPoint& p) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto slash = name.find('/', start);
    parts.push_back(name.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  p.kernel = parts[0].rfind("BM_", 0) == 0 ? parts[0].substr(3) : parts[0];
  std::vector<std::int64_t> positional;
  std::int64_t m = 0, n = 0, k = 0;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto colon = parts[i].find(':');
    if (colon == std::string::npos) {
      if (auto v = to_int(parts[i])) positional.push_back(*v);
      continue;  // "real_time", "manual_time"…
    }
    const std::string key = lower(parts[i].substr(0, colon));
    const auto v = to_int(std::string_view(parts[i]).substr(colon + 1));
    if (!v) continue;
    if (key == "threads") p.threads = static_cast<int>(std::min<std::int64_t>(*v, 1 << 20));
    else if (key == "m") m = *v;
    else if (key == "n" || key == "size") n = *v;
    else if (key == "k") k = *v;
  }
  if (m == 0 && n == 0 && k == 0) {
    if (positional.size() == 1) m = n = k = positional[0];
    else if (positional.size() == 3) { m = positional[0]; n = positional[1]; k = positional[2]; }
    else return false;
  } else if (m == 0 && k == 0) {
    m = k = n;  // only "n:" given: square
  }
  if (m == 0 || n == 0 || k == 0) return false;
  p.m = m;
  p.n = n;
  p.k = k;
  return true;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

}  // namespace

BenchFile parse_gemm_benchmarks(std::string_view json_text, const std::string& source) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    throw IoError("'" + source + "' is not valid JSON: " + e.what());
  }
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array()) {
    throw IoError("'" + source + "' is not Google Benchmark JSON: it has no \"benchmarks\" array "
                  "(write it with --benchmark_format=json or --benchmark_out=FILE)");
  }
  struct Runs {
    BenchPoint point;
    std::vector<double> iterations;
    std::optional<double> median;
  };
  std::map<std::string, Runs> by_run;
  BenchFile out;
  for (const auto& b : doc["benchmarks"]) {
    if (!b.is_object() || !b.contains("name") || !b["name"].is_string()) {
      ++out.skipped;
      continue;
    }
    const std::string run_name = b.value("run_name", b["name"].get<std::string>());
    const std::string type = b.value("run_type", "iteration");
    const std::string aggregate = b.value("aggregate_name", "");
    if (type == "aggregate" && aggregate != "median") continue;  // mean, stddev, cv
    double gflops = 0;
    for (const auto& [key, value] : b.items()) {
      const double scale = flop_rate_scale(key);
      if (scale > 0 && value.is_number()) {
        gflops = value.get<double>() * scale;
        break;
      }
    }
    BenchPoint p;
    // Every entry is taken as a GEMM (chapter 2's ladder names are "ladder_v3_blocked/1024")
    // except convolutions, whose intensity is not the GEMM formula.
    const std::string lname = lower(run_name);
    const bool conv = lname.find("conv") != std::string::npos ||
                      lname.find("im2col") != std::string::npos;
    if (conv || !(gflops > 0) || !parse_name(run_name, p)) {
      ++out.skipped;
      continue;
    }
    Runs& r = by_run[run_name];
    r.point = p;
    if (type == "aggregate") r.median = gflops; else r.iterations.push_back(gflops);
  }
  for (auto& [name, r] : by_run) {
    r.point.gflops = r.median ? *r.median : median(r.iterations);
    out.points.push_back(r.point);
  }
  std::sort(out.points.begin(), out.points.end(), [](const BenchPoint& a, const BenchPoint& b) {
    return std::tie(a.kernel, a.threads, a.m, a.n, a.k) <
           std::tie(b.kernel, b.threads, b.m, b.n, b.k);
  });
  return out;
}

#else

BenchFile parse_gemm_benchmarks(std::string_view, const std::string& source) {
  throw NotImplemented("cannot read '" + source + "': this build has no JSON reader; install "
                       "nlohmann-json3-dev (scripts/setup.sh) and re-run cmake");
}

#endif

}  // namespace gnm::ch01
