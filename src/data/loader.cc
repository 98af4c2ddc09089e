// roost/data/loader.cc — the prefetching batch loader: worker threads decode and transform
// samples into a window of in-flight batches; the consumer takes them strictly in order.
//
// Work is handed out per sample, not per batch, so a few large batches (validation) still use
// every worker. The worker that finishes a batch's last sample assembles it and runs the
// prepare hook on it (say, packing it for the GPU), so the consumer only takes it. A sample may only be claimed when
// its batch lies within `queue_depth` batches of the one the consumer waits for, which bounds memory. Each sample's
// augmentation RNG is seeded from (seed, epoch, dataset index) and each sample writes to its own slot, so the batches
// are identical for any number of workers.
#include "roost/data/loader.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "roost/core/error.h"
#include "roost/core/log.h"
#include "roost/data/decode.h"
#include "roost/data/resize.h"
#include "seed_mix.h"

namespace roost::data {

namespace {

// A batch being filled: every sample position has its own region of `data` (or its own
// image/plan entry), written by exactly one worker without locking.
struct Slot {
  int count = 0;       // sample positions in this batch
  int remaining = 0;   // positions not finished yet (guarded by the mutex)
  bool ready = false;  // `batch` is assembled and prepared (guarded by the mutex)
  Batch batch;         // written by the worker that finishes the last position
  std::vector<float> data;
  std::vector<Image> images;
  std::vector<ResizePlan> plans;
  std::vector<char> ok;  // 0 = the sample's file was unreadable
};

}  // namespace

struct Loader::Impl {
  std::shared_ptr<const Dataset> dataset;
  std::vector<int64_t> indices;
  LoaderOptions options;
  int64_t batches = 0;
  size_t sample_floats = 0;  // 3 × image_size × image_size

  std::mutex mutex;
  std::condition_variable work_cv;                 // workers: a sample became claimable, or stop
  std::condition_variable ready_cv;                // consumer: a batch finished, or an error
  int64_t next_position = 0;                       // next sample position to claim
  int in_flight = 0;                               // samples claimed and not finished
  int64_t delivered = 0;                           // batches handed to the consumer so far
  std::map<int64_t, std::unique_ptr<Slot>> slots;  // in-flight batches by number
  std::exception_ptr error;
  bool stop = false;
  std::vector<std::thread> threads;

  int64_t batch_of(int64_t position) const { return position / options.batch_size; }

  int batch_count(int64_t batch) const {
    int64_t begin = batch * options.batch_size;
    return static_cast<int>(std::min<int64_t>(options.batch_size, indices.size() - begin));
  }

  // Creates the slot of `batch` if this is its first claimed sample. Caller holds the mutex.
  Slot& slot_for(int64_t batch) {
    auto& slot = slots[batch];
    if (!slot) {
      slot = std::make_unique<Slot>();
      slot->count = slot->remaining = batch_count(batch);
      if (options.decode_only) {
        slot->images.resize(slot->count);
        slot->plans.resize(slot->count);
      } else {
        slot->data.resize(sample_floats * slot->count);
      }
      slot->ok.assign(slot->count, 0);
    }
    return *slot;
  }

  // Decodes and transforms the sample at `position` into its place in `slot`. A file that
  // cannot be decoded is reported once and left out; anything else propagates.
  void process(int64_t position, Slot& slot) {
    const int k = static_cast<int>(position % options.batch_size);
    const int64_t index = indices[static_cast<size_t>(position)];
    // The plan is drawn from the image's size before decoding, so the dataset may decode
    // only the region the plan reads (a crop's rows and columns); the plan comes back
    // rebased onto the returned image.
    std::mt19937_64 rng(detail::mix_seed(options.seed, options.epoch, static_cast<uint64_t>(index)));
    auto make_plan = [&](int height, int width) {
      return options.augment == Augment::kTrain ? train_plan(height, width, options.image_size, options.crop, rng)
                                                : val_plan(height, width, options.resize_short, options.image_size);
    };
    Image image;
    ResizePlan plan;
    try {
      image = dataset->load_for_plan(index, make_plan, &plan, options.decode);
    } catch (const DecodeError& e) {
      log_warn("skipping unreadable image ", dataset->describe(index), ": ", e.what());
      return;
    }
    if (options.decode_only) {
      slot.images[k] = std::move(image);
      slot.plans[k] = plan;
    } else {
      apply_plan_normalized(image, plan, options.norm, slot.data.data() + sample_floats * k);
    }
    slot.ok[k] = 1;
  }

  void worker() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      work_cv.wait(lock, [&] {
        return stop || next_position >= static_cast<int64_t>(indices.size()) ||
               batch_of(next_position) < delivered + options.queue_depth;
      });
      if (stop || next_position >= static_cast<int64_t>(indices.size())) return;
      const int64_t position = next_position++;
      Slot& slot = slot_for(batch_of(position));  // stable: slots hold unique_ptrs
      ++in_flight;
      lock.unlock();
      std::exception_ptr failure;
      try {
        process(position, slot);
      } catch (...) {
        failure = std::current_exception();
      }
      lock.lock();
      // The worker that finishes a batch's last sample assembles (and prepares) it.
      const bool last = !failure && --slot.remaining == 0;
      if (last) {
        lock.unlock();
        try {
          finish(batch_of(position), slot);
        } catch (...) {
          failure = std::current_exception();
        }
        lock.lock();
      }
      --in_flight;
      if (failure) {
        if (!error) error = failure;
        stop = true;
        work_cv.notify_all();
        ready_cv.notify_all();
        return;
      }
      if (last) {
        slot.ready = true;
        ready_cv.notify_all();
      }
    }
  }

  // Assembles the finished slot into slot.batch and runs the prepare hook on it.
  void finish(int64_t number, Slot& slot) const {
    fill(number, slot, slot.batch);
    if (options.prepare) options.prepare(slot.batch);
  }

  // Moves the finished slot into `batch`, leaving out unreadable samples.
  void fill(int64_t number, Slot& slot, Batch& batch) const {
    batch = Batch();
    const int64_t begin = number * options.batch_size;
    for (int k = 0; k < slot.count; ++k) {
      if (!slot.ok[k]) {
        ++batch.skipped;
        continue;
      }
      const int64_t index = indices[static_cast<size_t>(begin + k)];
      if (options.decode_only) {
        batch.images.push_back(std::move(slot.images[k]));
        batch.plans.push_back(slot.plans[k]);
      } else if (batch.size != k) {  // close the gap left by a skipped sample
        std::memmove(slot.data.data() + sample_floats * batch.size, slot.data.data() + sample_floats * k,
                     sample_floats * sizeof(float));
      }
      batch.indices.push_back(index);
      batch.labels.push_back(dataset->label(index));
      ++batch.size;
    }
    if (!options.decode_only) {
      slot.data.resize(sample_floats * batch.size);
      batch.data = std::move(slot.data);
    }
  }
};

Loader::Loader(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices, const LoaderOptions& options)
    : impl_(std::make_unique<Impl>()) {
  ROOST_CHECK(dataset != nullptr, "loader needs a dataset");
  ROOST_CHECK(options.batch_size >= 1, "batch size must be at least 1, got ", options.batch_size);
  ROOST_CHECK(options.workers >= 0, "workers must not be negative, got ", options.workers);
  ROOST_CHECK(options.queue_depth >= 1, "queue depth must be at least 1, got ", options.queue_depth);
  ROOST_CHECK(options.image_size >= 1, "image size must be at least 1, got ", options.image_size);
  for (int64_t index : indices)
    ROOST_CHECK(index >= 0 && index < dataset->size(), "sample index ", index, " outside dataset of ", dataset->size());
  Impl& s = *impl_;
  s.dataset = std::move(dataset);
  s.indices = std::move(indices);
  s.options = options;
  s.batches = (static_cast<int64_t>(s.indices.size()) + options.batch_size - 1) / options.batch_size;
  s.sample_floats = static_cast<size_t>(3) * options.image_size * options.image_size;
  s.threads.reserve(options.workers);
  try {
    for (int i = 0; i < options.workers; ++i) s.threads.emplace_back([&s] { s.worker(); });
  } catch (...) {
    // No destructor runs for a half-built Loader: stop the threads already started here.
    {
      std::lock_guard<std::mutex> lock(s.mutex);
      s.stop = true;
    }
    s.work_cv.notify_all();
    for (std::thread& t : s.threads) t.join();
    throw;
  }
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stop = true;
  }
  impl_->work_cv.notify_all();
  // A worker in the middle of a sample finishes it, sees `stop` and returns.
  for (std::thread& t : impl_->threads) t.join();
}

int Loader::num_batches() const { return static_cast<int>(impl_->batches); }

bool Loader::drained() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  // After an error the workers stop claiming; those in the middle of a sample finish it.
  return (impl_->error != nullptr || impl_->next_position >= static_cast<int64_t>(impl_->indices.size())) &&
         impl_->in_flight == 0;
}

bool Loader::next(Batch& batch) {
  Impl& s = *impl_;
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(s.mutex);
  if (s.error) std::rethrow_exception(s.error);
  if (s.delivered >= s.batches) return false;
  const int64_t number = s.delivered;

  if (s.threads.empty()) {
    // Inline mode: this thread claims and processes the batch's samples itself.
    Slot& slot = s.slot_for(number);
    lock.unlock();
    const int64_t begin = number * s.options.batch_size;
    try {
      for (int k = 0; k < slot.count; ++k) s.process(begin + k, slot);
      s.finish(number, slot);
    } catch (...) {  // as a worker's error: this and every later call rethrow it
      lock.lock();
      if (!s.error) s.error = std::current_exception();
      s.stop = true;
      throw;
    }
    lock.lock();
    slot.remaining = 0;
    slot.ready = true;
    s.next_position = begin + slot.count;
  } else {
    s.ready_cv.wait(lock, [&] {
      if (s.error) return true;
      auto it = s.slots.find(number);
      return it != s.slots.end() && it->second->ready;
    });
    if (s.error) std::rethrow_exception(s.error);
  }

  std::unique_ptr<Slot> slot = std::move(s.slots[number]);
  s.slots.erase(number);
  ++s.delivered;
  lock.unlock();
  s.work_cv.notify_all();  // the window moved: more samples may be claimed

  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  batch = std::move(slot->batch);
  batch.wait_seconds = waited;
  return true;
}

}  // namespace roost::data
