// roost/train/summary.cc — summary.json (see summary.h).
#include "roost/train/summary.h"

#include <hdf5.h>
#include <mpi.h>
#include <torch/version.h>

#include "roost/core/fs.h"
#include "roost/core/json.h"

namespace roost::train {

namespace {
std::string versions_json() {
  char mpi[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
  int length = 0;
  MPI_Get_library_version(mpi, &length);
  std::string mpi_line(mpi, static_cast<size_t>(length));
  mpi_line = mpi_line.substr(0, mpi_line.find_first_of(",\n"));
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  JsonObject v;
  v.add("roost", ROOST_VERSION).add("libtorch", TORCH_VERSION).add("mpi", mpi_line);
  v.add("hdf5", std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release));
  return v.str();
}
}  // namespace

std::string summary_json(const TrainConfig& config, const RunSummary& s) {
  JsonObject o;
  o.add("run_id", s.run_id).add("status", s.status).add("world_size", s.world_size).add("device", s.device);
  o.add("gradient_backend", s.gradient_backend).add("shared_update", s.shared_update);
  o.add("resumed_from", s.resumed_from);
  o.add("epochs_done", static_cast<int>(s.history.size())).add("wall_time_s", s.wall_time_s);
  o.raw("versions", versions_json());
  o.raw("config", to_json(config));
  if (!s.class_counts_json.empty()) o.raw("images_read_per_class", s.class_counts_json);
  if (!s.history.empty()) {
    const EpochRecord* best = &s.history.front();
    for (const auto& r : s.history)
      if (r.val_acc > best->val_acc) best = &r;
    o.raw("final", s.history.back().to_json());
    o.add("best_val_acc", best->val_acc).add("best_epoch", best->epoch);
  }
  return o.str() + "\n";
}

void write_summary(const std::string& path, const TrainConfig& config, const RunSummary& summary) {
  write_file_atomic(path, summary_json(config, summary));
}

}  // namespace roost::train
