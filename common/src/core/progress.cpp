// The progress bar of chapter 10.1 (see gnm/core/progress.hpp).
#include "gnm/core/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "gnm/core/check.hpp"

namespace gnm {

namespace {

std::string clock_text(double seconds) {
  const auto s = static_cast<long long>(std::max(0.0, seconds) + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  }
  return buf;
}

}  // namespace

bool is_terminal(std::FILE* stream) {
  return stream != nullptr && ::isatty(::fileno(stream)) == 1;
}

std::string render_progress(std::string_view label, std::int64_t done, std::int64_t total,
                            double elapsed_s, std::string_view metrics, int bar_width) {
  GNM_CHECK(total >= 0, "progress bar: total must be >= 0", total);
  GNM_CHECK(bar_width >= 1, "progress bar: bar_width must be >= 1", bar_width);
  done = std::clamp<std::int64_t>(done, 0, total);
  const double frac =
      total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  const auto filled = static_cast<int>(std::floor(frac * bar_width));
  std::string out(label);
  if (!out.empty()) out += ' ';
  out += '[';
  out.append(static_cast<std::size_t>(filled), '#');
  out.append(static_cast<std::size_t>(bar_width - filled), '.');
  char pct[16];
  std::snprintf(pct, sizeof pct, "] %3d%%  ", static_cast<int>(std::floor(frac * 100.0)));
  out += pct;
  out += clock_text(elapsed_s);
  out += '<';
  // The remaining time assumes the rate so far holds: elapsed · (total − done) / done.
  out += done > 0 ? clock_text(elapsed_s * static_cast<double>(total - done) /
                               static_cast<double>(done))
                  : std::string("?");
  if (!metrics.empty()) {
    out += "  ";
    out += metrics;
  }
  return out;
}

ProgressBar::ProgressBar(std::string label, std::int64_t total, std::FILE* out,
                         std::optional<bool> enabled, double min_interval_s)
    : label_(std::move(label)),
      total_(total),
      out_(out),
      enabled_(enabled.value_or(is_terminal(out))),
      min_interval_s_(min_interval_s),
      start_(std::chrono::steady_clock::now()) {
  GNM_CHECK(total >= 0, "progress bar: total must be >= 0", total);
  GNM_CHECK(min_interval_s >= 0.0, "progress bar: min_interval_s must be >= 0", min_interval_s);
  enabled_ = enabled_ && out_ != nullptr;
}

ProgressBar::~ProgressBar() {
  if (enabled_ && frames_ > 0 && !finished_) {
    std::fputc('\n', out_);
    std::fflush(out_);
  }
}

void ProgressBar::update(std::int64_t done, std::string_view metrics) {
  done_ = done;
  if (!enabled_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (frames_ == 0 || done >= total_ || since >= min_interval_s_) draw(metrics);
}

void ProgressBar::finish(std::string_view metrics) {
  if (!enabled_ || finished_) return;
  draw(metrics);
  std::fputc('\n', out_);
  std::fflush(out_);
  finished_ = true;
}

void ProgressBar::draw(std::string_view metrics) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  std::string line = render_progress(label_, done_, total_, elapsed, metrics);
  // Pad over a longer previous frame so no stale characters remain at the end of the line.
  const std::size_t width = line.size();
  if (width < last_width_) line.append(last_width_ - width, ' ');
  last_width_ = width;
  std::fputc('\r', out_);
  std::fputs(line.c_str(), out_);
  std::fflush(out_);
  last_draw_ = now;
  ++frames_;
}

}  // namespace gnm
