// model_pretrained_test.cc — torchvision's weight files load into roost's ResNets and give
// the same logits (eval mode, within 1e-4 relative) for every architecture; one train-mode
// SGD step (forward, cross-entropy, backward, roost's Sgd with momentum) from the same
// weights ends with the parameters and BatchNorm running statistics torch.optim.SGD gives;
// fc is replaced when the class count differs, and bad files (empty, not a zip, truncated,
// wrong architecture) are clear UsageErrors. The torchvision side runs in Debian's
// /usr/bin/python3 at test time.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <limits>

#include "python_peer.h"
#include "roost/core/error.h"
#include "roost/model/pretrained.h"
#include "roost/train/sgd.h"

namespace roost::model {
namespace {

struct Fixture {
  std::string pth, io, after;  // after: the state dict after one SGD step (with sgd_step)
};

Fixture make_fixture(const roost::testing::TempDir& dir, const std::string& arch, int classes, bool sgd_step = false) {
  Fixture f{dir.file(arch + ".pth"), dir.file(arch + "_io.pt"), sgd_step ? dir.file(arch + "_after.pth") : ""};
  std::string cmd = std::string(ROOST_PYTHON) + " " + ROOST_SOURCE_DIR + "/tests/unit/torchvision_fixture.py " + arch +
                    " " + std::to_string(classes) + " " + f.pth + " " + f.io;
  if (sgd_step) cmd += " --sgd-step " + f.after;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return f;
}

torch::Tensor entry(const NamedTensors& tensors, const std::string& key) {
  for (const auto& [name, t] : tensors)
    if (name == key) return t;
  return {};
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

INSTANTIATE_TEST_SUITE_P(Archs, PretrainedParity,
                         ::testing::Values("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"),
                         [](const auto& info) { return std::string(info.param); });

class SgdStepParity : public ::testing::TestWithParam<const char*> {};

// Largest |a - b| over the tensor, relative to the reference's largest magnitude.
double rel_diff(const torch::Tensor& a, const torch::Tensor& ref) {
  double scale = ref.abs().max().item<double>();
  return (a.to(torch::kFloat64) - ref.to(torch::kFloat64)).abs().max().item<double>() / std::max(scale, 1e-12);
}

TEST_P(SgdStepParity, OneStepMatchesTorchOptimSgd) {
  std::string why = roost::testing::python_peer_missing();
  if (!why.empty()) GTEST_SKIP() << why;
  roost::testing::TempDir dir;
  Fixture f = make_fixture(dir, GetParam(), 10, /*sgd_step=*/true);
  ResNetOptions o;
  o.arch = GetParam();
  o.num_classes = 10;
  ResNet net = make_resnet(o);
  load_pretrained(net, f.pth);
  NamedTensors before;
  for (const auto& [name, t] : state_dict(*net)) before.emplace_back(name, t.detach().clone());
  NamedTensors io = load_pth(f.io);

  net->train();
  train::SgdOptions so;
  so.lr = 0.1;
  so.momentum = 0.9;
  train::Sgd sgd(net->parameters(), so);
  sgd.zero_grad();
  torch::Tensor loss =
      torch::nn::functional::cross_entropy(net->forward(entry(io, "train_x")), entry(io, "train_labels"));
  loss.backward();
  sgd.step();
  EXPECT_LT(rel_diff(loss.detach().reshape({1}), entry(io, "train_loss")), 1e-5);

  const NamedTensors after = load_pth(f.after);
  const NamedTensors mine = state_dict(*net);
  ASSERT_EQ(mine.size(), after.size());
  const auto params = net->named_parameters();
  int params_checked = 0, stats_checked = 0;
  for (const auto& [name, ref] : after) {
    torch::Tensor got = entry(mine, name);
    ASSERT_TRUE(got.defined()) << name << " not in roost's " << GetParam();
    if (name.find("num_batches_tracked") != std::string::npos) {
      EXPECT_TRUE(got.equal(ref)) << name;
      continue;
    }
    // The values after the step, relative to the tensor's scale.
    EXPECT_LT(rel_diff(got, ref), 1e-4) << name;
    if (params.contains(name)) {
      // The step itself (-lr * grad here) is far smaller than the weights: compare it on
      // its own scale too, so a wrong gradient cannot hide under the 1e-4 above.
      torch::Tensor start = entry(before, name);
      torch::Tensor mine_step = got.to(torch::kFloat64) - start.to(torch::kFloat64);
      torch::Tensor ref_step = ref.to(torch::kFloat64) - start.to(torch::kFloat64);
      double step_scale = ref_step.abs().max().item<double>();
      double err = (mine_step - ref_step).abs().max().item<double>();
      // float32 rounding of the weights themselves bounds how well a tiny step is resolved.
      double floor = 4 * std::numeric_limits<float>::epsilon() * start.abs().max().item<double>();
      EXPECT_LE(err, 1e-3 * step_scale + floor) << name << ": step differs (scale " << step_scale << ")";
      EXPECT_GT(step_scale, 0) << name << " did not move";
      ++params_checked;
    } else {
      ++stats_checked;
    }
  }
  EXPECT_EQ(params_checked, static_cast<int>(params.size()));
  EXPECT_GT(stats_checked, 0);
}

// Every architecture; 101 and 152 cost 20-30 s each here, mostly writing and reading their
// 170-230 MB weight files.
INSTANTIATE_TEST_SUITE_P(Archs, SgdStepParity,
                         ::testing::Values("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"),
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
