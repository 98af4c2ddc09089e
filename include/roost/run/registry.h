// roost/run/registry.h — the model registry: named models with versions 1, 2, … Each version
// is a copy of a run's weight file kept in WORKSPACE/models/<name>/<version>/, with its
// SHA-256, its size, the source run and that run's metrics, recorded in the run store's
// database. Downloads are verified against the checksum.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "roost/run/store.h"

namespace roost::run {

struct ModelVersion {
  std::string name;
  int version = 0;
  int64_t run_id = 0;
  std::string path;         // the registry's copy
  std::string source_path;  // where it was copied from
  std::string sha256;
  int64_t size = 0;
  std::string metrics;  // JSON: {"epochs": [...rows...], "best_val_acc": x}
  double created_at = 0;
};

// Another format of a version's model (onnx, pth), exported from it and kept beside it.
struct ModelFile {
  std::string format;
  std::string path;
  std::string sha256;
  int64_t size = 0;
};

class ModelRegistry {
 public:
  explicit ModelRegistry(RunStore& store) : store_(store) {}

  // Registers `relative_path` (inside the run's folder, e.g. outputs/model.h5) of a run as the
  // next version of `name`. UsageError when the run is not Completed or the file is missing.
  ModelVersion register_model(int64_t run_id, const std::string& name, const std::string& relative_path);

  std::vector<ModelVersion> list(const std::string& name = "");
  // version 0 = the newest. UsageError when absent.
  ModelVersion get(const std::string& name, int version = 0);
  // Keeps `file` (moved or copied into the version's folder) as the version's `format`
  // (onnx, pth), with its SHA-256. UsageError when the version is absent or has that format.
  ModelFile attach_file(const std::string& name, int version, const std::string& format, const std::string& file);
  std::vector<ModelFile> files(const std::string& name, int version);

  // Copies the version (`format` "" or "h5": its weight file; else an attached format) into
  // `dir` (created if needed) under its file name, verifies the checksum of the copy and
  // returns the copy's path. Error (and no file left) on a mismatch; UsageError naming the
  // formats there are when the version has no file of `format`.
  std::string download(const std::string& name, int version, const std::string& dir, const std::string& format = "");

 private:
  RunStore& store_;
};

}  // namespace roost::run
