// parts_view.h — a list of Communicator::Part read as one concatenated array, by element
// ranges, without copying it into one buffer. Internal to roost_comm.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "roost/comm/communicator.h"

namespace roost::comm::detail {

class PartsView {
 public:
  PartsView(const std::vector<Communicator::Part>& parts, size_t element_bytes) : parts_(parts), elem_(element_bytes) {
    starts_.reserve(parts.size() + 1);
    size_t at = 0;
    for (const auto& p : parts) starts_.push_back(at), at += p.count;
    starts_.push_back(at);
  }

  size_t count() const { return starts_.back(); }

  // fn(part, first element in the part, offset in the range, elements) for each run of
  // [first, first + n) that lies in one part, in order. Empty parts are never handed out.
  template <typename Fn>
  void runs(size_t first, size_t n, Fn&& fn) const {
    size_t i = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end() - 1, first) - starts_.begin()) - 1;
    for (size_t done = 0; done < n; ++i) {
      const size_t pos = first + done, take = std::min(n - done, starts_[i + 1] - pos);
      if (take == 0) continue;
      fn(i, pos - starts_[i], done, take);
      done += take;
    }
  }

  // fn(source, offset in the range, elements) for each run, as runs() (empty parts' pointers
  // may be null: they are never handed out).
  template <typename Fn>
  void for_each(size_t first, size_t n, Fn&& fn) const {
    runs(first, n, [&](size_t part, size_t in_part, size_t at, size_t m) {
      fn(static_cast<const char*>(parts_[part].data) + in_part * elem_, at, m);
    });
  }

  // The range [first, first + n) into `out`.
  void copy(size_t first, size_t n, char* out) const {
    for_each(first, n, [&](const char* src, size_t at, size_t m) { std::memcpy(out + at * elem_, src, m * elem_); });
  }

 private:
  const std::vector<Communicator::Part>& parts_;
  size_t elem_;
  std::vector<size_t> starts_;  // starts_[i]: the first element of parts[i]; the last: count
};

}  // namespace roost::comm::detail
