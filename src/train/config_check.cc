// roost/train/config_check.cc — option-by-option agreement of the ranks' configs.
#include "roost/train/config_check.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "roost/core/error.h"

namespace roost::train {

namespace {
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string option_name(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  return "--" + key;
}
}  // namespace

void check_same_config(const TrainConfig& config, comm::Communicator& comm) {
  const auto entries = config_entries(config);
  const size_t n = entries.size();
  std::vector<uint64_t> mine(n), all(n * static_cast<size_t>(comm.size()));
  for (size_t i = 0; i < n; ++i) mine[i] = fnv1a(entries[i].first + "=" + entries[i].second);
  comm.allgather(mine.data(), all.data(), n * sizeof(uint64_t));
  for (size_t i = 0; i < n; ++i) {
    std::string differing;
    for (int r = 1; r < comm.size(); ++r)
      if (all[r * n + i] != all[i]) differing += (differing.empty() ? "" : ",") + std::to_string(r);
    if (!differing.empty())
      ROOST_USAGE_ERROR("ranks were started with different options: ", option_name(entries[i].first), " is ",
                        entries[i].second, " on rank ", comm.rank(), "; rank(s) ", differing,
                        " differ from rank 0 (every rank must get the same arguments)");
  }
}

}  // namespace roost::train
