// roost/data/fashion_mnist.h — the embedded default dataset: writes an ImageFolder tree
// (train/<class>/*.png, val/<class>/*.png) from Debian's dataset-fashion-mnist files,
// shaped like the chicken/turkey reference set (two classes, 120 train / 100 val each).
#pragma once

#include <string>
#include <vector>

namespace roost::data {

struct FashionMnistOptions {
  std::string source_dir = "/usr/share/datasets/fashion-mnist";
  std::string out_dir;
  std::vector<int> classes{2, 4};  // Pullover and Coat by default: similar, like fowl
  int train_per_class = 120;
  int val_per_class = 100;
  int size = 28;    // written image side (PIL bilinear upscale when > 28)
  bool rgb = true;  // write 3-channel images
};

extern const char* const kFashionMnistClassNames[10];

// Returns the number of images written. Throws UsageError for bad options or missing files.
int write_fashion_mnist_folder(const FashionMnistOptions& options);

}  // namespace roost::data
