// roost/comm/thread_communicator.h — n ranks as n threads of one process.
//
// The in-process backend exists so that the collective algorithms can be tested (and
// debugged) without mpirun: ThreadGroup is the shared "network" — one mailbox per destination
// rank, holding queues of messages keyed by (source, tag) — and ThreadCommunicator is one
// rank's view of it. Sends are buffered (copied into the mailbox) and never block; receives
// wait. A receive that waits longer than the group's timeout throws an Error naming the peer
// and tag, and a rank that fails aborts the group so the others fail fast instead of waiting:
// a wrong test never hangs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "roost/comm/communicator.h"
#include "roost/comm/ring.h"

namespace roost::comm {

class ThreadGroup {
 public:
  explicit ThreadGroup(int size, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;

  int size() const { return size_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // Copies `bytes` into dst's mailbox under (src, tag).
  void post(int src, int dst, int tag, const void* data, size_t bytes);
  // Takes the oldest message from src under tag into `data`; it must hold exactly `bytes`.
  void take(int src, int dst, int tag, void* data, size_t bytes);
  // Whether dst's mailbox holds a message from src under tag (never waits).
  bool has(int src, int dst, int tag);
  void barrier(int rank);
  // Makes every waiting and future take/barrier throw with `why` (a rank has failed).
  void abort(const std::string& why);
  // Throws unless 0 <= rank < size(); `what` names the rank's role in the message.
  void check_rank(int rank, const char* what) const;

 private:
  struct Mailbox {
    std::mutex mutex;
    std::condition_variable arrived;
    std::map<std::pair<int, int>, std::deque<std::vector<char>>> queues;  // (src, tag)
  };
  void throw_if_aborted();  // with the reason the failing rank gave

  const int size_;
  const std::chrono::milliseconds timeout_;
  std::vector<std::unique_ptr<Mailbox>> mailboxes_;  // indexed by destination rank

  std::mutex barrier_mutex_;
  std::condition_variable barrier_cv_;
  int barrier_waiting_ = 0;
  unsigned long barrier_generation_ = 0;

  // Waiters test `aborted_` in their wait predicates; the reason is read only after it is set.
  std::atomic<bool> aborted_{false};
  std::mutex abort_mutex_;
  std::string abort_reason_;
};

class ThreadCommunicator : public Communicator {
 public:
  ThreadCommunicator(ThreadGroup& group, int rank, RingOptions options = {});

  int rank() const override { return rank_; }
  int size() const override { return group_.size(); }
  std::string backend() const override { return "threads"; }

  void barrier() override;
  // The collectives are roost's ring algorithms over this backend's point-to-point calls.
  void broadcast(void* data, size_t bytes, int root) override;
  void allgather(const void* in, void* out, size_t bytes_per_rank) override;
  void allreduce(void* data, size_t count, DType type, ReduceOp op) override;

  void send(const void* data, size_t bytes, int peer, int tag) override;
  void recv(void* data, size_t bytes, int peer, int tag) override;
  void sendrecv(const void* sendbuf, size_t sbytes, int dst, void* recvbuf, size_t rbytes, int src, int tag) override;
  // The send half is buffered at once; the receive completes in wait().
  std::unique_ptr<Request> isendrecv(const void* sendbuf, size_t sbytes, int dst, void* recvbuf, size_t rbytes, int src,
                                     int tag) override;
  bool probe(int peer, int tag) override;

 private:
  ThreadGroup& group_;
  int rank_;
  RingOptions options_;
  RingScratch scratch_;
};

// Runs body(comm) on n threads, one ThreadCommunicator each, and joins them. The first
// exception thrown by any rank aborts the group (so the others stop waiting) and is rethrown
// here after every thread has finished.
void run_ranks(int n, const std::function<void(Communicator&)>& body, RingOptions options = {},
               std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace roost::comm
