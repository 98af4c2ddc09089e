// roost/serve/server.h — `roost serve`: trained models behind HTTP, speaking the Open
// Inference Protocol (KServe v2, as Triton does) plus TorchServe's plain image POST.
//
//   GET  /v2/health/live, /v2/health/ready      200 (ready: 503 while starting or draining)
//   GET  /v2                                     server metadata
//   GET  /v2/models/{name}[/versions/{v}]        model metadata: inputs, outputs, classes
//   GET  /v2/models/{name}[/versions/{v}]/ready
//   POST /v2/models/{name}[/versions/{v}]/infer  JSON: "input" FP32 [N,3,S,S] (preprocessed) or
//                                                "image" BYTES [N] (base64 JPEG/PNG); answers
//                                                logits, probabilities and label
//   POST /predictions/{name}                     body: one JPEG/PNG; answers {label, probability, top_k}
//   GET  /metrics                                Prometheus text
//
// Concurrent requests are batched per model (batcher.h); errors are one-line JSON
// {"error": "..."} with 400, 404, 413 or 503 (with Retry-After).
#pragma once

#include <atomic>
#include <string>
#include <vector>

namespace roost::serve {

struct ModelSpec {
  std::string name;     // URL name
  std::string version;  // "1" for a file; the registry's version for NAME[:V]
  std::string path;     // the weight file
};

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  int max_batch = 32;
  double max_delay_ms = 5;
  int max_queue = 256;
  int threads = 64;  // HTTP worker threads (a request waiting for its batch holds one)
  double max_body_mb = 16;
  double timeout_s = 10;  // read and write timeout per connection
  bool access_log = false;
  int forward_threads = 0;    // intra-op threads of each forward pass; 0 = the cores / batch_workers
  int batch_workers = 1;      // forward passes that run at once, each on its own batch
  bool eager_batches = true;  // a batch waits for batch-mates only while requests are being decoded
};

// Loads the models, listens, serves until `stop` becomes true (a signal handler sets it), then
// stops accepting, answers what is queued and returns 0. UsageError for a model that cannot
// be loaded or an address that cannot be bound.
int run_server(const std::vector<ModelSpec>& models, const ServeOptions& options, const std::atomic<bool>& stop);

}  // namespace roost::serve
