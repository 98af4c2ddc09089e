// model_weights_convert_test.cc — tools/roost_weights.py converts roost's model.h5 to a
// torchvision .pth and back without changing a bit: save_weights_h5 → to-pth → to-h5 →
// load_weights_h5 gives every tensor byte for byte, in the same order, with the same
// attributes; the .pth loads strictly into torchvision and through roost's load_pth; bad
// input is one line on stderr and a non-zero exit. Skips when /usr/bin/python3 lacks h5py,
// torch or torchvision.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>

#include "python_peer.h"
#include "roost/model/pretrained.h"

namespace roost::model {
namespace {

std::string converter() { return std::string(ROOST_SOURCE_DIR) + "/tools/roost_weights.py"; }

std::string converter_missing() {
  if (!std::filesystem::exists(ROOST_PYTHON)) return std::string(ROOST_PYTHON) + " is not installed";
  const std::string probe = std::string(ROOST_PYTHON) + " -c 'import h5py, torch, torchvision' >/dev/null 2>&1";
  if (std::system(probe.c_str()) != 0)
    return std::string(ROOST_PYTHON) + " lacks h5py, torch or torchvision (Debian: python3-h5py python3-torchvision)";
  return {};
}

struct Result {
  int status;
  std::string err;  // stderr
};

Result run(const std::string& args, const roost::testing::TempDir& dir) {
  const std::string err = dir.file("stderr.txt");
  const std::string cmd = std::string(ROOST_PYTHON) + " " + args + " >/dev/null 2>" + err;
  Result r{std::system(cmd.c_str()), {}};
  std::ifstream in(err);
  r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

void expect_identical(const NamedTensors& got, const NamedTensors& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].first, want[i].first) << what << " entry " << i;
    EXPECT_EQ(got[i].second.scalar_type(), want[i].second.scalar_type()) << what << " " << want[i].first;
    EXPECT_EQ(got[i].second.sizes(), want[i].second.sizes()) << what << " " << want[i].first;
    // Byte for byte (equal() alone would accept -0.0 for 0.0).
    EXPECT_EQ(tensors_crc32({got[i]}), tensors_crc32({want[i]})) << what << " " << want[i].first;
  }
}

class WeightsConvert : public ::testing::TestWithParam<const char*> {};

TEST_P(WeightsConvert, H5ToPthToH5IsBitExact) {
  const std::string why = converter_missing();
  if (!why.empty()) GTEST_SKIP() << why;
  roost::testing::TempDir dir;
  const std::string arch = GetParam();
  ResNetOptions o;
  o.arch = arch;
  o.num_classes = 3;
  ResNet net = make_resnet(o);
  {  // non-trivial running statistics and num_batches_tracked
    torch::NoGradGuard no_grad;
    net->train();
    net->forward(torch::randn({2, 3, 32, 32}));
  }
  const NamedTensors sd = state_dict(*net);
  const std::vector<std::string> classes = {"ant", "bee", "cat"};
  save_weights_h5(dir.file("a.h5"), sd, arch, classes, 64, 72);

  Result r = run(converter() + " to-pth " + dir.file("a.h5") + " " + dir.file("b.pth"), dir);
  ASSERT_EQ(r.status, 0) << r.err;
  // torchvision loads it strictly, as the OrderedDict torchvision itself saves.
  const std::string check =
      "-c 'import collections, sys, torch, torchvision; s = torch.load(sys.argv[1]); "
      "assert type(s) is collections.OrderedDict, type(s); "
      "torchvision.models." +
      arch + "(num_classes=3).load_state_dict(s, strict=True)' " + dir.file("b.pth");
  r = run(check, dir);
  EXPECT_EQ(r.status, 0) << r.err;
  expect_identical(load_pth(dir.file("b.pth")), sd, "load_pth of to-pth");

  r = run(converter() + " to-h5 " + dir.file("b.pth") + " " + dir.file("c.h5") + " --arch " + arch +
              " --classes ant,bee,cat --image-size 64 --resize-short 72",
          dir);
  ASSERT_EQ(r.status, 0) << r.err;
  WeightsFile w = load_weights_h5(dir.file("c.h5"));
  EXPECT_EQ(w.arch, arch);
  EXPECT_EQ(w.class_names, classes);
  EXPECT_EQ(w.image_size, 64);
  EXPECT_EQ(w.resize_short, 72);
  expect_identical(w.tensors, sd, "load_weights_h5 of to-h5");

  // Without the transform options the converted file says nothing about the transform.
  r = run(converter() + " to-h5 " + dir.file("b.pth") + " " + dir.file("d.h5") + " --arch " + arch +
              " --classes ant,bee,cat",
          dir);
  ASSERT_EQ(r.status, 0) << r.err;
  WeightsFile plain = load_weights_h5(dir.file("d.h5"));
  EXPECT_EQ(plain.image_size, 0);
  EXPECT_EQ(plain.resize_short, 0);
}

INSTANTIATE_TEST_SUITE_P(Archs, WeightsConvert, ::testing::Values("resnet18", "resnet50"),
                         [](const auto& info) { return std::string(info.param); });

TEST(WeightsConvert, BadInputIsOneLineAndNonZero) {
  const std::string why = converter_missing();
  if (!why.empty()) GTEST_SKIP() << why;
  roost::testing::TempDir dir;
  ResNetOptions o;
  o.num_classes = 2;
  ResNet net = make_resnet(o);
  save_weights_h5(dir.file("m.h5"), state_dict(*net), "resnet18", {"a", "b"});
  std::ofstream(dir.file("text.pth")) << "not a checkpoint";
  ASSERT_EQ(run(converter() + " to-pth " + dir.file("m.h5") + " " + dir.file("m.pth"), dir).status, 0);

  struct Case {
    std::string args, want;
  };
  const std::vector<Case> cases = {
      {"to-pth " + dir.file("absent.h5") + " x.pth", "does not exist"},
      {"to-pth " + dir.file("m.pth") + " " + dir.file("x.pth"), "not an HDF5 file"},
      {"to-h5 " + dir.file("m.h5") + " " + dir.file("x.h5") + " --arch resnet18 --classes a,b", "not a zip"},
      {"to-h5 " + dir.file("text.pth") + " " + dir.file("x.h5") + " --arch resnet18 --classes a,b", "not a zip"},
      {"to-h5 " + dir.file("m.pth") + " " + dir.file("x.h5") + " --arch resnet18 --classes a,b,c", "names 3"},
      {"to-h5 " + dir.file("m.pth") + " " + dir.file("x.h5") + " --arch resnet34 --classes a,b", "missing keys"},
      {"to-h5 " + dir.file("m.pth") + " " + dir.file("x.h5") + " --arch resnet7 --classes a,b", "unknown architecture"},
  };
  for (const Case& c : cases) {
    Result r = run(converter() + " " + c.args, dir);
    EXPECT_NE(r.status, 0) << c.args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.args << ": " << r.err;
    EXPECT_NE(r.err.find(c.want), std::string::npos) << c.args << ": " << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.h5")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.pth")));
}

}  // namespace
}  // namespace roost::model
