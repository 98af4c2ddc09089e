// roost/data/loader.h — the prefetching batch loader.
//
// N worker threads decode and transform the samples of a rank's shard into a bounded queue
// of ready batches, in order. The batch for step s depends only on (seed, epoch, the
// sample indices of step s), never on the number of workers: each sample's random crop and
// flip come from an RNG seeded by (seed, epoch, sample index).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "roost/data/dataset.h"
#include "roost/data/decode.h"
#include "roost/data/image.h"
#include "roost/data/transforms.h"

namespace roost::data {

enum class Augment { kTrain, kVal };

struct Batch;

// What LoaderOptions::prepare attaches to a batch (for example, the batch packed for the GPU
// kernel); users derive from it and recover their type with dynamic_cast.
struct PreparedBatch {
  virtual ~PreparedBatch() = default;
};

struct LoaderOptions {
  int batch_size = 4;
  int workers = 2;
  int queue_depth = 4;     // ready batches kept ahead
  int image_size = 224;    // train crop / val crop size
  int resize_short = 256;  // val Resize() size
  RandomResizedCropOptions crop;
  Normalization norm;
  uint64_t seed = 0;
  uint64_t epoch = 0;
  Augment augment = Augment::kTrain;
  bool decode_only = false;  // GPU path: fill images + plans, leave `data` empty
  // JPEG decoding at a reduced scale where the crop shrinks by 2x or more (DecodeOptions;
  // `roost train --jpeg-dct-scale on`); the plans of decode_only batches are then rebased
  // onto the reduced images.
  DecodeOptions decode;
  // Run on every finished batch by the worker thread that finished it (by the consumer with
  // no workers), before next() hands it out; calls for different batches may overlap. Used to
  // pack a batch for the GPU off the training thread. An exception stops the loader and is
  // rethrown by next().
  std::function<void(Batch&)> prepare;
};

struct Batch {
  int size = 0;             // samples in this batch (last batch may be smaller)
  std::vector<float> data;  // size × 3 × image_size × image_size, normalized, NCHW
  std::vector<int64_t> labels;
  std::vector<int64_t> indices;             // dataset indices of the samples
  std::vector<Image> images;                // decoded images (decode_only); a JPEG may be decoded only
                                            // in the region its plan reads (Dataset::load_for_plan)
  std::vector<ResizePlan> plans;            // their plans, relative to those images (decode_only)
  std::shared_ptr<PreparedBatch> prepared;  // whatever LoaderOptions::prepare attached
  int skipped = 0;                          // unreadable files met while building this batch
  double wait_seconds = 0;                  // time the consumer waited for this batch
};

class Loader {
 public:
  // `indices` is this rank's ordered sample list for the epoch (from the sampler).
  Loader(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices, const LoaderOptions& options);
  ~Loader();  // stops and joins the workers
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int num_batches() const;
  // Next batch in order; false after the last. Rethrows a worker's error.
  bool next(Batch& batch);
  // True once the workers have decoded every sample (or stopped at an error) and none is in
  // the middle of one: they are idle and what is left is to hand out the finished batches,
  // so the next pass's loader may start (next_loader.h). With no workers, true once the
  // last batch was taken.
  bool drained() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roost::data
