// roost/train/class_counts.h — how many images of each class an epoch could read, summed over
// all ranks. A class none of whose training (or validation) images could be read would
// silently turn the task into another one (a two-class problem trained as one class), so
// it ends the run like an unreadable split; the counts go to the log and summary.json.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "roost/comm/communicator.h"
#include "roost/data/dataset.h"

namespace roost::train {

class ClassCounts {
 public:
  ClassCounts(const data::Dataset& train, const data::Dataset& val);
  void reset();  // at the start of an epoch
  void add_train(const std::vector<int64_t>& labels, int count);
  void add_val(const std::vector<int64_t>& labels, int count);
  void allreduce(comm::Communicator& comm);  // every rank then holds the global counts

  // The first class with images in a split none of which were read this epoch, as a
  // one-line error ("" when none). `check_train` is false for an epoch resumed mid-way,
  // whose training pass read only part of the shard in this process.
  std::string missing_class(bool check_train) const;
  // "coat 40/40 train, 4/4 val; pullover 38/40 train, 4/4 val" (read / in the split; a
  // training pass may read a few images twice: shards are padded to equal length).
  std::string summary_line() const;
  std::string json() const;  // {"coat": {"train_read": 40, "train_images": 40, ...}, ...}

 private:
  std::vector<std::string> names_;
  std::vector<double> train_total_, val_total_, read_;  // read_: train counts, then val
};

}  // namespace roost::train
