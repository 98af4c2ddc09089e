// data_cmd.cc — `roost data <dataset>`: writes ready-to-train ImageFolder trees.
#include <iostream>

#include "args.h"
#include "commands.h"
#include "roost/core/error.h"
#include "roost/data/fashion_mnist.h"
#include "roost/data/fowl.h"

namespace roost::cli {

namespace {
int fashion_mnist_main(int argc, char** argv) {
  data::FashionMnistOptions d;
  cxxopts::Options o("roost data fashion-mnist",
                     "Write an ImageFolder tree (train/<class>, val/<class>, PNG) from Debian's\n"
                     "dataset-fashion-mnist files, shaped like the chicken/turkey reference set.\n"
                     "Classes: 0 t-shirt, 1 trouser, 2 pullover, 3 dress, 4 coat, 5 sandal, 6 shirt,\n"
                     "7 sneaker, 8 bag, 9 ankle-boot.");
  auto s = [](auto v) { return cxxopts::value<std::string>()->default_value(std::to_string(v)); };
  // clang-format off
  o.add_options()
      ("out", "output folder (required)", cxxopts::value<std::string>())
      ("classes", "comma-separated class numbers", cxxopts::value<std::string>()->default_value("2,4"))
      ("train-per-class", "training images per class (from the 60k train file)", s(d.train_per_class))
      ("val-per-class", "validation images per class (from the 10k test file)", s(d.val_per_class))
      ("size", "side of the written images in pixels", s(d.size))
      ("source-dir", "folder of the *-ubyte.gz files",
       cxxopts::value<std::string>()->default_value(d.source_dir))
      ("h,help", "show this help");
  // clang-format on
  cxxopts::ParseResult r = parse_or_usage(o, argc, argv);
  if (print_help_if_asked(o, r)) return 0;
  d.out_dir = get_required(r, "out");
  d.classes = get_int_list(r, "classes");
  d.train_per_class = get_int(r, "train-per-class");
  d.val_per_class = get_int(r, "val-per-class");
  d.size = get_int(r, "size");
  d.source_dir = r["source-dir"].as<std::string>();
  int written = data::write_fashion_mnist_folder(d);
  std::cout << "wrote " << written << " images to " << d.out_dir << "\n";
  return 0;
}

int fowl_main(int argc, char** argv) {
  data::FowlOptions d;
  cxxopts::Options o("roost data fowl",
                     "Download the reference job's chicken/turkey images (fowl_data.zip) and unpack them\n"
                     "into an ImageFolder tree: OUT/train/<class>/*.jpg and OUT/val/<class>/*.jpg.\n"
                     "Exit status: 2 for a bad option or an unusable OUT (or no libcurl in this build),\n"
                     "1 when the download fails or the archive is not a fowl-shaped zip.");
  // clang-format off
  o.add_options()
      ("out", "output folder (required); must not hold train/ or val/ yet", cxxopts::value<std::string>())
      ("url", "where to fetch fowl_data.zip (http, https or file URL)",
       cxxopts::value<std::string>()->default_value(d.url))
      ("quiet", "no progress lines")
      ("h,help", "show this help");
  // clang-format on
  cxxopts::ParseResult r = parse_or_usage(o, argc, argv);
  if (print_help_if_asked(o, r)) return 0;
  d.out_dir = get_required(r, "out");
  d.url = r["url"].as<std::string>();
  d.download.progress = r.count("quiet") == 0;
  const data::FowlSummary s = data::fetch_fowl(d);
  std::cout << "wrote " << s.train_images << " train + " << s.val_images << " val images of " << s.classes.size()
            << " classes to " << d.out_dir << "\n";
  return 0;
}
}  // namespace

int data_main(int argc, char** argv) {
  const char* usage = "Usage: roost data fashion-mnist|fowl --out DIR [options]   (--help for options)\n";
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  std::string which = argv[1];
  if (which == "-h" || which == "--help") {
    std::cout << usage;
    return 0;
  }
  if (which == "fashion-mnist") return fashion_mnist_main(argc - 1, argv + 1);
  if (which == "fowl") return fowl_main(argc - 1, argv + 1);
  ROOST_USAGE_ERROR("unknown dataset '", which, "' (known: fashion-mnist, fowl)");
}

}  // namespace roost::cli
