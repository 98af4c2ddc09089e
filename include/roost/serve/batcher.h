// roost/serve/batcher.h — dynamic batching for one served model. HTTP threads put
// preprocessed images into a bounded queue; a worker takes up to max_batch of them, waiting
// at most max_delay for more once the first has arrived (and only while other requests are
// still being decoded), runs them as one forward pass and hands every image its logits. With several workers, one
// gathers the next batch while another runs its pass (the model's forward only reads its weights). Eval-mode inference
// treats each image on its own, so an image's logits do not depend on its batch-mates (the tests compare with
// one-by-one runs).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "roost/serve/metrics.h"
#include "roost/train/predict.h"

namespace roost::serve {

struct BatchOptions {
  int max_batch = 32;
  std::chrono::microseconds max_delay{5000};
  int max_queue = 256;  // images waiting; more is a QueueFull (HTTP 503)
  int workers = 1;      // forward passes that may run at once, each on its own batch
  // false: the first image of a batch waits max_delay for batch-mates or a full batch (as
  // Triton's max_queue_delay); true: it waits only while other requests are being decoded.
  bool eager = true;
};

class QueueFull : public std::runtime_error {
 public:
  QueueFull() : std::runtime_error("the server's queue is full") {}
};

class Batcher {
 public:
  Batcher(std::string name, const train::Predictor& model, BatchOptions options, ServerMetrics& metrics);
  ~Batcher();  // finishes what is queued, then stops the worker
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues `images` (each 3 x S x S floats) as one unit: all or none (QueueFull). The
  // futures give each image's logits.
  std::vector<std::future<std::vector<double>>> submit(std::vector<std::vector<float>> images);
  int depth() const;

  // A request that is being decoded. With options.eager, while one is, a batch with room
  // waits for it (at most max_delay); when none is, the batch runs with what is queued at
  // once, so a lone client does not wait max_delay for batch-mates that are not coming. Held
  // from before the decode until after submit() (or the failure).
  class Arriving {
   public:
    explicit Arriving(Batcher& b);
    ~Arriving();
    Arriving(const Arriving&) = delete;
    Arriving& operator=(const Arriving&) = delete;

   private:
    Batcher& batcher_;
  };

 private:
  struct Item {
    std::vector<float> input;
    std::promise<std::vector<double>> logits;
  };
  std::vector<Item> take_batch();
  void run();

  const std::string name_;
  const train::Predictor& model_;
  const BatchOptions options_;
  ServerMetrics& metrics_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Item> queue_;
  int arriving_ = 0;  // requests between Arriving's start and end
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace roost::serve
