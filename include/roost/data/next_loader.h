// roost/data/next_loader.h — starting the next pass's loader before the current pass ends.
//
// A loader's first batch costs a whole batch of decoding before the consumer can go on; at
// every pass boundary (training → validation → next epoch) that is a stall of the consumer,
// large where the passes are short (a small dataset on a fast GPU: a few steps per epoch).
// NextLoader starts the loader of the pass that comes next as soon as the current loader's
// workers have decoded their last sample, so they go on with the next pass while the
// current pass's last batches are still being used, and it is handed over when asked for.
// Batches do not change: a loader's batches depend only on its dataset, indices and options.
// Each pass has a key (say 2 × epoch, + 1 for validation): a loader started for one pass is
// never handed to another.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "roost/data/loader.h"

namespace roost::data {

class NextLoader {
 public:
  using Make = std::function<std::unique_ptr<Loader>()>;

  explicit NextLoader(bool enabled) : enabled_(enabled) {}

  // Call after each batch taken from `current`: once it is drained, starts make(), the
  // loader of pass `key` (no pass follows when make is empty). At most one is started ahead.
  void start_after(const Loader& current, int64_t key, const Make& make) {
    if (enabled_ && !ahead_ && make && current.drained()) {
      ahead_ = make();
      key_ = key;
    }
  }

  // The loader of pass `key`: the one started ahead, or make() when none was started for it
  // (one started for another pass is dropped).
  std::unique_ptr<Loader> take(int64_t key, const Make& make) {
    std::unique_ptr<Loader> ahead = std::move(ahead_);
    if (ahead && key_ == key) return ahead;
    ahead.reset();  // its workers stop before another loader starts
    return make();
  }

  bool started() const { return ahead_ != nullptr; }

 private:
  bool enabled_;
  std::unique_ptr<Loader> ahead_;
  int64_t key_ = 0;
};

}  // namespace roost::data
