// roost/sync/controller.h — agreement between ranks on which gradients are ready, before
// any fused allreduce starts (Horovod's coordinator design, over the point-to-point calls of
// a comm::Communicator: MPI in a job, threads in the tests).
//
// Each negotiation round, every rank sends rank 0 the tensors that became ready on it since
// its last round; rank 0 keeps a table of who reported what, answers every rank with the
// tensors that all ranks have reported (in one order, so fused buffers line up), and checks
// that every rank describes each tensor with the same shape and dtype. A mismatch becomes
// an error on every rank naming the tensor, the ranks and both shapes, instead of a hang.
// While rank 0 waits for a slow rank it runs the stall inspector: tensors some ranks
// submitted and others did not for stall_warning_s are logged with the missing ranks; after
// stall_shutdown_s (when set) the job is stopped with an error.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "roost/comm/communicator.h"

namespace roost::sync {

struct TensorRequest {
  int32_t index = 0;  // position in the synchronizer's tensor list
  int32_t dtype = 0;  // comm::DType as an integer
  std::vector<int64_t> shape;
};

struct ControllerOptions {
  double stall_warning_s = 60;
  double stall_shutdown_s = 0;  // 0 = never stop the job for a stall
};

class Controller {
 public:
  // `comm` must be a communicator used by nobody else and able to probe (a host backend);
  // `names` are the tensor names, identical on every rank.
  Controller(comm::Communicator& comm, std::vector<std::string> names, ControllerOptions options);

  // One round: reports `newly_ready` and returns the indices ready on every rank, in the
  // order rank 0 fixed. Collective in the sense that every rank must call it the same
  // number of times. Throws roost::Error on a mismatch or a stall shutdown.
  std::vector<int32_t> negotiate(const std::vector<TensorRequest>& newly_ready);

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Stall warnings issued so far (rank 0) and the last one's text, for tests and summaries.
  int stall_warnings() const { return stall_warnings_; }
  const std::string& last_stall_warning() const { return last_stall_warning_; }

 private:
  struct Pending {
    TensorRequest first;
    int first_rank = 0;
    std::set<int> ranks;
    std::chrono::steady_clock::time_point since;
    bool warned = false;
  };

  std::vector<int32_t> coordinate(const std::vector<TensorRequest>& mine);
  std::vector<int32_t> follow(const std::vector<TensorRequest>& mine);
  // Rank 0: records one rank's requests; returns a mismatch message or "".
  std::string record(int rank, const std::vector<TensorRequest>& requests);
  void inspect_stalls(const std::set<int>& waiting_for);
  std::string describe(const TensorRequest& r) const;

  comm::Communicator& comm_;
  int rank_ = 0, size_ = 1;
  std::vector<std::string> names_;
  ControllerOptions options_;
  std::map<int32_t, Pending> pending_;  // rank 0 only
  std::vector<int32_t> ready_order_;    // rank 0: indices complete, in completion order
  int stall_warnings_ = 0;
  std::string last_stall_warning_;
};

// Wire format helpers (exposed for tests).
std::vector<int64_t> encode_requests(const std::vector<TensorRequest>& requests);
std::vector<TensorRequest> decode_requests(const std::vector<int64_t>& words);

}  // namespace roost::sync
