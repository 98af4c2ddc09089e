// roost/serve/server.cc — the HTTP side of `roost serve` (server.h): routes, JSON in and out,
// limits, metrics and the graceful stop. The models and their batchers live in Service.
#include "roost/serve/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "base64.h"
#include "roost/core/error.h"
#include "roost/serve/batcher.h"
#include "roost/serve/metrics.h"
#include "roost/train/predict.h"

namespace roost::serve {

namespace {
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// A request's answer when it cannot be served: status and one line of JSON.
struct HttpError {
  int status;
  std::string message;
};

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, json{{"error", message}});
  if (status == 503) res.set_header("Retry-After", "1");
}

struct LoadedModel {
  ModelSpec spec;
  std::unique_ptr<train::Predictor> predictor;
  std::unique_ptr<Batcher> batcher;
};

class Service {
 public:
  Service(const std::vector<ModelSpec>& specs, const ServeOptions& o) {
    BatchOptions b;
    b.max_batch = o.max_batch;
    b.max_delay = std::chrono::microseconds(static_cast<int64_t>(o.max_delay_ms * 1000));
    b.max_queue = o.max_queue;
    b.workers = o.batch_workers;
    b.eager = o.eager_batches;
    const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    for (const ModelSpec& s : specs) {
      LoadedModel m;
      m.spec = s;
      train::PredictOptions po;
      // The cores shared out among the passes that run at once.
      po.threads = o.forward_threads > 0 ? o.forward_threads : std::max(1, cores / std::max(1, o.batch_workers));
      m.predictor = std::make_unique<train::Predictor>(s.path, po);
      models_.push_back(std::move(m));
    }
    for (LoadedModel& m : models_) m.batcher = std::make_unique<Batcher>(m.spec.name, *m.predictor, b, metrics);
  }

  const LoadedModel& find(const std::string& name, const std::string& version) const {
    for (const LoadedModel& m : models_)
      if (m.spec.name == name && (version.empty() || m.spec.version == version)) return m;
    for (const LoadedModel& m : models_)
      if (m.spec.name == name) throw HttpError{404, "model '" + name + "' has no version " + version};
    throw HttpError{404, "no model named '" + name + "'"};
  }

  json metadata(const LoadedModel& m) const {
    const int s = m.predictor->image_size();
    json versions = json::array();
    for (const LoadedModel& other : models_)
      if (other.spec.name == m.spec.name) versions.push_back(other.spec.version);
    const int64_t k = static_cast<int64_t>(m.predictor->class_names().size());
    return {{"name", m.spec.name},
            {"versions", versions},
            {"platform", "roost_libtorch"},
            {"inputs",
             {{{"name", "input"}, {"datatype", "FP32"}, {"shape", {-1, 3, s, s}}},
              {{"name", "image"}, {"datatype", "BYTES"}, {"shape", {-1}}}}},
            {"outputs",
             {{{"name", "logits"}, {"datatype", "FP32"}, {"shape", {-1, k}}},
              {{"name", "probabilities"}, {"datatype", "FP32"}, {"shape", {-1, k}}},
              {{"name", "label"}, {"datatype", "BYTES"}, {"shape", {-1}}}}},
            {"parameters",
             {{"arch", m.predictor->arch()},
              {"classes", m.predictor->class_names()},
              {"image_size", s},
              {"resize_short", m.predictor->resize_short()},
              {"input",
               "'input': RGB, Resize(resize_short), CenterCrop(image_size), /255, ImageNet mean/std; "
               "'image': base64 JPEG or PNG, preprocessed by the server"}}}};
  }

  // Logits of the images that `make_images` reads from the request, through the model's
  // batcher, which knows this request is on its way while they are decoded.
  template <typename MakeImages>
  std::vector<std::vector<double>> infer(const LoadedModel& m, MakeImages make_images) const {
    std::vector<std::future<std::vector<double>>> futures;
    try {
      Batcher::Arriving arriving(*m.batcher);
      futures = m.batcher->submit(make_images());
    } catch (const QueueFull& e) {
      throw HttpError{503, e.what()};
    }
    std::vector<std::vector<double>> out;
    for (auto& f : futures) out.push_back(f.get());
    return out;
  }

  // One encoded image, preprocessed; 400 naming what is wrong.
  std::vector<float> decode(const LoadedModel& m, const std::string& bytes, const std::string& what) const {
    const int s = m.predictor->image_size();
    std::vector<float> out(3 * static_cast<size_t>(s) * s);
    const std::string why =
        m.predictor->preprocess(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out.data());
    if (!why.empty()) throw HttpError{400, what + " is not a readable JPEG or PNG image: " + why};
    return out;
  }

  mutable ServerMetrics metrics;
  std::atomic<bool> ready{false};

 private:
  std::vector<LoadedModel> models_;
};

// The images of a v2 infer request: "input" FP32 [N,3,S,S] or "image" BYTES [N] (base64).
std::vector<std::vector<float>> request_images(const Service& service, const LoadedModel& m, const json& body,
                                               int max_images) {
  if (!body.is_object() || !body.contains("inputs") || !body["inputs"].is_array() || body["inputs"].size() != 1)
    throw HttpError{400, "the request needs \"inputs\": [one tensor named \"input\" (FP32) or \"image\" (BYTES)]"};
  const json& in = body["inputs"][0];
  if (!in.is_object() || !in.contains("shape") || !in["shape"].is_array() || !in.contains("data") ||
      !in["data"].is_array() || !in.contains("datatype") || !in["datatype"].is_string())
    throw HttpError{400, "an input needs \"name\", \"shape\", \"datatype\" and \"data\""};
  std::vector<int64_t> shape;
  for (const json& d : in["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 1) throw HttpError{400, "shape must hold positive integers"};
    shape.push_back(d.get<int64_t>());
  }
  const std::string name = in.value("name", "");
  const std::string type = in["datatype"].get<std::string>();
  const json& data = in["data"];
  const int s = m.predictor->image_size();
  std::vector<std::vector<float>> images;
  if (name == "image") {
    if (type != "BYTES") throw HttpError{400, "input \"image\" must be BYTES (base64 JPEG or PNG), not " + type};
    if (shape.size() != 1 || static_cast<int64_t>(data.size()) != shape[0])
      throw HttpError{400, "input \"image\" must have shape [N] with N base64 strings in data"};
    if (shape[0] > max_images) throw HttpError{413, "at most " + std::to_string(max_images) + " images per request"};
    for (size_t i = 0; i < data.size(); ++i) {
      if (!data[i].is_string()) throw HttpError{400, "image " + std::to_string(i) + " is not a base64 string"};
      std::string bytes;
      if (!base64_decode(data[i].get<std::string>(), &bytes))
        throw HttpError{400, "image " + std::to_string(i) + " is not valid base64"};
      images.push_back(service.decode(m, bytes, "image " + std::to_string(i)));
    }
    return images;
  }
  if (name != "input") throw HttpError{400, "unknown input '" + name + "' (use \"input\" or \"image\")"};
  if (type != "FP32") throw HttpError{400, "input \"input\" must be FP32, not " + type};
  if (shape.size() != 4 || shape[1] != 3 || shape[2] != s || shape[3] != s)
    throw HttpError{400,
                    "input \"input\" must have shape [N, 3, " + std::to_string(s) + ", " + std::to_string(s) + "]"};
  if (shape[0] > max_images) throw HttpError{413, "at most " + std::to_string(max_images) + " images per request"};
  const size_t per_image = 3 * static_cast<size_t>(s) * s;
  if (data.size() != per_image * static_cast<size_t>(shape[0]))
    throw HttpError{400, "data holds " + std::to_string(data.size()) + " values, shape [" + std::to_string(shape[0]) +
                             ", 3, " + std::to_string(s) + ", " + std::to_string(s) + "] needs " +
                             std::to_string(per_image * shape[0]) + " (flattened)"};
  for (int64_t i = 0; i < shape[0]; ++i) {
    std::vector<float> image(per_image);
    for (size_t j = 0; j < per_image; ++j) {
      const json& v = data[static_cast<size_t>(i) * per_image + j];
      if (!v.is_number()) throw HttpError{400, "data must hold numbers"};
      image[j] = v.get<float>();
      if (!std::isfinite(image[j])) throw HttpError{400, "data holds a value that is not finite"};
    }
    images.push_back(std::move(image));
  }
  return images;
}

std::vector<double> softmax(const std::vector<double>& logits) {
  double top = logits.empty() ? 0 : *std::max_element(logits.begin(), logits.end()), sum = 0;
  std::vector<double> p(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) sum += p[i] = std::exp(logits[i] - top);
  for (double& v : p) v /= sum;
  return p;
}

// Route family of a path, for metrics labels (bounded: no user strings in labels).
std::string route_of(const std::string& path) {
  if (path.rfind("/v2/health", 0) == 0) return "health";
  if (path.size() > 6 && path.compare(path.size() - 6, 6, "/infer") == 0) return "infer";
  if (path.rfind("/v2/models/", 0) == 0) return "model";
  if (path.rfind("/predictions/", 0) == 0) return "predictions";
  if (path == "/metrics") return "metrics";
  if (path == "/v2") return "server";
  return "other";
}

template <typename Handler>
httplib::Server::Handler guarded(Handler handler) {
  return [handler](const httplib::Request& req, httplib::Response& res) {
    try {
      handler(req, res);
    } catch (const HttpError& e) {
      send_error(res, e.status, e.message);
    } catch (const std::exception& e) {
      send_error(res, 500, e.what());
    }
  };
}

// A POST or PUT body read through httplib's content reader: unlike its default reading, this
// takes any Content-Type (curl --data-binary sends x-www-form-urlencoded, which httplib would
// otherwise cap at 8 KB and parse as a form). For multipart/form-data (curl -F data=@img.jpg,
// as TorchServe's clients send) the body is the first part's content. --max-body-mb applies.
template <typename Handler>
httplib::Server::HandlerWithContentReader with_body(Handler handler) {
  return [handler](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& read) {
    try {
      std::string body;
      bool ok = true;
      if (req.is_multipart_form_data()) {
        int part = 0;
        ok = read([&](const httplib::MultipartFormData&) { return ++part >= 1; },
                  [&](const char* data, size_t n) {
                    if (part == 1) body.append(data, n);
                    return true;
                  });
      } else {
        ok = read([&](const char* data, size_t n) {
          body.append(data, n);
          return true;
        });
      }
      if (!ok) {
        if (res.status == 413) throw HttpError{413, "the request body is larger than --max-body-mb"};
        throw HttpError{400, "cannot read the request body"};
      }
      handler(req, body, res);
    } catch (const HttpError& e) {
      send_error(res, e.status, e.message);
    } catch (const std::exception& e) {
      send_error(res, 500, e.what());
    }
  };
}

void add_routes(httplib::Server& svr, Service& service, const ServeOptions& o) {
  svr.Get("/v2/health/live", guarded([](const httplib::Request&, httplib::Response& res) {
            send_json(res, 200, json{{"live", true}});
          }));
  svr.Get("/v2/health/ready", guarded([&service](const httplib::Request&, httplib::Response& res) {
            const bool ready = service.ready.load();
            send_json(res, ready ? 200 : 503, json{{"ready", ready}});
          }));
  svr.Get("/v2", guarded([](const httplib::Request&, httplib::Response& res) {
            send_json(res, 200, json{{"name", "roost"}, {"version", ROOST_VERSION}, {"extensions", json::array()}});
          }));
  const std::string model = R"(/v2/models/([^/]+)(?:/versions/([^/]+))?)";
  svr.Get(model, guarded([&service](const httplib::Request& req, httplib::Response& res) {
            send_json(res, 200, service.metadata(service.find(req.matches[1], req.matches[2])));
          }));
  svr.Get(model + "/ready", guarded([&service](const httplib::Request& req, httplib::Response& res) {
            service.find(req.matches[1], req.matches[2]);
            send_json(res, service.ready.load() ? 200 : 503, json{{"ready", service.ready.load()}});
          }));
  svr.Post(model + "/infer",
           with_body([&service, &o](const httplib::Request& req, const std::string& text, httplib::Response& res) {
             const LoadedModel& m = service.find(req.matches[1], req.matches[2]);
             if (text.empty()) throw HttpError{400, "empty body: send a JSON inference request"};
             const json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
             if (body.is_discarded()) throw HttpError{400, "the body is not valid JSON"};
             const auto logits = service.infer(m, [&] { return request_images(service, m, body, o.max_queue); });
             json flat_logits = json::array(), flat_probs = json::array(), labels = json::array();
             for (const auto& row : logits) {
               const std::vector<double> p = softmax(row);
               for (size_t j = 0; j < row.size(); ++j) flat_logits.push_back(row[j]), flat_probs.push_back(p[j]);
               labels.push_back(m.predictor->class_names().at(
                   static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin())));
             }
             const int64_t n = static_cast<int64_t>(logits.size()),
                           k = static_cast<int64_t>(m.predictor->class_names().size());
             json out = {{"model_name", m.spec.name},
                         {"model_version", m.spec.version},
                         {"outputs",
                          {{{"name", "logits"}, {"datatype", "FP32"}, {"shape", {n, k}}, {"data", flat_logits}},
                           {{"name", "probabilities"}, {"datatype", "FP32"}, {"shape", {n, k}}, {"data", flat_probs}},
                           {{"name", "label"}, {"datatype", "BYTES"}, {"shape", {n}}, {"data", labels}}}}};
             if (body.contains("id")) out["id"] = body["id"];
             send_json(res, 200, out);
           }));
  const auto predictions =
      with_body([&service](const httplib::Request& req, const std::string& body, httplib::Response& res) {
        const LoadedModel& m = service.find(req.matches[1], "");
        if (body.empty()) throw HttpError{400, "empty body: send one JPEG or PNG image"};
        const auto logits =
            service.infer(m, [&] { return std::vector<std::vector<float>>{service.decode(m, body, "the body")}; });
        const std::vector<double> p = softmax(logits.at(0));
        const auto& classes = m.predictor->class_names();
        int top_k = std::min<int>(5, static_cast<int>(classes.size()));
        if (req.has_param("top_k")) {
          const std::string v = req.get_param_value("top_k");
          if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) < 1)
            throw HttpError{400, "top_k must be a positive integer"};
          top_k = std::min<int>(std::stoi(v), static_cast<int>(classes.size()));
        }
        std::vector<size_t> order(p.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
        json top = json::array();
        for (int i = 0; i < top_k; ++i) top.push_back({{"label", classes[order[i]]}, {"probability", p[order[i]]}});
        send_json(res, 200, json{{"label", classes[order[0]]}, {"probability", p[order[0]]}, {"top_k", top}});
      });
  svr.Post(R"(/predictions/([^/]+))", predictions);
  svr.Put(R"(/predictions/([^/]+))", predictions);  // curl -T image.jpg, as TorchServe's docs do
  svr.Get("/metrics", guarded([&service](const httplib::Request&, httplib::Response& res) {
            res.set_content(service.metrics.prometheus(), "text/plain; version=0.0.4");
          }));
}
}  // namespace

int run_server(const std::vector<ModelSpec>& models, const ServeOptions& o, const std::atomic<bool>& stop) {
  ROOST_USAGE_CHECK(!models.empty(), "no model given (--model M)");
  Service service(models, o);
  httplib::Server svr;
  const int threads = o.threads;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  svr.set_payload_max_length(static_cast<size_t>(o.max_body_mb * 1024 * 1024));
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_s * 1000));
  svr.set_read_timeout(timeout);
  svr.set_write_timeout(timeout);
  svr.set_keep_alive_timeout(2);
  // Answers are written as headers then body: with Nagle's algorithm the body waits for the
  // client's delayed ACK of the headers, 40 ms on Linux, longer than a forward pass.
  svr.set_tcp_nodelay(true);
  // httplib closes a keep-alive connection after 5 requests by default; under many clients the
  // reconnects then meet its short listen backlog and some are refused.
  svr.set_keep_alive_max_count(10000);
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) send_error(res, 404, "no route " + req.method + " " + req.path);
    else if (res.status == 413) send_error(res, 413, "the request body is larger than --max-body-mb");
    else send_error(res, res.status, "request failed");
  });
  // The start of each request, for its latency (a request runs on one worker thread).
  static thread_local Clock::time_point started;
  svr.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    started = Clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_logger([&service, &o](const httplib::Request& req, const httplib::Response& res) {
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    service.metrics.request(route_of(req.path), res.status, seconds);
    if (o.access_log)
      std::cerr << req.remote_addr << " \"" << req.method << " " << req.path << "\" " << res.status << " "
                << res.body.size() << " " << static_cast<int64_t>(seconds * 1e6) << "us" << std::endl;
  });
  add_routes(svr, service, o);

  // httplib listens with a backlog of 5: a burst of connects (64 clients reconnecting at once)
  // then meets resets. Listening again on the same socket raises the backlog.
  socket_t listening = INVALID_SOCKET;
  svr.set_socket_options([&listening](socket_t sock) {
    httplib::default_socket_options(sock);
    listening = sock;
  });
  const int port = o.port == 0 ? svr.bind_to_any_port(o.host) : (svr.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port <= 0)
    ROOST_USAGE_ERROR("cannot listen on ", o.host, ":", o.port, " (in use, or not an address of this machine?)");
  if (listening != INVALID_SOCKET) ::listen(listening, SOMAXCONN);
  std::thread listener([&svr] { svr.listen_after_bind(); });
  service.ready = true;
  std::cerr << "roost serve: listening on http://" << o.host << ":" << port << " (" << models.size() << " model(s))"
            << std::endl;
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // Graceful: not ready, no new connections, the requests in flight answered, then the
  // batchers (destroyed with the service) finish what is queued.
  service.ready = false;
  std::cerr << "roost serve: stopping (answering the requests in flight)" << std::endl;
  svr.stop();
  listener.join();
  std::cerr << "roost serve: stopped" << std::endl;
  return 0;
}

}  // namespace roost::serve
