// predict_cmd.cc — `roost predict`: options → Predictor → one line per image (and per guess
// with --top-k), tab-separated or JSON. One process, no mpirun.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "args.h"
#include "commands.h"
#include "roost/core/error.h"
#include "roost/core/json.h"
#include "roost/train/predict.h"

namespace roost::cli {

namespace {
// Images per forward pass: bounds memory for long lists while still batching.
constexpr size_t kBatch = 16;

cxxopts::Options predict_options() {
  cxxopts::Options o("roost predict",
                     "Classify images with a trained model (no mpirun needed):\n"
                     "  roost predict --model OUT/model.h5 IMAGE... [--json] [--top-k K]\n"
                     "Prints PATH<TAB>LABEL<TAB>PROBABILITY per image (K lines per image with --top-k,\n"
                     "most probable first). Images get the validation transform: Resize of the short\n"
                     "side, CenterCrop, ImageNet normalization, with the sizes the model file records.\n"
                     "A directory stands for its JPEG/PNG files (recursively, sorted). An unreadable\n"
                     "image gets one error line; the others are classified; the exit status is 2 if any failed.");
  // clang-format off
  o.add_options()
      ("model", "roost weight file: model.h5 from roost train, or tools/roost_weights.py to-h5 (required)",
       cxxopts::value<std::string>())
      ("image-size", "center-crop size (default: the model file's, else 224)", cxxopts::value<std::string>())
      ("resize-short", "Resize() of the short side before the crop (default: the model file's, else "
                       "round(image-size x 256/224))",
       cxxopts::value<std::string>())
      ("jpeg-dct-scale", "off|on: on decodes a JPEG at 1/2, 1/4 or 1/8 of its size where Resize() shrinks it 2x "
                         "or more (as roost train --jpeg-dct-scale): faster, but the pixels are no longer PIL's",
       cxxopts::value<std::string>()->default_value("off"))
      ("threads", "threads of the forward pass (0 = every core)", cxxopts::value<std::string>()->default_value("0"))
      ("top-k", "the K most probable classes per image", cxxopts::value<std::string>()->default_value("1"))
      ("json", "one JSON object per line: {\"image\": ..., \"label\": ..., \"probability\": ...}")
      ("logits", "also print the model's raw outputs, one per class in class order (JSON: \"logits\": [...]; "
                 "lines: a fourth column, comma-separated)")
      ("images", "image files (JPEG or PNG) or directories of them", cxxopts::value<std::vector<std::string>>())
      ("h,help", "show this help");
  // clang-format on
  o.parse_positional({"images"});
  o.positional_help("IMAGE...");
  return o;
}

int positive_option(const cxxopts::ParseResult& r, const std::string& name) {
  if (!r.count(name)) return 0;  // 0: let the model file decide
  const int v = get_int(r, name);
  ROOST_USAGE_CHECK(v >= 1, "--", name, " must be at least 1, got ", v);
  return v;
}

bool is_image_name(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

// Files as given; a directory becomes its JPEG/PNG files, recursively, sorted by path (as
// ImageFolder orders them). A directory without images or that cannot be walked is an error.
std::vector<std::string> expand(const std::vector<std::string>& args) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const auto& arg : args) {
    std::error_code ec;
    if (!fs::is_directory(arg, ec)) {
      out.push_back(arg);
      continue;
    }
    std::vector<std::string> found;
    fs::recursive_directory_iterator it(arg, fs::directory_options::none, ec), end;
    for (; !ec && it != end; it.increment(ec))
      if (it->is_regular_file(ec) && is_image_name(it->path())) found.push_back(it->path().string());
    if (ec) ROOST_USAGE_ERROR("cannot list ", arg, ": ", ec.message());
    if (found.empty()) ROOST_USAGE_ERROR("directory ", arg, " holds no .jpg, .jpeg or .png files");
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

void print(const train::Prediction& p, bool json, bool logits) {
  std::string list;
  for (double v : p.logits) list += (list.empty() ? "" : ",") + json_value(v);
  for (const train::Guess& g : p.top) {
    if (json) {
      JsonObject o;
      o.add("image", p.image).add("label", g.label).add("probability", g.probability);
      if (logits) o.raw("logits", "[" + list + "]");
      std::cout << o.str() << "\n";
    } else {
      char prob[32];
      std::snprintf(prob, sizeof prob, "%.4f", g.probability);
      std::cout << p.image << "\t" << g.label << "\t" << prob << (logits ? "\t" + list : std::string()) << "\n";
    }
  }
}
}  // namespace

int predict_main(int argc, char** argv) {
  cxxopts::Options options = predict_options();
  cxxopts::ParseResult parsed = parse_or_usage(options, argc, argv);
  if (print_help_if_asked(options, parsed)) return 0;
  const std::string model = get_required(parsed, "model");
  train::PredictOptions po;
  po.image_size = positive_option(parsed, "image-size");
  po.resize_short = positive_option(parsed, "resize-short");
  po.threads = get_int(parsed, "threads");
  const std::string dct = parsed["jpeg-dct-scale"].as<std::string>();
  ROOST_USAGE_CHECK(dct == "off" || dct == "on", "--jpeg-dct-scale must be off or on (got '", dct, "')");
  po.jpeg_dct_scale = dct == "on";
  const int top_k = get_int(parsed, "top-k");
  ROOST_USAGE_CHECK(top_k >= 1, "--top-k must be at least 1, got ", top_k);
  if (!parsed.count("images")) ROOST_USAGE_ERROR("no images given (roost predict --model M IMAGE...)");
  const auto images = expand(parsed["images"].as<std::vector<std::string>>());
  const bool json = parsed.count("json") > 0;
  const bool logits = parsed.count("logits") > 0;

  train::Predictor predictor(model, po);
  size_t failed = 0;
  for (size_t start = 0; start < images.size(); start += kBatch) {
    const std::vector<std::string> batch(images.begin() + start,
                                         images.begin() + std::min(images.size(), start + kBatch));
    for (const train::Prediction& p : predictor.predict(batch, top_k)) {
      if (!p.error.empty()) {
        std::cout.flush();
        std::cerr << "roost predict: error: " << p.error << std::endl;
        ++failed;
        continue;
      }
      print(p, json, logits);
    }
    std::cout.flush();
  }
  return failed > 0 ? 2 : 0;  // each failure had its line
}

}  // namespace roost::cli
