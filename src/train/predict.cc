// roost/train/predict.cc — a roost weight file turned into a classifier of image files, with
// the preprocessing of the validation loader (same plan, same resize, same normalization),
// so a file gets the class and probability the trainer's evaluation would have given it.
#include "roost/train/predict.h"

#include "roost/train/config.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "roost/core/error.h"
#include "roost/data/decode.h"
#include "roost/data/resize.h"
#include "roost/data/transforms.h"
#include "roost/model/folded_resnet.h"
#include "roost/model/pretrained.h"
#include "roost/train/config.h"

namespace roost::train {

struct Predictor::Impl {
  std::unique_ptr<model::FoldedResNet> net;
  std::string arch;
  std::vector<std::string> class_names;
  int image_size = 0, resize_short = 0;
  int threads = 1;
  data::DecodeOptions decode;  // --jpeg-dct-scale
};

namespace {
std::string known_archs() {
  std::string out;
  for (const auto& a : model::resnet_archs()) out += (out.empty() ? "" : ", ") + a;
  return out;
}

// Why the encoded image cannot be classified ("" when it was preprocessed into `out`).
std::string preprocess_bytes(const uint8_t* bytes, size_t n, int resize_short, int size,
                             const data::DecodeOptions& decode, float* out) {
  try {
    data::ResizePlan plan;
    auto make_plan = [&](int height, int width) { return data::val_plan(height, width, resize_short, size); };
    data::Image image = data::decode_for_plan(bytes, n, make_plan, &plan, decode);
    data::apply_plan_normalized(image, plan, data::Normalization{}, out);  // ImageNet statistics
  } catch (const Error& e) {
    return e.message();
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

// Why `path` cannot be classified ("" when it was decoded into `out`).
std::string load_image(const std::string& path, int resize_short, int size, const data::DecodeOptions& decode,
                       float* out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) return "image " + path + " does not exist";
  if (!fs::is_regular_file(path, ec)) return "image " + path + " is not a file";
  std::vector<uint8_t> bytes;
  try {
    bytes = data::read_file(path);
  } catch (const Error& e) {
    return "cannot read image " + path + ": " + e.message();
  }
  const std::string why = preprocess_bytes(bytes.data(), bytes.size(), resize_short, size, decode, out);
  return why.empty() ? why : "cannot decode image " + path + ": " + why;
}
}  // namespace

Predictor::Predictor(const std::string& model_path, const PredictOptions& options) : impl_(std::make_unique<Impl>()) {
  ROOST_USAGE_CHECK(options.image_size >= 0 && options.resize_short >= 0, "image sizes must be positive");
  ROOST_USAGE_CHECK(options.threads >= 0 && options.threads <= kMaxThreads, "--threads must be in [0, ", kMaxThreads,
                    "]");
  // libtorch's own default can be one thread (it counts physical cores): one process that
  // classifies files should use the machine.
  impl_->threads =
      options.threads > 0 ? options.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  use_threads_here();
  impl_->decode.jpeg_dct_scale = options.jpeg_dct_scale;
  model::WeightsFile file = model::read_model_file(model_path);
  const auto& archs = model::resnet_archs();
  if (std::find(archs.begin(), archs.end(), file.arch) == archs.end())
    ROOST_USAGE_ERROR(model_path, " is for an unknown architecture '", file.arch, "' (known: ", known_archs(), ")");
  if (file.class_names.empty()) ROOST_USAGE_ERROR(model_path, " names no classes");
  impl_->arch = file.arch;
  impl_->class_names = file.class_names;
  // An explicit option wins, then what the file records, then the training defaults.
  impl_->image_size = options.image_size ? options.image_size : file.image_size ? file.image_size : 224;
  // The file's resize belongs to the file's crop size; another crop size gets torchvision's ratio.
  const bool same_crop = !options.image_size || options.image_size == file.image_size;
  impl_->resize_short = options.resize_short             ? options.resize_short
                        : same_crop && file.resize_short ? file.resize_short
                                                         : default_resize_short(impl_->image_size);
  ROOST_USAGE_CHECK(impl_->resize_short >= impl_->image_size, "resize-short (", impl_->resize_short,
                    ") must be at least image-size (", impl_->image_size, ")",
                    file.image_size || file.resize_short
                        ? "; the model file records resize-short " + std::to_string(file.resize_short) +
                              ", image-size " + std::to_string(file.image_size)
                        : "");

  model::ResNetOptions o;
  o.arch = file.arch;
  o.num_classes = static_cast<int64_t>(file.class_names.size());
  model::ResNet net = model::make_resnet(o);
  model::load_state_dict_strict(net, file.tensors, model_path);
  net->eval();
  // Inference only: BatchNorm folded into the convolutions, oneDNN's layout where libtorch
  // has it (folded_resnet.h); the module itself is not kept.
  impl_->net = std::make_unique<model::FoldedResNet>(*net);
}

Predictor::~Predictor() = default;

// OpenMP keeps the thread count per thread: a server's forward-pass thread must set it too.
void Predictor::use_threads_here() const { torch::set_num_threads(impl_->threads); }

torch::Tensor Predictor::forward_tensor(const float* batch, int n) const {
  torch::InferenceMode inference;
  const int size = impl_->image_size;
  const torch::Tensor x = torch::from_blob(const_cast<float*>(batch), {n, 3, size, size}, torch::kFloat32);
  return impl_->net->forward(x).to(torch::kFloat64).contiguous();
}

std::string Predictor::preprocess(const uint8_t* bytes, size_t size, float* out) const {
  if (size == 0) return "empty image";
  return preprocess_bytes(bytes, size, impl_->resize_short, impl_->image_size, impl_->decode, out);
}

std::vector<std::vector<double>> Predictor::forward(const float* batch, int n) const {
  const torch::Tensor logits = forward_tensor(batch, n);
  std::vector<std::vector<double>> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const double* row = logits.data_ptr<double>() + static_cast<int64_t>(i) * logits.size(1);
    out[static_cast<size_t>(i)].assign(row, row + logits.size(1));
  }
  return out;
}

std::vector<Prediction> Predictor::predict(const std::vector<std::string>& images, int top_k) const {
  ROOST_USAGE_CHECK(top_k >= 1, "top-k must be at least 1");
  if (images.empty()) return {};
  const int size = impl_->image_size;
  const size_t per_image = 3 * static_cast<size_t>(size) * size;
  std::vector<Prediction> out(images.size());
  std::vector<float> batch(per_image * images.size());
  std::vector<size_t> good;  // indices of the images that were read, in batch order
  for (size_t i = 0; i < images.size(); ++i) {
    out[i].image = images[i];
    out[i].error =
        load_image(images[i], impl_->resize_short, size, impl_->decode, batch.data() + per_image * good.size());
    if (out[i].error.empty()) good.push_back(i);
  }
  if (good.empty()) return out;
  const int64_t n = static_cast<int64_t>(good.size());
  const int64_t k = std::min<int64_t>(top_k, static_cast<int64_t>(impl_->class_names.size()));
  torch::InferenceMode inference;
  const torch::Tensor logits = forward_tensor(batch.data(), static_cast<int>(n));
  torch::Tensor probs = torch::softmax(logits, 1);
  auto [values, indices] = probs.topk(k, 1);
  values = values.to(torch::kFloat64).contiguous();
  indices = indices.contiguous();
  for (int64_t i = 0; i < n; ++i) {
    Prediction& p = out[good[static_cast<size_t>(i)]];
    const double* row = logits.data_ptr<double>() + i * logits.size(1);
    p.logits.assign(row, row + logits.size(1));
    for (int64_t j = 0; j < k; ++j) {
      Guess g;
      g.index = static_cast<int>(indices[i][j].item<int64_t>());
      g.label = impl_->class_names.at(static_cast<size_t>(g.index));
      g.probability = values[i][j].item<double>();
      p.top.push_back(g);
    }
  }
  return out;
}

const std::string& Predictor::arch() const { return impl_->arch; }
const std::vector<std::string>& Predictor::class_names() const { return impl_->class_names; }
int Predictor::image_size() const { return impl_->image_size; }
int Predictor::resize_short() const { return impl_->resize_short; }

}  // namespace roost::train
