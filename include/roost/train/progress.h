// roost/train/progress.h — what rank 0 shows while an epoch runs: a one-line progress bar
// redrawn in place when stdout is a terminal (epoch, step, loss, images/s, ETA), otherwise
// a plain line every `every` steps (for logs collected by a launcher). Both go to the rank's
// log file as plain lines.
#pragma once

#include <chrono>
#include <cmath>
#include <string>

namespace roost::train {

class Progress {
 public:
  // `bar`: draw in place (rank 0 on a terminal); `show`: print anything to the console.
  Progress(bool bar, bool show, int epochs, int every);
  static bool stdout_is_terminal();

  void start_epoch(int epoch, int steps, int first_step);
  // After step `step` (1-based); `loss` is the epoch's running mean, NaN when not read.
  void update(int step, double loss, int images);
  // Whether the next update will draw the bar (so the caller should read the loss).
  bool wants_loss() const;
  void end_epoch();

  // The bar line for these values (tests and the redraw use it).
  static std::string bar_line(int epoch, int epochs, int step, int steps, double loss, double images_per_sec,
                              double eta_s, int width);

 private:
  using Clock = std::chrono::steady_clock;
  bool bar_, show_;
  int epochs_, every_;
  int epoch_ = 0, steps_ = 0, first_step_ = 0;
  long images_ = 0;
  double loss_ = NAN;
  Clock::time_point start_, last_draw_;
};

}  // namespace roost::train
