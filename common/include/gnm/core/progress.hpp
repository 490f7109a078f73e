/// \file
/// A one-line progress bar for training loops (chapter 10.1): the fraction done, the elapsed and
/// remaining time, and whatever metrics the caller passes ("loss 0.412  acc 85.1%  92k samples/s").
///
/// It draws only on a terminal: when its stream is a pipe or a file (CI logs, `| tee`), it writes
/// nothing at all, so logs hold the program's own summary lines instead of hundreds of
/// carriage-return frames. Redraws are throttled (at most one every 100 ms by default), so
/// calling update() every step costs a clock read, not a write.
///
/// \code
/// gnm::ProgressBar bar("epoch 3/10", loader.num_batches());
/// for (std::int64_t i = 0; ...; ++i) {
///   ...
///   bar.update(i + 1, "loss " + std::to_string(loss));
/// }
/// bar.finish();
/// \endcode
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace gnm {

/// Whether `stream` is a terminal (isatty on its file descriptor).
bool is_terminal(std::FILE* stream);

/// The text of one progress-bar frame, without the leading carriage return:
/// `label [#####.....]  45%  0:03<0:04  metrics`, the bar `bar_width` cells wide. `done` is
/// clamped into [0, total]; total 0 draws a full bar. Elapsed and remaining times are shown as
/// m:ss (h:mm:ss from one hour); the remaining time is "?" until something is done.
/// \throws gnm::Error when total < 0 or bar_width < 1 (naming the value)
std::string render_progress(std::string_view label, std::int64_t done, std::int64_t total,
                            double elapsed_s, std::string_view metrics, int bar_width = 24);

/// A throttled progress bar on a terminal, silent elsewhere (see the file comment).
class ProgressBar {
 public:
  /// A bar for `total` units of work, drawn on `out` when `enabled` says so or, by default, when
  /// `out` is a terminal. `min_interval_s` is the least time between two redraws.
  /// \throws gnm::Error when total < 0 or min_interval_s < 0
  ProgressBar(std::string label, std::int64_t total, std::FILE* out = stderr,
              std::optional<bool> enabled = std::nullopt, double min_interval_s = 0.1);
  /// Ends the line (as finish()) if it was drawn and not finished.
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;             ///< Owns a line of the terminal.
  ProgressBar& operator=(const ProgressBar&) = delete;  ///< Owns a line of the terminal.

  /// Records that `done` units are complete and redraws when enough time has passed since the
  /// last frame (the first and the last unit always draw).
  void update(std::int64_t done, std::string_view metrics = {});
  /// Draws the final frame with `metrics` and ends the line; later calls do nothing.
  void finish(std::string_view metrics = {});
  /// Whether the bar draws at all.
  bool enabled() const noexcept { return enabled_; }
  /// How many frames have been drawn (for tests and for checking the throttle).
  std::int64_t frames() const noexcept { return frames_; }

 private:
  void draw(std::string_view metrics);
  std::string label_;
  std::int64_t total_;
  std::FILE* out_;
  bool enabled_;
  double min_interval_s_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
  std::int64_t done_ = 0;
  std::int64_t frames_ = 0;
  std::size_t last_width_ = 0;
  bool finished_ = false;
};

}  // namespace gnm
