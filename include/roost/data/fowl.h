// roost/data/fowl.h — the reference job's dataset: chicken/turkey images from Open Images,
// published as fowl_data.zip (fowl_data/{train,val}/<class>/*.jpg). `roost data fowl`
// downloads it, unpacks it and checks its layout, leaving an ImageFolder tree that
// `roost train --data-dir` reads directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "roost/data/download.h"

namespace roost::data {

inline constexpr const char* kFowlUrl = "https://azuremlexamples.blob.core.windows.net/datasets/fowl_data.zip";

struct FowlOptions {
  std::string out_dir;  // receives train/<class>/ and val/<class>/
  std::string url = kFowlUrl;
  DownloadOptions download;
};

struct FowlSummary {
  std::vector<std::string> classes;
  int64_t train_images = 0;
  int64_t val_images = 0;
};

// Downloads and unpacks the archive into out_dir/{train,val}. The archive may hold the tree
// at its top level or inside one folder (fowl_data/); __MACOSX/ and dot files are ignored.
// Errors: UsageError (exit 2) for an unusable --out (not writable, already holding train/ or
// val/) or a URL curl cannot use; roost::Error (exit 1) when the download fails or the
// archive is not a zip of two or more matching train/val class folders.
FowlSummary fetch_fowl(const FowlOptions& options);

}  // namespace roost::data
