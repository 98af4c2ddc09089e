// roost/train/passes.h — the loaders of a run's passes: each epoch's training pass over this
// rank's shard, then its validation pass. With prefetching on, the next pass's loader starts
// as soon as the current one has decoded its last sample (data/next_loader.h), so its
// workers decode while the current pass's last batches train. A pass's key is 2 × epoch for
// training and 2 × epoch + 1 for validation.
#pragma once

#include <functional>
#include <memory>

#include "roost/data/loader.h"
#include "roost/data/next_loader.h"
#include "roost/train/config.h"
#include "roost/train/datasets.h"

namespace roost::train {

class PassLoaders {
 public:
  // `prepare` runs on the loaders' workers for each decoded batch (BatchSource's packing on
  // the GPU path; empty on the CPU path); `decode_only` leaves the crop, resize and
  // normalisation to the GPU kernel.
  PassLoaders(const TrainConfig& config, Datasets data, int rank, int world, bool decode_only,
              std::function<void(data::Batch&)> prepare, bool prefetch);

  // The epoch's training pass from position `first` of its sample order on (a resumed epoch
  // skips the positions trained before it stopped, whatever the world size was; sampler.h).
  std::unique_ptr<data::Loader> train(int epoch, int64_t first = 0);
  std::unique_ptr<data::Loader> val(int epoch);
  // After each batch taken from the current pass: once it is drained, the next one starts.
  void after_train_batch(const data::Loader& current, int epoch);
  void after_val_batch(const data::Loader& current, int epoch);

  bool prefetching() const { return prefetch_; }
  // This rank's training steps in an epoch, and those left from position `first` on.
  int steps_per_epoch() const { return steps_from(0); }
  int steps_from(int64_t first) const;
  int64_t positions_per_step() const { return int64_t{config_.batch_size} * world_; }

 private:
  data::NextLoader::Make train_pass(int epoch, int64_t first) const;
  data::NextLoader::Make val_pass(int epoch) const;
  data::LoaderOptions options(int epoch, bool train) const;

  const TrainConfig& config_;
  Datasets data_;
  int rank_, world_;
  bool decode_only_;
  std::function<void(data::Batch&)> prepare_;
  bool prefetch_;
  data::NextLoader ahead_;
};

}  // namespace roost::train
