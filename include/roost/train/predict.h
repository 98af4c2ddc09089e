// roost/train/predict.h — classifying image files with a trained roost weight file: the
// validation transform of the data pipeline (Resize of the short side, CenterCrop, ImageNet
// normalization; sizes from the file when it records them), an eval-mode forward pass,
// softmax and the k most probable classes. Torch stays behind the implementation so the
// CLI that uses this includes no torch headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace roost::train {

struct PredictOptions {
  // 0 = as the weight file records it, else the training defaults 224 / 256.
  int image_size = 0;
  int resize_short = 0;
  int threads = 0;  // intra-op threads of the forward pass; 0 = every core of the machine
  // Decode JPEGs at 1/2..1/8 scale where Resize() shrinks them 2x or more (roost train's
  // --jpeg-dct-scale; roost/data/dct_scale.h): faster, but no longer PIL's pixels.
  bool jpeg_dct_scale = false;
};

struct Guess {
  std::string label;
  int index = 0;
  double probability = 0;
};

struct Prediction {
  std::string image;
  std::vector<Guess> top;      // most probable first; empty when the image could not be read
  std::string error;           // why it could not be read (missing, not a file, undecodable)
  std::vector<double> logits;  // the model's output for the image, one per class
};

class Predictor {
 public:
  // Loads `model_path` (a roost .h5). UsageError for a missing or unreadable file, a file
  // that is not a roost weight file, an unknown architecture or weights that do not fit it.
  Predictor(const std::string& model_path, const PredictOptions& options);
  ~Predictor();
  Predictor(const Predictor&) = delete;
  Predictor& operator=(const Predictor&) = delete;

  // Classifies `images` as one batch. An image that is missing or not a decodable JPEG/PNG
  // gets its error in its Prediction; the others are classified all the same.
  std::vector<Prediction> predict(const std::vector<std::string>& images, int top_k) const;

  // For servers: the validation transform of one encoded JPEG/PNG into `out` (3 x S x S
  // normalized floats, S = image_size()); "" on success, else why it cannot be read.
  // Thread-safe.
  std::string preprocess(const uint8_t* bytes, size_t size, float* out) const;
  // Gives the calling thread the forward pass's thread count (options.threads); OpenMP keeps
  // it per thread, so a thread other than the constructing one that runs forward() calls this.
  void use_threads_here() const;
  // Logits [n][classes] of n preprocessed images (n x 3 x S x S floats), one forward pass.
  std::vector<std::vector<double>> forward(const float* batch, int n) const;

  const std::string& arch() const;
  const std::vector<std::string>& class_names() const;
  int image_size() const;
  int resize_short() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  at::Tensor forward_tensor(const float* batch, int n) const;
};

}  // namespace roost::train
