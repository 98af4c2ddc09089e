// roost/serve/batcher.cc — the queue and the worker that runs batched forward passes (batcher.h).
#include "roost/serve/batcher.h"

namespace roost::serve {

Batcher::Batcher(std::string name, const train::Predictor& model, BatchOptions options, ServerMetrics& metrics)
    : name_(std::move(name)), model_(model), options_(options), metrics_(metrics) {
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this] { run(); });
}

Batcher::~Batcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (std::thread& w : workers_) w.join();
}

std::vector<std::future<std::vector<double>>> Batcher::submit(std::vector<std::vector<float>> images) {
  std::vector<std::future<std::vector<double>>> out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || queue_.size() + images.size() > static_cast<size_t>(options_.max_queue)) throw QueueFull();
    for (auto& image : images) {
      queue_.push_back(Item{std::move(image), {}});
      out.push_back(queue_.back().logits.get_future());
    }
    metrics_.queue_depth(name_, static_cast<int>(queue_.size()));
  }
  ready_.notify_all();
  return out;
}

Batcher::Arriving::Arriving(Batcher& b) : batcher_(b) {
  std::lock_guard<std::mutex> lock(batcher_.mutex_);
  ++batcher_.arriving_;
}

Batcher::Arriving::~Arriving() {
  {
    std::lock_guard<std::mutex> lock(batcher_.mutex_);
    --batcher_.arriving_;
  }
  batcher_.ready_.notify_all();
}

int Batcher::depth() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(queue_.size());
}

// The next batch, or none when stopping with nothing left to answer.
std::vector<Batcher::Item> Batcher::take_batch() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return {};  // stopping, and nothing left to answer
    // The first image waits at most max_delay for batch-mates (eager: only for those being
    // decoded); a full batch goes at once.
    const auto deadline = std::chrono::steady_clock::now() + options_.max_delay;
    ready_.wait_until(lock, deadline, [&] {
      return stopping_ || (options_.eager && arriving_ == 0) ||
             queue_.size() >= static_cast<size_t>(options_.max_batch);
    });
    if (queue_.empty()) continue;  // another worker took them meanwhile
    const size_t n = std::min(queue_.size(), static_cast<size_t>(options_.max_batch));
    std::vector<Item> items;
    for (size_t i = 0; i < n; ++i) {
      items.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    metrics_.queue_depth(name_, static_cast<int>(queue_.size()));
    return items;
  }
}

void Batcher::run() {
  model_.use_threads_here();
  const size_t per_image = 3 * static_cast<size_t>(model_.image_size()) * model_.image_size();
  std::vector<float> batch;
  for (;;) {
    std::vector<Item> items = take_batch();
    if (items.empty()) return;
    batch.resize(per_image * items.size());
    for (size_t i = 0; i < items.size(); ++i)
      std::copy(items[i].input.begin(), items[i].input.end(),
                batch.begin() + static_cast<std::ptrdiff_t>(per_image * i));
    metrics_.batch(static_cast<int>(items.size()));
    try {
      std::vector<std::vector<double>> logits = model_.forward(batch.data(), static_cast<int>(items.size()));
      for (size_t i = 0; i < items.size(); ++i) items[i].logits.set_value(std::move(logits[i]));
    } catch (...) {
      for (auto& item : items) item.logits.set_exception(std::current_exception());
    }
  }
}

}  // namespace roost::serve
