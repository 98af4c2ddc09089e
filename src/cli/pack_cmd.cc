// pack_cmd.cc — `roost pack`: options → PackOptions → data::write_pack.
#include <iomanip>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "roost/core/error.h"
#ifdef ROOST_WITH_HDF5
#include "roost/data/h5_pack.h"
#endif

namespace roost::cli {

int pack_main(int argc, char** argv) {
  cxxopts::Options o("roost pack",
                     "Store both splits of an ImageFolder tree (D/train, D/val) in one HDF5 file,\n"
                     "which `roost train --data-dir D.h5` reads like the folder:\n"
                     "  roost pack --data-dir D --out D.h5 [--resize-short 256] [--format auto]\n"
                     "auto keeps the encoded JPEG/PNG bytes unless decoded pixels would be at most\n"
                     "twice their size (small or synthetic images), then stores pixels.");
  // clang-format off
  o.add_options()
      ("data-dir", "ImageFolder root with train/ and val/ (required)", cxxopts::value<std::string>())
      ("out", "the pack to write, e.g. D.h5 (required)", cxxopts::value<std::string>())
      ("resize-short", "shrink images whose short side is longer to this many pixels (0 = keep)",
       cxxopts::value<std::string>()->default_value("0"))
      ("format", "auto|encoded|pixels", cxxopts::value<std::string>()->default_value("auto"))
      ("h,help", "show this help");
  // clang-format on
  cxxopts::ParseResult r = parse_or_usage(o, argc, argv);
  if (print_help_if_asked(o, r)) return 0;
#ifdef ROOST_WITH_HDF5
  data::PackOptions p;
  p.data_dir = get_required(r, "data-dir");
  p.out = get_required(r, "out");
  p.resize_short = get_int(r, "resize-short");
  p.format = data::parse_pack_format(r["format"].as<std::string>());
  const data::PackSummary s = data::write_pack(p);
  std::cout << "wrote " << p.out << ": " << s.train_images << " train + " << s.val_images << " val images, "
            << data::pack_format_name(s.format) << ", " << std::fixed << std::setprecision(1) << s.data_bytes / 1e6
            << " MB of image data";
  if (s.skipped) std::cout << " (" << s.skipped << " unreadable images skipped)";
  std::cout << "\n";
  return 0;
#else
  ROOST_USAGE_ERROR("roost pack needs HDF5, and this roost was built without it (Debian: libhdf5-dev)");
#endif
}

}  // namespace roost::cli
