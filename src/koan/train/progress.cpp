#include "koan/train/progress.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "koan/core/error.h"

namespace koan::train {
namespace {

std::string printf_str(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

bool detect_terminal(const std::ostream& out) {
  if (&out == &std::cout) return ::isatty(STDOUT_FILENO) == 1;
  if (&out == &std::cerr || &out == &std::clog) return ::isatty(STDERR_FILENO) == 1;
  return false;
}

}  // namespace

std::string format_log_value(double v) { return printf_str(std::abs(v) > 1e-3 ? "%.4f" : "%.4e", v); }

std::string format_eta(double eta) {
  auto s = static_cast<int64_t>(std::max(0.0, eta));  // Python's '%d' truncates
  char buf[64];
  if (eta > 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60), static_cast<long long>(s % 60));
  else if (eta > 60)
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  return buf;
}

std::string format_time_per(double t, const std::string& unit) {
  if (t >= 1 || t == 0) return printf_str("%.0fs", t) + "/" + unit;
  if (t >= 1e-3) return printf_str("%.0fms", t * 1e3) + "/" + unit;
  return printf_str("%.0fus", t * 1e6) + "/" + unit;
}

std::string format_values(const LogValues& values) {
  std::string s;
  for (auto& [k, v] : values) s += " - " + k + ": " + format_log_value(v);
  return s;
}

ProgressBar::ProgressBar(std::ostream& out, ProgressOptions o) : out_(out), o_(std::move(o)) {
  KOAN_CHECK(o_.verbose >= 0 && o_.verbose <= 2, ValueError, "ProgressBar: verbose must be 0, 1 or 2, got ",
             o_.verbose);
  KOAN_CHECK(o_.width >= 1, ValueError, "ProgressBar: width must be >= 1, got ", o_.width);
  terminal_ = o_.is_terminal.value_or(detect_terminal(out));
  if (!o_.clock)
    o_.clock = [] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    };
}

std::string ProgressBar::counter(int64_t current) const {
  if (steps_ < 0) return printf_str("%7.0f", static_cast<double>(current)) + "/Unknown";
  std::string total = std::to_string(steps_);
  std::string cur = std::to_string(current);
  if (cur.size() < total.size()) cur.insert(0, total.size() - cur.size(), ' ');
  return cur + "/" + total;
}

std::string ProgressBar::bar(int64_t current) const {
  std::string s = counter(current);
  if (steps_ < 0) return s;
  double prog = steps_ > 0 ? static_cast<double>(current) / static_cast<double>(steps_) : 1.0;
  auto filled = static_cast<int>(o_.width * std::min(prog, 1.0));
  s += " [";
  if (filled > 0) {
    s.append(static_cast<size_t>(filled - 1), '=');
    s += current < steps_ ? '>' : '=';
  }
  s.append(static_cast<size_t>(o_.width - filled), '.');
  return s + "]";
}

void ProgressBar::begin_epoch(int64_t epoch, int64_t epochs, int64_t steps) {
  steps_ = steps;
  current_ = 0;
  last_draw_.reset();
  prev_width_ = 0;
  start_ = o_.clock();
  if (o_.verbose == 0) return;
  out_ << "Epoch " << epoch << "/" << epochs << "\n";
  out_.flush();
}

void ProgressBar::update(int64_t step, const LogValues& values) {
  current_ = step;
  if (o_.verbose != 1 || !terminal_) return;
  double now = o_.clock();
  bool last = steps_ >= 0 && step >= steps_;
  if (last_draw_ && now - *last_draw_ < o_.interval && !last) return;
  last_draw_ = now;
  double elapsed = now - start_;
  double per_step = step > 0 ? elapsed / static_cast<double>(step) : 0.0;
  std::string line = bar(step);
  if (steps_ < 0)
    line += printf_str(" - %.0fs", elapsed) + " " + format_time_per(per_step, "step");
  else
    line += " - ETA: " + format_eta(per_step * static_cast<double>(steps_ - step));
  line += format_values(values);
  size_t width = line.size();
  if (prev_width_ > width) line.append(prev_width_ - width, ' ');  // erase the longer last frame
  prev_width_ = width;
  out_ << '\r' << line;
  out_.flush();
}

void ProgressBar::end_epoch(const LogValues& values) {
  if (o_.verbose == 0) return;
  if (steps_ < 0) steps_ = current_;  // now known
  double elapsed = o_.clock() - start_;
  double per_step = steps_ > 0 ? elapsed / static_cast<double>(steps_) : 0.0;
  std::string line;
  if (o_.verbose == 1) {
    line = bar(steps_) + printf_str(" - %.0fs", elapsed) + " " + format_time_per(per_step, "step") +
           format_values(values);
    if (terminal_) {
      size_t width = line.size();
      if (prev_width_ > width) line.append(prev_width_ - width, ' ');
      line.insert(0, "\r");
    }
  } else {
    line = counter(steps_) + printf_str(" - %.0fs", elapsed) + format_values(values) + " - " +
           format_time_per(elapsed, "epoch") + " - " + format_time_per(per_step, "step");
  }
  out_ << line << "\n";
  out_.flush();
  prev_width_ = 0;
}

}  // namespace koan::train
