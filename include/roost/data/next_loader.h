// roost/data/next_loader.h — starting the next pass's loader before the current pass ends.
//
// A loader's first batch costs a whole batch of decoding before the consumer can go on; at
// every pass boundary (training → validation → next epoch) that is a stall of the consumer,
// large where the passes are short (a small dataset on a fast GPU: a few steps per epoch).
// NextLoader starts the loader of the pass that comes next as soon as the current loader's
// workers have decoded their last sample, so they go on with the next pass while the
// current pass's last batches are still being used, and it is handed over when asked for.
// Batches do not change: a loader's batches depend only on its dataset, indices and options.
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include "roost/data/loader.h"

namespace roost::data {

class NextLoader {
 public:
  using Make = std::function<std::unique_ptr<Loader>()>;

  explicit NextLoader(bool enabled) : enabled_(enabled) {}

  // Call after each batch taken from `current`: once it is drained, starts make() (no
  // pass follows when make is empty). At most one loader is started ahead.
  void start_after(const Loader& current, const Make& make) {
    if (enabled_ && !ahead_ && make && current.drained()) ahead_ = make();
  }

  // The loader started ahead, or make() when none was. Callers pair it with the make
  // they passed to start_after.
  std::unique_ptr<Loader> take(const Make& make) {
    if (ahead_) return std::move(ahead_);
    return make();
  }

  bool started() const { return ahead_ != nullptr; }

 private:
  bool enabled_;
  std::unique_ptr<Loader> ahead_;
};

}  // namespace roost::data
