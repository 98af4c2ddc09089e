// roost/train/run_identity.h — which run an outputs directory belongs to.
//
// Every `roost train` is a run with an id. Rank 0 records it in OUTPUT_DIR/run.json (with
// the options, the class names, the dataset's identity and the world size) and stamps it
// into every file the run writes (summary.json, metrics rows, checkpoints, model.h5,
// last.h5), so one outputs directory always holds the files of one run: starting another
// run there needs --resume (continue it) or --overwrite (replace it). No torch, no MPI:
// the decision is a pure function of what the directory holds and what was asked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace roost::train {

struct TrainConfig;

struct DatasetIdentity {
  std::string path;
  int64_t train_images = 0, val_images = 0;
  std::string fingerprint;  // 16 hex digits over every sample's class and file name, both splits
};

struct RunIdentity {
  std::string run_id;
  std::string started_at;  // UTC, ISO 8601
  std::string arch;
  std::vector<std::string> class_names;
  DatasetIdentity dataset;
  int world_size = 1;
  std::string config_json;  // the options, as summary.json has them
};

// A new id: UTC date and time plus 6 random hex digits ("20261207-041530-3fa9c1").
std::string new_run_id();
std::string utc_now_iso8601();

std::string run_identity_json(const RunIdentity& id);
// Throws UsageError naming the file when it is not a run identity.
RunIdentity parse_run_identity(const std::string& json, const std::string& where);

// OUTPUT_DIR/run.json: absent → nullopt; unreadable or malformed → UsageError.
std::optional<RunIdentity> read_run_identity(const std::string& output_dir);
void write_run_identity(const std::string& output_dir, const RunIdentity& id);  // atomically

// The files of a run present in output_dir (relative names: run.json, model.h5, last.h5,
// summary.json, metrics.jsonl, metrics.csv, training_curves.png, checkpoints/epoch-*.h5 and
// leftover *.tmp), sorted. Rank logs are not listed: a refused start does not touch them.
std::vector<std::string> run_files(const std::string& output_dir);

// Removes what run_files lists (--overwrite); returns the names removed.
std::vector<std::string> remove_run_files(const std::string& output_dir);

// Removes the temporary files a write that was cut short left (checkpoints/*.tmp and the
// output files' .tmp twins); returns how many.
int remove_stale_temporaries(const std::string& output_dir);

// How this start relates to what output_dir holds.
enum class OutputsAction {
  kFresh,      // nothing of another run there: start a new run
  kContinue,   // --resume: continue the run recorded there (or the checkpoint's)
  kOverwrite,  // --overwrite: delete the recorded run's files, then start a new run
};
struct OutputsDecision {
  OutputsAction action = OutputsAction::kFresh;
  std::string error;    // non-empty: refuse the start with this one-line message (exit 2)
  std::string message;  // what is replaced, for the log (kOverwrite)
};

// `existing` is run.json's identity (if any), `files` what run_files found.
OutputsDecision decide_outputs(const TrainConfig& config, const std::optional<RunIdentity>& existing,
                               const std::vector<std::string>& files);

// Why a checkpoint of (run_id, arch, classes) cannot continue the run `expected_run_id` with
// this arch and these classes ("" when it can). An empty checkpoint run id (written before
// runs had ids) is accepted when no run id is expected.
std::string checkpoint_mismatch(const std::string& checkpoint_path, const std::string& checkpoint_run_id,
                                const std::string& checkpoint_arch, const std::vector<std::string>& checkpoint_classes,
                                const std::string& expected_run_id, const std::string& arch,
                                const std::vector<std::string>& classes);

}  // namespace roost::train
