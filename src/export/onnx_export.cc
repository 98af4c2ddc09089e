// src/export/onnx_export.cc — a roost weight file as an ONNX ResNet (onnx.h). The graph is
// read off the state dict's names and shapes, in torchvision's layout: a 7x7 stem with
// BatchNorm, ReLU and a 3x3 max pool; layer1..layer4 of BasicBlocks (conv1, conv2) or
// Bottlenecks (conv1, conv2, conv3; the stride on the 3x3 conv2, torchvision v1.5), with a
// downsample (1x1 conv + BatchNorm) where the weights have one; global average pool and fc.
#include "roost/export/onnx.h"

#include <cmath>
#include <map>

#include "onnx_graph.h"
#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/data/transforms.h"
#include "roost/model/state_dict.h"
#include "roost/train/config.h"

namespace roost::exporting {

namespace {
constexpr double kBatchNormEps = 1e-5;  // torchvision's (and roost's) BatchNorm2d

class ResNetWriter {
 public:
  ResNetWriter(const model::WeightsFile& w, const OnnxOptions& o, onnx::GraphProto* g) : options_(o), graph_(g) {
    for (const auto& [name, t] : w.tensors) tensors_[name] = t;
  }

  std::string network(const std::string& input) {
    std::string x = conv_bn(input, "conv1", "bn1", 2, true);
    x = graph_.node(
        "MaxPool", {x},
        {Attr::ints_of("kernel_shape", {3, 3}), Attr::ints_of("strides", {2, 2}), Attr::ints_of("pads", {1, 1, 1, 1})},
        "maxpool");
    for (int layer = 1; layer <= 4; ++layer) {
      for (int block = 0; has("layer" + std::to_string(layer) + "." + std::to_string(block) + ".conv1.weight"); ++block)
        x = residual_block(x, "layer" + std::to_string(layer) + "." + std::to_string(block),
                           layer > 1 && block == 0 ? 2 : 1);
      if (!has("layer" + std::to_string(layer) + ".0.conv1.weight"))
        ROOST_USAGE_ERROR("the weights have no layer", layer, ".0: not a torchvision-style ResNet");
    }
    x = graph_.node("GlobalAveragePool", {x}, {}, "avgpool");
    x = graph_.node("Flatten", {x}, {Attr::int_of("axis", 1)}, "flatten");
    return graph_.node("Gemm", {x, param("fc.weight"), param("fc.bias")}, {Attr::int_of("transB", 1)}, "fc", "logits");
  }

 private:
  bool has(const std::string& name) const { return tensors_.count(name) > 0; }

  const torch::Tensor& tensor(const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) ROOST_USAGE_ERROR("the weights have no ", name, ": not a torchvision-style ResNet");
    return it->second;
  }

  std::string param(const std::string& name) { return graph_.initializer(name, tensor(name)); }

  // Conv (no bias) + BatchNorm [+ ReLU]; with --fold-bn the BatchNorm becomes the Conv's
  // scaled weights and bias (computed in float64, then rounded once).
  std::string conv_bn(const std::string& x, const std::string& conv, const std::string& bn, int64_t stride, bool relu) {
    const torch::Tensor& w = tensor(conv + ".weight");
    if (w.dim() != 4) ROOST_USAGE_ERROR(conv, ".weight has ", w.dim(), " dimensions, a Conv2d weight has 4");
    const int64_t k = w.size(2), pad = k / 2;
    const std::vector<Attr> attrs = {Attr::ints_of("kernel_shape", {k, w.size(3)}),
                                     Attr::ints_of("strides", {stride, stride}),
                                     Attr::ints_of("pads", {pad, pad, pad, pad})};
    std::string y;
    if (options_.fold_bn) {
      const torch::Tensor gamma = tensor(bn + ".weight").to(torch::kFloat64),
                          beta = tensor(bn + ".bias").to(torch::kFloat64);
      const torch::Tensor mean = tensor(bn + ".running_mean").to(torch::kFloat64);
      const torch::Tensor scale = gamma / torch::sqrt(tensor(bn + ".running_var").to(torch::kFloat64) + kBatchNormEps);
      const std::string wf =
          graph_.initializer(conv + ".weight_folded", w.to(torch::kFloat64) * scale.view({-1, 1, 1, 1}));
      const std::string bf = graph_.initializer(conv + ".bias_folded", beta - mean * scale);
      y = graph_.node("Conv", {x, wf, bf}, attrs, conv);
    } else {
      y = graph_.node("Conv", {x, param(conv + ".weight")}, attrs, conv);
      y = graph_.node(
          "BatchNormalization",
          {y, param(bn + ".weight"), param(bn + ".bias"), param(bn + ".running_mean"), param(bn + ".running_var")},
          {Attr::float_of("epsilon", static_cast<float>(kBatchNormEps))}, bn);
    }
    return relu ? graph_.node("Relu", {y}, {}, conv) : y;
  }

  std::string residual_block(const std::string& x, const std::string& p, int64_t stride) {
    const bool bottleneck = has(p + ".conv3.weight");
    std::string out;
    if (bottleneck) {
      out = conv_bn(x, p + ".conv1", p + ".bn1", 1, true);
      out = conv_bn(out, p + ".conv2", p + ".bn2", stride, true);
      out = conv_bn(out, p + ".conv3", p + ".bn3", 1, false);
    } else {
      out = conv_bn(x, p + ".conv1", p + ".bn1", stride, true);
      out = conv_bn(out, p + ".conv2", p + ".bn2", 1, false);
    }
    const std::string identity =
        has(p + ".downsample.0.weight") ? conv_bn(x, p + ".downsample.0", p + ".downsample.1", stride, false) : x;
    return graph_.node("Relu", {graph_.node("Add", {out, identity}, {}, p)}, {}, p);
  }

  const OnnxOptions& options_;
  GraphBuilder graph_;
  std::map<std::string, torch::Tensor> tensors_;
};

int ir_version_for(int opset) { return opset <= 11 ? 6 : opset <= 14 ? 7 : 8; }

void add_value_info(onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& dims, int batch) {
  v->set_name(name);
  onnx::TypeProto_Tensor* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto_Dimension* n = t->mutable_shape()->add_dim();
  if (batch > 0) n->set_dim_value(batch);
  else n->set_dim_param("N");
  for (int64_t d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
}

void add_metadata(onnx::ModelProto& m, const std::string& key, const std::string& value) {
  onnx::StringStringEntryProto* e = m.add_metadata_props();
  e->set_key(key);
  e->set_value(value);
}

std::string json_list(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) {
    out += (i ? ", " : "") + std::string("\"");
    for (char c : names[i]) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    out += "\"";
  }
  return out + "]";
}

std::string floats(const std::array<float, 3>& v) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "[%.9g, %.9g, %.9g]", v[0], v[1], v[2]);
  return buf;
}

}  // namespace

void export_onnx(const std::string& model_path, const OnnxOptions& o, const std::string& out_path) {
  ROOST_USAGE_CHECK(o.opset >= kMinOpset && o.opset <= kMaxOpset, "--opset must be in ", kMinOpset, "..", kMaxOpset,
                    " (got ", o.opset, ")");
  ROOST_USAGE_CHECK(o.batch >= 0, "--batch must be positive or 'dynamic'");
  const model::WeightsFile w = model::read_model_file(model_path);
  const int size = w.image_size > 0 ? w.image_size : 224;
  const int resize = w.resize_short > 0 ? w.resize_short : train::default_resize_short(size);
  const data::Normalization norm;

  onnx::ModelProto m;
  m.set_ir_version(ir_version_for(o.opset));
  m.set_producer_name("roost");
  m.set_producer_version(ROOST_VERSION);
  m.set_model_version(1);
  // No paths or times: the same weights give the same bytes wherever they are exported.
  m.set_doc_string(w.arch + " exported by roost" + (w.run_id.empty() ? "" : " from run " + w.run_id));
  onnx::OperatorSetIdProto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(o.opset);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name(w.arch);

  std::string input = "input";
  add_value_info(g->add_input(), "input", {3, size, size}, o.batch);
  if (o.include_preprocessing) {
    // (x / 255 - mean) / std = (x - 255 mean) / (255 std): two broadcasting nodes.
    GraphBuilder pre(g);
    torch::Tensor mean = torch::tensor(std::vector<float>(norm.mean.begin(), norm.mean.end())).view({1, 3, 1, 1});
    torch::Tensor stdev = torch::tensor(std::vector<float>(norm.std.begin(), norm.std.end())).view({1, 3, 1, 1});
    const std::string m255 = pre.initializer("preprocess.mean_255", mean.to(torch::kFloat64) * 255);
    const std::string s255 = pre.initializer("preprocess.std_255", stdev.to(torch::kFloat64) * 255);
    input = pre.node("Div", {pre.node("Sub", {input, m255}, {}, "preprocess"), s255}, {}, "preprocess");
  }
  ResNetWriter(w, o, g).network(input);
  const int64_t classes = static_cast<int64_t>(w.class_names.size());
  add_value_info(g->add_output(), "logits", {classes}, o.batch);

  add_metadata(m, "arch", w.arch);
  add_metadata(m, "class_names", json_list(w.class_names));
  add_metadata(m, "image_size", std::to_string(size));
  add_metadata(m, "resize_short", std::to_string(resize));
  add_metadata(m, "input",
               o.include_preprocessing
                   ? "RGB, 0..255 as float, Resize(resize_short) + CenterCrop(image_size); normalized in the graph"
                   : "RGB, Resize(resize_short) + CenterCrop(image_size), /255, then (x - mean) / std");
  add_metadata(m, "mean", floats(norm.mean));
  add_metadata(m, "std", floats(norm.std));
  add_metadata(m, "batchnorm", o.fold_bn ? "folded into Conv" : "BatchNormalization nodes");
  if (!w.run_id.empty()) add_metadata(m, "run_id", w.run_id);

  std::string bytes;
  if (!m.SerializeToString(&bytes)) ROOST_THROW("cannot serialize the ONNX model (over 2 GiB?)");
  try {
    write_file_atomic(out_path, bytes);
  } catch (const Error& e) {
    ROOST_USAGE_ERROR("cannot write ", out_path, ": ", e.message());
  }
}

}  // namespace roost::exporting
