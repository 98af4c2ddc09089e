// roost/train/passes.cc — each pass's shard and loader options, and starting the next pass early.
#include "roost/train/passes.h"

#include <algorithm>

#include "roost/data/sampler.h"

namespace roost::train {

PassLoaders::PassLoaders(const TrainConfig& config, Datasets data, int rank, int world, bool decode_only,
                         std::function<void(data::Batch&)> prepare, bool prefetch)
    : config_(config),
      data_(std::move(data)),
      rank_(rank),
      world_(world),
      decode_only_(decode_only),
      prepare_(std::move(prepare)),
      prefetch_(prefetch),
      ahead_(prefetch) {}

data::LoaderOptions PassLoaders::options(int epoch, bool train) const {
  const TrainConfig& c = config_;
  data::LoaderOptions o;
  o.batch_size = c.batch_size;
  o.workers = c.workers;
  o.image_size = c.image_size;
  o.resize_short = c.resize_short;
  o.crop.scale_lo = c.crop_scale_lo;
  o.crop.scale_hi = c.crop_scale_hi;
  o.crop.ratio_lo = c.crop_ratio_lo;
  o.crop.ratio_hi = c.crop_ratio_hi;
  o.decode.jpeg_dct_scale = c.jpeg_dct_scale == "on";
  o.seed = c.seed;
  o.epoch = static_cast<uint64_t>(epoch);
  o.augment = train ? data::Augment::kTrain : data::Augment::kVal;
  o.decode_only = decode_only_;
  o.prepare = prepare_;
  return o;
}

int PassLoaders::steps_from(int64_t first) const {
  const int64_t shard_size = data::train_shard_size(data_.train->size(), world_, first);
  return static_cast<int>((shard_size + config_.batch_size - 1) / config_.batch_size);
}

data::NextLoader::Make PassLoaders::train_pass(int epoch, int64_t first) const {
  return [this, epoch, first] {
    std::vector<int64_t> shard =
        data::train_shard(data_.train->size(), rank_, world_, config_.seed, epoch, /*shuffle=*/true, first);
    return std::make_unique<data::Loader>(data_.train, std::move(shard), options(epoch, true));
  };
}

data::NextLoader::Make PassLoaders::val_pass(int epoch) const {
  return [this, epoch] {
    return std::make_unique<data::Loader>(data_.val, data::val_shard(data_.val->size(), rank_, world_),
                                          options(epoch, false));
  };
}

std::unique_ptr<data::Loader> PassLoaders::train(int epoch, int64_t first) {
  return ahead_.take(2 * epoch, train_pass(epoch, first));
}

std::unique_ptr<data::Loader> PassLoaders::val(int epoch) { return ahead_.take(2 * epoch + 1, val_pass(epoch)); }

void PassLoaders::after_train_batch(const data::Loader& current, int epoch) {
  ahead_.start_after(current, 2 * epoch + 1, val_pass(epoch));
}

void PassLoaders::after_val_batch(const data::Loader& current, int epoch) {
  const bool last = epoch + 1 >= config_.epochs;
  ahead_.start_after(current, 2 * (epoch + 1), last ? data::NextLoader::Make() : train_pass(epoch + 1, 0));
}

}  // namespace roost::train
