// model_pretrained_test.cc — torchvision's weight files load into roost's ResNets and give
// the same logits (eval mode, within 1e-4 relative), fc is replaced when the class count
// differs, and bad files (empty, not a zip, truncated, wrong architecture) are clear
// UsageErrors. The torchvision side runs in Debian's /usr/bin/python3 at test time.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "python_peer.h"
#include "roost/core/error.h"
#include "roost/model/pretrained.h"

namespace roost::model {
namespace {

struct Fixture {
  std::string pth, io;
};

Fixture make_fixture(const roost::testing::TempDir& dir, const std::string& arch, int classes) {
  Fixture f{dir.file(arch + ".pth"), dir.file(arch + "_io.pt")};
  std::string cmd = std::string(ROOST_PYTHON) + " " + ROOST_SOURCE_DIR + "/tests/unit/torchvision_fixture.py " +
                    arch + " " + std::to_string(classes) + " " + f.pth + " " + f.io;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return f;
}

torch::Tensor io_tensor(const std::string& path, const std::string& key) {
  for (auto& [name, t] : load_pth(path))
    if (name == key) return t;
  ADD_FAILURE() << key << " not in " << path;
  return {};
}

class PretrainedParity : public ::testing::TestWithParam<const char*> {};

TEST_P(PretrainedParity, LogitsMatchTorchvision) {
  std::string why = roost::testing::python_peer_missing();
  if (!why.empty()) GTEST_SKIP() << why;
  roost::testing::TempDir dir;
  Fixture f = make_fixture(dir, GetParam(), 10);
  ResNetOptions o;
  o.arch = GetParam();
  o.num_classes = 10;
  ResNet net = make_resnet(o);
  PretrainedReport r = load_pretrained(net, f.pth);
  EXPECT_FALSE(r.classifier_replaced);
  EXPECT_EQ(r.loaded, static_cast<int>(state_dict(*net).size()));
  net->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor y = net->forward(io_tensor(f.io, "x"));
  torch::Tensor ref = io_tensor(f.io, "y");
  double rel = (y - ref).abs().max().item<double>() / ref.abs().max().item<double>();
  EXPECT_LT(rel, 1e-4) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Archs, PretrainedParity, ::testing::Values("resnet18", "resnet50"),
                         [](const auto& info) { return std::string(info.param); });

TEST(Pretrained, ClassifierReplacedForOtherClassCount) {
  std::string why = roost::testing::python_peer_missing();
  if (!why.empty()) GTEST_SKIP() << why;
  roost::testing::TempDir dir;
  Fixture f = make_fixture(dir, "resnet18", 10);
  ResNetOptions o;
  o.num_classes = 2;
  ResNet net = make_resnet(o);
  PretrainedReport r = load_pretrained(net, f.pth);
  EXPECT_TRUE(r.classifier_replaced);
  EXPECT_EQ(net->named_parameters()["fc.weight"].size(0), 2);
  // The backbone came from the file.
  torch::Tensor conv = load_pth(f.pth).front().second;
  EXPECT_TRUE(net->named_parameters()["conv1.weight"].equal(conv));

  // Wrong architecture: a resnet18 file into a resnet34 lists the missing keys.
  ResNetOptions o34;
  o34.arch = "resnet34";
  ResNet net34 = make_resnet(o34);
  try {
    load_pretrained(net34, f.pth);
    FAIL() << "expected an error";
  } catch (const UsageError& e) {
    EXPECT_NE(e.message().find("missing keys: layer1.2.conv1.weight"), std::string::npos) << e.message();
  }

  // Truncated copy of a real file.
  std::ifstream in(f.pth, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(dir.file("cut.pth"), std::ios::binary).write(bytes.data(), bytes.size() / 2);
  EXPECT_THROW(load_pretrained(net, dir.file("cut.pth")), UsageError);
}

TEST(Pretrained, BadFilesAreUsageErrors) {
  roost::testing::TempDir dir;
  ResNet net = make_resnet({});
  std::ofstream(dir.file("empty.pth")).close();
  std::ofstream(dir.file("text.pth")) << "not a checkpoint";
  EXPECT_THROW(load_pretrained(net, dir.file("empty.pth")), UsageError);
  EXPECT_THROW(load_pretrained(net, dir.file("text.pth")), UsageError);
  EXPECT_THROW(load_pretrained(net, dir.file("absent.pth")), UsageError);
}

}  // namespace
}  // namespace roost::model
