// roost/train/class_counts.cc — per-class counts of the images an epoch read (class_counts.h).
#include "roost/train/class_counts.h"

#include "roost/core/json.h"

namespace roost::train {

namespace {
std::vector<double> totals(const data::Dataset& d, size_t classes) {
  std::vector<double> out(classes, 0);
  for (int64_t i = 0; i < d.size(); ++i) {
    const int64_t label = d.label(i);
    if (label >= 0 && static_cast<size_t>(label) < classes) out[static_cast<size_t>(label)] += 1;
  }
  return out;
}

void add(std::vector<double>& read, size_t offset, const std::vector<int64_t>& labels, int count) {
  for (int i = 0; i < count && i < static_cast<int>(labels.size()); ++i) {
    const int64_t label = labels[static_cast<size_t>(i)];
    if (label >= 0 && offset + static_cast<size_t>(label) < read.size()) read[offset + static_cast<size_t>(label)] += 1;
  }
}
}  // namespace

ClassCounts::ClassCounts(const data::Dataset& train, const data::Dataset& val)
    : names_(train.class_names()),
      train_total_(totals(train, names_.size())),
      val_total_(totals(val, names_.size())),
      read_(2 * names_.size(), 0) {}

void ClassCounts::reset() { std::fill(read_.begin(), read_.end(), 0.0); }

void ClassCounts::add_train(const std::vector<int64_t>& labels, int count) { add(read_, 0, labels, count); }

void ClassCounts::add_val(const std::vector<int64_t>& labels, int count) { add(read_, names_.size(), labels, count); }

void ClassCounts::allreduce(comm::Communicator& comm) {
  comm.allreduce(read_.data(), read_.size(), comm::DType::kFloat64, comm::ReduceOp::kSum);
}

std::string ClassCounts::missing_class(bool check_train) const {
  const size_t k = names_.size();
  for (size_t c = 0; c < k; ++c) {
    if (check_train && train_total_[c] > 0 && read_[c] == 0)
      return "none of the " + std::to_string(static_cast<int64_t>(train_total_[c])) + " training images of class '" +
             names_[c] + "' could be read: training would learn a task without that class";
    if (val_total_[c] > 0 && read_[k + c] == 0)
      return "none of the " + std::to_string(static_cast<int64_t>(val_total_[c])) + " validation images of class '" +
             names_[c] + "' could be read: the validation accuracy would leave that class out";
  }
  return {};
}

std::string ClassCounts::summary_line() const {
  const size_t k = names_.size();
  std::string out;
  for (size_t c = 0; c < k; ++c) {
    out += (out.empty() ? "" : "; ") + names_[c] + " " + std::to_string(static_cast<int64_t>(read_[c])) + "/" +
           std::to_string(static_cast<int64_t>(train_total_[c])) + " train, " +
           std::to_string(static_cast<int64_t>(read_[k + c])) + "/" +
           std::to_string(static_cast<int64_t>(val_total_[c])) + " val";
  }
  return out;
}

std::string ClassCounts::json() const {
  const size_t k = names_.size();
  JsonObject all;
  for (size_t c = 0; c < k; ++c) {
    JsonObject one;
    one.add("train_read", static_cast<int64_t>(read_[c])).add("train_images", static_cast<int64_t>(train_total_[c]));
    one.add("val_read", static_cast<int64_t>(read_[k + c])).add("val_images", static_cast<int64_t>(val_total_[c]));
    all.raw(names_[c], one.str());
  }
  return all.str();
}

}  // namespace roost::train
