// roost/model/resnet.cc — ResNet blocks and network, mirroring torchvision/models/resnet.py.
#include "roost/model/resnet.h"

#include "roost/core/error.h"

namespace roost::model {

namespace nn = torch::nn;

namespace {
nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}
SyncableBatchNorm bn(int64_t features) {
  return SyncableBatchNorm(nn::BatchNorm2dOptions(features).eps(1e-5).momentum(0.1));
}
nn::Sequential make_downsample(int64_t in, int64_t out, int64_t stride) {
  // torchvision: Sequential(conv1x1, BatchNorm) — children named "0" and "1".
  return nn::Sequential(conv(in, out, 1, stride, 0), bn(out));
}

struct ArchSpec {
  const char* name;
  bool bottleneck;
  int64_t blocks[4];
};
constexpr ArchSpec kArchs[] = {
    {"resnet18", false, {2, 2, 2, 2}},  {"resnet34", false, {3, 4, 6, 3}},  {"resnet50", true, {3, 4, 6, 3}},
    {"resnet101", true, {3, 4, 23, 3}}, {"resnet152", true, {3, 8, 36, 3}},
};

const ArchSpec& find_arch(const std::string& name) {
  for (const auto& spec : kArchs)
    if (name == spec.name) return spec;
  ROOST_USAGE_ERROR("unknown architecture '", name, "' (choose resnet18, resnet34, resnet50, resnet101 or resnet152)");
}
}  // namespace

const std::vector<std::string>& resnet_archs() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& spec : kArchs) v.emplace_back(spec.name);
    return v;
  }();
  return names;
}

BasicBlockImpl::BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride, bool ds) {
  conv1 = register_module("conv1", conv(inplanes, planes, 3, stride, 1));
  bn1 = register_module("bn1", bn(planes));
  conv2 = register_module("conv2", conv(planes, planes, 3, 1, 1));
  bn2 = register_module("bn2", bn(planes));
  if (ds) downsample = register_module("downsample", make_downsample(inplanes, planes, stride));
}

torch::Tensor BasicBlockImpl::forward(torch::Tensor x) {
  torch::Tensor identity = downsample ? downsample->forward(x) : x;
  torch::Tensor out = torch::relu(bn1(conv1(x)));
  out = bn2(conv2(out));
  return torch::relu(out + identity);
}

BottleneckImpl::BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, bool ds) {
  // torchvision v1.5: the stride sits on the 3×3 convolution, not on the first 1×1.
  conv1 = register_module("conv1", conv(inplanes, planes, 1, 1, 0));
  bn1 = register_module("bn1", bn(planes));
  conv2 = register_module("conv2", conv(planes, planes, 3, stride, 1));
  bn2 = register_module("bn2", bn(planes));
  conv3 = register_module("conv3", conv(planes, planes * kExpansion, 1, 1, 0));
  bn3 = register_module("bn3", bn(planes * kExpansion));
  if (ds) downsample = register_module("downsample", make_downsample(inplanes, planes * kExpansion, stride));
}

torch::Tensor BottleneckImpl::forward(torch::Tensor x) {
  torch::Tensor identity = downsample ? downsample->forward(x) : x;
  torch::Tensor out = torch::relu(bn1(conv1(x)));
  out = torch::relu(bn2(conv2(out)));
  out = bn3(conv3(out));
  return torch::relu(out + identity);
}

template <typename Block>
nn::Sequential ResNetImpl::make_layer(int64_t planes, int64_t blocks, int64_t stride) {
  nn::Sequential layer;
  bool ds = stride != 1 || inplanes_ != planes * Block::Impl::kExpansion;
  layer->push_back(Block(inplanes_, planes, stride, ds));
  inplanes_ = planes * Block::Impl::kExpansion;
  for (int64_t i = 1; i < blocks; ++i) layer->push_back(Block(inplanes_, planes, 1, false));
  return layer;
}

ResNetImpl::ResNetImpl(const ResNetOptions& options) : options_(options) {
  const ArchSpec& spec = find_arch(options.arch);
  ROOST_USAGE_CHECK(options.num_classes >= 1, "num_classes must be positive");
  conv1 = register_module("conv1", conv(3, 64, 7, 2, 3));
  bn1 = register_module("bn1", bn(64));
  const int64_t planes[4] = {64, 128, 256, 512};
  nn::Sequential* layers[4] = {&layer1, &layer2, &layer3, &layer4};
  const char* names[4] = {"layer1", "layer2", "layer3", "layer4"};
  for (int i = 0; i < 4; ++i) {
    int64_t stride = i == 0 ? 1 : 2;
    *layers[i] = spec.bottleneck ? make_layer<Bottleneck>(planes[i], spec.blocks[i], stride)
                                 : make_layer<BasicBlock>(planes[i], spec.blocks[i], stride);
    register_module(names[i], *layers[i]);
  }
  feature_dim_ = inplanes_;
  fc = register_module("fc", nn::Linear(feature_dim_, options.num_classes));
  initialize();
}

void ResNetImpl::initialize() {
  torch::NoGradGuard no_grad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* c = module->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* b = module->as<SyncableBatchNormImpl>()) {
      nn::init::ones_(b->weight);
      nn::init::zeros_(b->bias);
    }
  }
  if (!options_.zero_init_residual) return;
  for (auto& module : modules(false)) {
    if (auto* block = module->as<BasicBlockImpl>()) nn::init::zeros_(block->last_bn()->weight);
    if (auto* block = module->as<BottleneckImpl>()) nn::init::zeros_(block->last_bn()->weight);
  }
}

void ResNetImpl::reset_classifier(int64_t num_classes) {
  options_.num_classes = num_classes;
  fc = replace_module("fc", nn::Linear(feature_dim_, num_classes));
}

torch::Tensor ResNetImpl::forward(torch::Tensor x) {
  x = torch::relu(bn1(conv1(x)));
  x = torch::max_pool2d(x, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
  x = layer4->forward(layer3->forward(layer2->forward(layer1->forward(x))));
  x = torch::adaptive_avg_pool2d(x, {1, 1});
  return fc(torch::flatten(x, 1));
}

ResNet make_resnet(const ResNetOptions& options) {
  find_arch(options.arch);  // validate before building anything
  return ResNet(options);
}

}  // namespace roost::model
