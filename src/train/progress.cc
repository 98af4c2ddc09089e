// roost/train/progress.cc — progress bar / periodic progress lines (see progress.h).
#include "roost/train/progress.h"

#include <unistd.h>

#include <cstdio>

#include "roost/core/log.h"

namespace roost::train {

namespace {
std::string clock_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}
}  // namespace

Progress::Progress(bool bar, bool show, int epochs, int every)
    : bar_(bar && show), show_(show), epochs_(epochs), every_(every) {}

bool Progress::stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

std::string Progress::bar_line(int epoch, int epochs, int step, int steps, double loss, double images_per_sec,
                               double eta_s, int width) {
  const int filled = steps > 0 ? static_cast<int>(static_cast<long>(width) * step / steps) : width;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(static_cast<size_t>(width), '.');
  char buf[256];
  std::snprintf(buf, sizeof buf, "epoch %d/%d [%s] %d/%d loss %.4f %.1f img/s ETA %s", epoch, epochs, bar.c_str(), step,
                steps, loss, images_per_sec, clock_text(eta_s).c_str());
  return buf;
}

void Progress::start_epoch(int epoch, int steps, int first_step) {
  epoch_ = epoch, steps_ = steps, first_step_ = first_step;
  images_ = 0;
  loss_ = NAN;
  start_ = last_draw_ = Clock::now();
}

bool Progress::wants_loss() const { return bar_ && Clock::now() - last_draw_ > std::chrono::milliseconds(100); }

void Progress::update(int step, double loss, int images) {
  images_ += images;
  if (!std::isnan(loss)) loss_ = loss;
  const auto now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const int done = step - first_step_;
  const double rate = elapsed > 0 ? images_ / elapsed : 0;
  const double eta = done > 0 ? elapsed / done * (steps_ - step) : NAN;
  const bool periodic = step % every_ == 0 || step == steps_;
  if (periodic) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "epoch %d/%d step %d/%d loss %.4f %.1f img/s ETA %s", epoch_, epochs_, step, steps_,
                  loss_, rate, clock_text(eta).c_str());
    log(bar_ || !show_ ? LogLevel::kDebug : LogLevel::kInfo, buf);  // with a bar: the file only
  }
  if (bar_ && (now - last_draw_ > std::chrono::milliseconds(100) || step == steps_)) {
    last_draw_ = now;
    std::printf("\r%s\033[K", bar_line(epoch_, epochs_, step, steps_, loss_, rate, eta, 30).c_str());
    std::fflush(stdout);
  }
}

void Progress::end_epoch() {
  if (bar_) {
    std::printf("\n");
    std::fflush(stdout);
  }
}

}  // namespace roost::train
