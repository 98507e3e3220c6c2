// Keras-format progress output for training loops.
//
//   train::ProgressBar bar(std::cout, {.verbose = 1});
//   bar.begin_epoch(3, 10, 938);                       // prints "Epoch 3/10"
//   for (int64_t s = 1; s <= 938; ++s) bar.update(s, {{"loss", loss.result()}});
//   bar.end_epoch({{"loss", 0.3124}, {"accuracy", 0.8873}, {"val_loss", 0.28}});
//
// verbose 1 on a terminal redraws one line in place ("\r"), at most every `interval` seconds:
//    32/938 [>.............................] - ETA: 12s - loss: 0.5123
// and finishes the epoch with
//   938/938 [==============================] - 4s 4ms/step - loss: 0.3124 - accuracy: 0.8873 - val_loss: ...
// verbose 1 elsewhere (a log file, a pipe) writes no intermediate frames: per epoch the header and
// that one final line.  verbose 2 writes the header and one summary line in Keras's form
//   938/938 - 4s - loss: 0.3124 - accuracy: 0.8873 - 4s/epoch - 4ms/step
// verbose 0 writes nothing.  The stream, the terminal flag and the clock are injectable, so tests
// check the exact text.
#pragma once
#include <cstdint>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace koan::train {

using LogValues = std::vector<std::pair<std::string, double>>;

struct ProgressOptions {
  int verbose = 1;  // 0 silent, 1 progress bar, 2 one line per epoch
  // Whether `out` is an interactive terminal; unset: isatty() for std::cout / std::cerr, else false.
  std::optional<bool> is_terminal;
  int width = 30;         // characters inside [ ]
  double interval = 0.05; // minimum seconds between terminal redraws
  std::function<double()> clock;  // seconds on any fixed origin; unset: std::chrono::steady_clock
};

class ProgressBar {
 public:
  explicit ProgressBar(std::ostream& out = std::cout, ProgressOptions o = {});
  // epoch is 1-based; steps < 0 when the number of batches is not known in advance.
  void begin_epoch(int64_t epoch, int64_t epochs, int64_t steps);
  // `step` batches are done; values are the running figures to show (loss, metrics).
  void update(int64_t step, const LogValues& values);
  // Final figures for the epoch, validation ones included (val_loss, ...).
  void end_epoch(const LogValues& values);
  bool is_terminal() const { return terminal_; }

 private:
  std::string counter(int64_t current) const;
  std::string bar(int64_t current) const;

  std::ostream& out_;
  ProgressOptions o_;
  bool terminal_ = false;
  int64_t steps_ = -1, current_ = 0;
  double start_ = 0;
  std::optional<double> last_draw_;
  size_t prev_width_ = 0;
};

// Keras's number formats, exposed for tests and for other loggers.
std::string format_log_value(double v);                 // 0.3124, or 1.2340e-04 when |v| <= 1e-3
std::string format_eta(double seconds);                 // "12s", "2:05", "1:02:03"
std::string format_time_per(double seconds, const std::string& unit);  // "4ms/step", "3s/epoch"
std::string format_values(const LogValues& values);    // " - loss: 0.3124 - accuracy: 0.8873"

}  // namespace koan::train
