// sync_threads_test.cc — the gradient synchronizer in one process, ranks as threads: the
// negotiation and the fused allreduces each over a thread communicator (what MPI carries in a
// job). Averaged gradients equal the mean over ranks, a shape that differs between ranks is
// an error naming it on every rank, and a late rank draws the stall warning naming it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "roost/comm/thread_communicator.h"
#include "roost/core/error.h"
#include "roost/sync/grad_sync.h"

namespace roost::sync {
namespace {

using Body = std::function<void(int rank, comm::Communicator& reduce, comm::Communicator& negotiate)>;

// n ranks as threads, each with a reduction and a negotiation communicator of its own group;
// the first failure aborts both groups (so no rank waits for a dead one) and is rethrown.
void run_ranks(int n, const Body& body) {
  comm::ThreadGroup reduce_group(n, std::chrono::seconds(30)), negotiate_group(n, std::chrono::seconds(30));
  std::vector<std::exception_ptr> errors(n);
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) {
    threads.emplace_back([&, r] {
      try {
        comm::ThreadCommunicator reduce(reduce_group, r), negotiate(negotiate_group, r);
        body(r, reduce, negotiate);
      } catch (...) {
        errors[r] = std::current_exception();
        reduce_group.abort("rank " + std::to_string(r) + " failed");
        negotiate_group.abort("rank " + std::to_string(r) + " failed");
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

TEST(GradientSynchronizerThreads, AveragesAcrossRanks) {
  torch::set_num_threads(1);
  const int world = 3;
  for (double fusion_mb : {0.0, 128.0}) {  // every tensor alone; all fused into one buffer
    run_ranks(world, [&](int rank, comm::Communicator& reduce, comm::Communicator& negotiate) {
      torch::Tensor a = torch::ones({5, 3}).requires_grad_(true);
      torch::Tensor b = torch::ones({7}).requires_grad_(true);
      SyncOptions o;
      o.fusion_threshold_mb = fusion_mb;
      GradientSynchronizer sync({{"a", a}, {"b", b}}, reduce, negotiate, rank, o);
      for (int step = 0; step < 3; ++step) {
        sync.begin_backward();
        ((a * (rank + 1 + step)).sum() + (b * b * (rank + 2)).sum()).backward();
        ASSERT_TRUE(sync.synchronize());
        double mean_a = 0, mean_b = 0;
        for (int r = 0; r < world; ++r) mean_a += r + 1 + step, mean_b += 2.0 * (r + 2);
        EXPECT_TRUE(a.grad().allclose(torch::full({5, 3}, mean_a / world))) << "rank " << rank << a.grad();
        EXPECT_TRUE(b.grad().allclose(torch::full({7}, mean_b / world))) << "rank " << rank << b.grad();
        a.mutable_grad().zero_();
        b.mutable_grad().zero_();
      }
    });
  }
}

TEST(GradientSynchronizerThreads, ShapeMismatchIsAnErrorOnEveryRank) {
  torch::set_num_threads(1);
  const int world = 3;
  std::vector<std::string> messages(world);
  run_ranks(world, [&](int rank, comm::Communicator& reduce, comm::Communicator& negotiate) {
    const bool odd = rank == world - 1;  // builds its second tensor with another shape
    torch::Tensor a = torch::ones({4}).requires_grad_(true);
    torch::Tensor w = torch::ones(odd ? std::vector<int64_t>{3, 2} : std::vector<int64_t>{2, 3}).requires_grad_(true);
    GradientSynchronizer sync({{"a", a}, {"layer.weight", w}}, reduce, negotiate, rank, SyncOptions{});
    sync.begin_backward();
    (a.sum() + w.sum()).backward();
    try {
      sync.synchronize();
    } catch (const Error& e) {
      messages[rank] = e.message();
    }
  });
  for (int r = 0; r < world; ++r) {
    const std::string& m = messages[r];
    EXPECT_NE(m.find("Mismatched allreduce tensor shapes for 'layer.weight'"), std::string::npos) << r << ": " << m;
    EXPECT_NE(m.find("[2, 3]"), std::string::npos) << r << ": " << m;
    EXPECT_NE(m.find("rank 2 has float32 [3, 2]"), std::string::npos) << r << ": " << m;
  }
}

TEST(GradientSynchronizerThreads, LateRankTriggersStallWarningNamingIt) {
  torch::set_num_threads(1);
  const int world = 3;
  int warnings = 0;
  std::string warning;
  run_ranks(world, [&](int rank, comm::Communicator& reduce, comm::Communicator& negotiate) {
    torch::Tensor a = torch::ones({8}).requires_grad_(true);
    SyncOptions o;
    o.stall_warning_s = 1;
    GradientSynchronizer sync({{"late.tensor", a}}, reduce, negotiate, rank, o);
    if (rank == world - 1) std::this_thread::sleep_for(std::chrono::milliseconds(2000));
    sync.begin_backward();
    (a * 2).sum().backward();
    ASSERT_TRUE(sync.synchronize());
    EXPECT_TRUE(a.grad().allclose(torch::full({8}, 2.0)));
    if (rank == 0) warnings = sync.controller().stall_warnings(), warning = sync.controller().last_stall_warning();
  });
  EXPECT_GE(warnings, 1);
  EXPECT_NE(warning.find("'late.tensor'"), std::string::npos) << warning;
  EXPECT_NE(warning.find("not by rank(s) 2;"), std::string::npos) << warning;
}

}  // namespace
}  // namespace roost::sync
