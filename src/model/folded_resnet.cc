// roost/model/folded_resnet.cc — BatchNorm folded into the convolutions, and the oneDNN
// layout kept between layers (folded_resnet.h). The module tree is read by torchvision's
// names (conv1/bn1, layerN.I.convK/bnK, downsample.0/1, fc), which resnet.cc registers.
#include "roost/model/folded_resnet.h"

#include <string>

#include "roost/core/error.h"
#ifdef ROOST_WITH_ONEDNN
#include "onednn_resnet.h"
#endif

namespace roost::model {

namespace {
namespace nn = torch::nn;

std::shared_ptr<nn::Module> child(nn::Module& parent, const std::string& name) {
  for (const auto& item : parent.named_children())
    if (item.key() == name) return item.value();
  return nullptr;
}

template <typename M>
M& child_as(nn::Module& parent, const std::string& name) {
  const auto c = child(parent, name);
  M* m = c ? c->as<M>() : nullptr;
  ROOST_CHECK(m != nullptr, "ResNet module has no ", name, " of the expected kind");
  return *m;
}
}  // namespace

bool FoldedResNet::has_onednn() {
#ifdef ROOST_WITH_ONEDNN
  return true;
#else
  return false;
#endif
}

FoldedResNet::FoldedResNet(ResNetImpl& net, Backend backend) {
  torch::NoGradGuard no_grad;
  if (backend == Backend::Auto)
    backend = has_onednn() ? Backend::Onednn : torch::hasMKLDNN() ? Backend::Mkldnn : Backend::Dense;
  ROOST_CHECK(backend != Backend::Mkldnn || torch::hasMKLDNN(), "this libtorch has no oneDNN (mkldnn)");
  ROOST_CHECK(backend != Backend::Onednn || has_onednn(), "roost was built without oneDNN's headers (libdnnl-dev)");
  backend_ = backend;
  stem_ = fold(child_as<nn::Conv2dImpl>(net, "conv1"), child_as<SyncableBatchNormImpl>(net, "bn1"));
  for (const char* layer_name : {"layer1", "layer2", "layer3", "layer4"}) {
    for (const auto& item : child_as<nn::SequentialImpl>(net, layer_name).named_children()) {
      nn::Module& block = *item.value();
      Block b;
      for (int k = 1; child(block, "conv" + std::to_string(k)); ++k)
        b.convs.push_back(fold(child_as<nn::Conv2dImpl>(block, "conv" + std::to_string(k)),
                               child_as<SyncableBatchNormImpl>(block, "bn" + std::to_string(k))));
      if (const auto ds = child(block, "downsample")) {
        b.has_downsample = true;
        b.downsample = fold(child_as<nn::Conv2dImpl>(*ds, "0"), child_as<SyncableBatchNormImpl>(*ds, "1"));
      }
      blocks_.push_back(std::move(b));
    }
  }
  auto& fc = child_as<nn::LinearImpl>(net, "fc");
  fc_weight_ = fc.weight.detach().to(torch::kFloat32).clone();
  fc_bias_ = fc.bias.detach().to(torch::kFloat32).clone();
  if (backend_ == Backend::Onednn) make_onednn();
  mkldnn_ = backend_ == Backend::Mkldnn;
  if (mkldnn_) {
    to_mkldnn(stem_);
    for (Block& b : blocks_) {
      for (Conv& c : b.convs) to_mkldnn(c);
      if (b.has_downsample) to_mkldnn(b.downsample);
    }
  }
}

FoldedResNet::~FoldedResNet() = default;

void FoldedResNet::make_onednn() {
#ifdef ROOST_WITH_ONEDNN
  auto layer = [](const Conv& c) { return onednn::ConvLayer{c.weight, c.bias, c.stride[0], c.padding[0]}; };
  std::vector<onednn::BlockLayers> blocks;
  for (const Block& b : blocks_) {
    onednn::BlockLayers o;
    for (const Conv& c : b.convs) o.convs.push_back(layer(c));
    o.has_downsample = b.has_downsample;
    if (b.has_downsample) o.downsample = layer(b.downsample);
    blocks.push_back(std::move(o));
  }
  onednn_ = std::make_unique<onednn::Network>(layer(stem_), std::move(blocks));
#endif
}

// oneDNN's preferred weight layout for this convolution, once, instead of on every pass.
void FoldedResNet::to_mkldnn(Conv& c) const {
  c.weight = torch::mkldnn_reorder_conv2d_weight(c.weight.to_mkldnn(), c.padding, c.stride, {1, 1}, 1);
}

FoldedResNet::Conv FoldedResNet::fold(nn::Conv2dImpl& conv, SyncableBatchNormImpl& bn) {
  const torch::Tensor scale =
      bn.weight.detach().to(torch::kFloat64) / torch::sqrt(bn.running_var.to(torch::kFloat64) + bn.options.eps());
  Conv c;
  c.stride = torch::IntArrayRef(conv.options.stride()).vec();
  c.padding = torch::IntArrayRef(c10::get<torch::ExpandingArray<2>>(conv.options.padding())).vec();
  c.weight = (conv.weight.detach().to(torch::kFloat64) * scale.view({-1, 1, 1, 1})).to(torch::kFloat32).contiguous();
  c.bias = (bn.bias.detach().to(torch::kFloat64) - bn.running_mean.to(torch::kFloat64) * scale).to(torch::kFloat32);
  return c;
}

torch::Tensor FoldedResNet::run(const Conv& c, const torch::Tensor& x) const {
  if (mkldnn_) return torch::mkldnn_convolution(x, c.weight, c.bias, c.padding, c.stride, {1, 1}, 1);
  return torch::conv2d(x, c.weight, c.bias, c.stride, c.padding);
}

torch::Tensor FoldedResNet::forward(const torch::Tensor& input) const {
  torch::InferenceMode inference;
#ifdef ROOST_WITH_ONEDNN
  if (onednn_) {
    const torch::Tensor f = torch::adaptive_avg_pool2d(onednn_->features(input), {1, 1});
    return torch::linear(torch::flatten(f, 1), fc_weight_, fc_bias_);
  }
#endif
  torch::Tensor x = mkldnn_ ? input.to(torch::kFloat32).contiguous().to_mkldnn() : input.to(torch::kFloat32);
  x = torch::max_pool2d(run(stem_, x).relu_(), /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
  for (const Block& b : blocks_) {
    const torch::Tensor identity = b.has_downsample ? run(b.downsample, x) : x;
    torch::Tensor out = x;
    for (size_t k = 0; k + 1 < b.convs.size(); ++k) out = run(b.convs[k], out).relu_();
    out = run(b.convs.back(), out);
    x = out.add_(identity).relu_();
  }
  x = torch::adaptive_avg_pool2d(x, {1, 1});
  if (mkldnn_) x = x.to_dense();
  return torch::linear(torch::flatten(x, 1), fc_weight_, fc_bias_);
}

}  // namespace roost::model
