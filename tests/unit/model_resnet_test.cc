// model_resnet_test.cc — the ResNet family: torchvision's parameter counts and names,
// output shapes, initialization, classifier replacement, and the HDF5 weight round trip.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "roost/core/error.h"
#include "roost/model/resnet.h"
#include "roost/model/state_dict.h"

namespace roost::model {
namespace {

struct ArchCount {
  const char* arch;
  int64_t params;  // torchvision's published totals for 1000 classes
};

class ResNetArchTest : public ::testing::TestWithParam<ArchCount> {};

TEST_P(ResNetArchTest, ParameterCountMatchesTorchvision) {
  ResNetOptions o;
  o.arch = GetParam().arch;
  ResNet net = make_resnet(o);
  int64_t total = 0;
  for (const auto& p : net->parameters()) total += p.numel();
  EXPECT_EQ(total, GetParam().params);
}

INSTANTIATE_TEST_SUITE_P(All, ResNetArchTest,
                         ::testing::Values(ArchCount{"resnet18", 11689512}, ArchCount{"resnet34", 21797672},
                                           ArchCount{"resnet50", 25557032}, ArchCount{"resnet101", 44549160},
                                           ArchCount{"resnet152", 60192808}),
                         [](const auto& info) { return std::string(info.param.arch); });

TEST(ResNet, StateDictNamesFollowTorchvision) {
  ResNetOptions o;
  o.num_classes = 2;
  ResNet net = make_resnet(o);
  NamedTensors sd = state_dict(*net);
  ASSERT_EQ(sd.size(), 122u);  // len(torchvision.models.resnet18().state_dict())
  EXPECT_EQ(sd.front().first, "conv1.weight");
  EXPECT_EQ(sd[1].first, "bn1.weight");
  EXPECT_EQ(sd[5].first, "bn1.num_batches_tracked");
  EXPECT_EQ(sd.back().first, "fc.bias");
  std::set<std::string> names;
  for (const auto& kv : sd) names.insert(kv.first);
  for (const char* key : {"layer1.0.conv1.weight", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var",
                          "layer4.1.bn2.bias", "fc.weight"})
    EXPECT_TRUE(names.count(key)) << key;
  EXPECT_FALSE(names.count("layer1.0.downsample.0.weight"));
}

TEST(ResNet, ForwardShapesAndBottleneckStride) {
  for (const char* arch : {"resnet18", "resnet50"}) {
    ResNetOptions o;
    o.arch = arch;
    o.num_classes = 3;
    ResNet net = make_resnet(o);
    net->eval();
    torch::NoGradGuard no_grad;
    torch::Tensor y = net->forward(torch::randn({2, 3, 64, 64}));
    EXPECT_EQ(y.sizes(), torch::IntArrayRef({2, 3})) << arch;
  }
  ResNetOptions o;
  o.arch = "resnet50";
  ResNet net = make_resnet(o);
  for (const auto& p : net->named_parameters()) {
    if (p.key() == "layer2.0.conv2.weight") EXPECT_EQ(p.value().size(2), 3);  // stride on the 3×3
    if (p.key() == "layer2.0.conv1.weight") EXPECT_EQ(p.value().size(2), 1);
  }
}

TEST(ResNet, InitializationAsTorchvision) {
  ResNetOptions o;
  o.zero_init_residual = true;
  ResNet net = make_resnet(o);
  for (const auto& p : net->named_parameters()) {
    const std::string& k = p.key();
    if (k == "bn1.weight") EXPECT_TRUE(p.value().eq(1).all().item<bool>());
    if (k == "layer1.0.bn2.weight") EXPECT_TRUE(p.value().eq(0).all().item<bool>());
    if (k == "layer1.0.bn1.weight") EXPECT_TRUE(p.value().eq(1).all().item<bool>());
    if (k == "conv1.weight") {
      // kaiming normal, fan_out = 64 * 7 * 7: std = sqrt(2 / 3136) ≈ 0.0253
      double std = p.value().std().item<double>();
      EXPECT_NEAR(std, std::sqrt(2.0 / 3136.0), 0.002);
    }
  }
}

TEST(ResNet, UnknownArchitectureIsUsageError) {
  ResNetOptions o;
  o.arch = "resnet19";
  EXPECT_THROW(make_resnet(o), UsageError);
}

TEST(ResNet, ResetClassifierKeepsBackbone) {
  ResNet net = make_resnet({});
  torch::Tensor before = net->named_parameters()["layer1.0.conv1.weight"].clone();
  net->reset_classifier(5);
  EXPECT_EQ(net->named_parameters()["fc.weight"].size(0), 5);
  EXPECT_TRUE(net->named_parameters()["layer1.0.conv1.weight"].equal(before));
}

TEST(WeightsH5, RoundTripIsExact) {
  ResNetOptions o;
  o.num_classes = 2;
  ResNet net = make_resnet(o);
  {  // make buffers non-trivial
    net->train();
    net->forward(torch::randn({2, 3, 32, 32}));
  }
  auto dir = std::filesystem::temp_directory_path() / ("roost-h5-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "model.h5").string();
  NamedTensors sd = state_dict(*net);
  save_weights_h5(path, sd, "resnet18", {"coat", "pullover"});
  WeightsFile w = load_weights_h5(path);
  EXPECT_EQ(w.arch, "resnet18");
  EXPECT_EQ(w.class_names, (std::vector<std::string>{"coat", "pullover"}));
  ASSERT_EQ(w.tensors.size(), sd.size());
  for (size_t i = 0; i < sd.size(); ++i) {
    EXPECT_EQ(w.tensors[i].first, sd[i].first);
    EXPECT_TRUE(w.tensors[i].second.equal(sd[i].second)) << sd[i].first;
  }
  EXPECT_EQ(tensors_crc32(w.tensors), tensors_crc32(sd));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  // Written without a validation transform: the file says none (as files from before the
  // attributes existed).
  EXPECT_EQ(w.image_size, 0);
  EXPECT_EQ(w.resize_short, 0);

  // With one: both sizes come back, the tensors are unchanged.
  std::string with = (dir / "with.h5").string();
  save_weights_h5(with, sd, "resnet18", {"coat", "pullover"}, 160, 182);
  WeightsFile w2 = load_weights_h5(with);
  EXPECT_EQ(w2.image_size, 160);
  EXPECT_EQ(w2.resize_short, 182);
  EXPECT_EQ(tensors_crc32(w2.tensors), tensors_crc32(sd));

  // A truncated file is a clear error, not a crash.
  std::string cut = (dir / "cut.h5").string();
  {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream out(cut, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 3));
  }
  EXPECT_THROW(load_weights_h5(cut), Error);
  EXPECT_THROW(load_weights_h5((dir / "missing.h5").string()), UsageError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace roost::model
