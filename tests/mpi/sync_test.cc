// sync_test.cc — the gradient synchronizer under real mpirun: averaged gradients equal the
// mean of every rank's gradients, host memory for averaged gradients is reused across steps
// but never while someone holds last step's gradients, a callback gets every parameter once
// per step as its averaged gradient arrives, ranks stay bitwise identical through
// training steps of a ResNet-18, the first allreduce starts while backward is still running
// (recorded event order, not time), a tensor whose shape differs between ranks is an error on
// every rank (no hang), and a late rank triggers the stall warning naming it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <map>
#include <thread>

#include "mpi_env.h"
#include "roost/comm/ring_mpi_communicator.h"
#include "roost/comm/mpi_scope.h"
#include "roost/model/resnet.h"
#include "roost/sync/grad_sync.h"

namespace roost::sync {
namespace {

using Named = std::vector<std::pair<std::string, torch::Tensor>>;

struct Comms {
  MpiCommDup reduce{testing::g_mpi->comm()}, negotiate_dup{testing::g_mpi->comm()};
  comm::RingMpiCommunicator ring{reduce.get()};
  comm::MpiCommunicator negotiate{negotiate_dup.get()};
};

Named named_params(model::ResNet& net) {
  Named out;
  for (const auto& p : net->named_parameters()) out.emplace_back(p.key(), p.value());
  return out;
}

uint64_t fingerprint(const std::vector<torch::Tensor>& tensors) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the raw bytes
  for (const auto& t : tensors) {
    auto c = t.detach().contiguous();
    auto* p = static_cast<const unsigned char*>(c.data_ptr());
    for (int64_t i = 0; i < c.numel() * c.element_size(); ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
  return h;
}

TEST(GradientSynchronizer, AveragesAcrossRanks) {
  Comms c;
  const int rank = testing::g_mpi->rank(), world = testing::g_mpi->size();
  torch::Tensor a = torch::ones({5, 3}).requires_grad_(true);
  torch::Tensor b = torch::ones({7}).requires_grad_(true);
  SyncOptions o;
  o.fusion_threshold_mb = 0;  // every tensor in its own buffer
  GradientSynchronizer sync({{"a", a}, {"b", b}}, c.ring, c.negotiate, rank, o);
  for (int step = 0; step < 3; ++step) {
    sync.begin_backward();
    ((a * (rank + 1 + step)).sum() + (b * b * (rank + 2)).sum()).backward();
    ASSERT_TRUE(sync.synchronize());
    double mean_a = 0, mean_b = 0;
    for (int r = 0; r < world; ++r) mean_a += (r + 1 + step), mean_b += 2.0 * (r + 2);
    EXPECT_TRUE(a.grad().allclose(torch::full({5, 3}, mean_a / world))) << a.grad();
    EXPECT_TRUE(b.grad().allclose(torch::full({7}, mean_b / world))) << b.grad();
    a.mutable_grad().zero_();
    b.mutable_grad().zero_();
  }
}

TEST(GradientSynchronizer, ReleasedGradientsReuseOneHostBlockAndHeldOnesAreNotOverwritten) {
  Comms c;
  const int rank = testing::g_mpi->rank(), world = testing::g_mpi->size();
  torch::Tensor a = torch::ones({300, 7}).requires_grad_(true);
  torch::Tensor b = torch::ones({1001}).requires_grad_(true);
  GradientSynchronizer sync({{"a", a}, {"b", b}}, c.ring, c.negotiate, rank, SyncOptions{});
  auto expected = [&](int step) {
    double mean = 0;
    for (int r = 0; r < world; ++r) mean += r + 1 + step;
    return mean / world;
  };
  auto run_step = [&](int step) {
    sync.begin_backward();
    ((a * (rank + 1 + step)).sum() + (b * (rank + 1 + step)).sum()).backward();
    ASSERT_TRUE(sync.synchronize());
    EXPECT_TRUE(a.grad().allclose(torch::full({300, 7}, expected(step)))) << "step " << step;
    EXPECT_TRUE(b.grad().allclose(torch::full({1001}, expected(step)))) << "step " << step;
  };
  // Gradients released after every step (the optimizer's zero_grad): the first step has no
  // block yet, the second allocates it, and every later step reuses it.
  for (int step = 0; step < 5; ++step) {
    run_step(step);
    a.mutable_grad() = torch::Tensor();
    b.mutable_grad() = torch::Tensor();
  }
  EXPECT_EQ(sync.arena_allocations(), 1);
  // A gradient somebody still holds keeps its values through the next step.
  run_step(5);
  torch::Tensor kept = a.grad();
  a.mutable_grad() = torch::Tensor();
  b.mutable_grad() = torch::Tensor();
  run_step(6);
  EXPECT_TRUE(kept.allclose(torch::full({300, 7}, expected(5)))) << "a held gradient was overwritten";
  EXPECT_EQ(sync.arena_allocations(), 2);
}

TEST(GradientSynchronizer, ReadyCallbackGetsEveryParameterOnceWithItsAveragedGradient) {
  Comms c;
  const int rank = testing::g_mpi->rank(), world = testing::g_mpi->size();
  std::vector<torch::Tensor> params;
  Named named;
  for (int i = 0; i < 6; ++i) {
    params.push_back(torch::ones({1000 * (i + 1)}).requires_grad_(true));
    named.emplace_back("p" + std::to_string(i), params.back());
  }
  SyncOptions o;
  o.fusion_threshold_mb = 0.01;  // several groups, so several hand-overs
  GradientSynchronizer sync(named, c.ring, c.negotiate, rank, o);
  double mean = 0;
  for (int r = 0; r < world; ++r) mean += r + 1;
  mean /= world;
  for (int step = 0; step < 3; ++step) {
    sync.begin_backward();
    torch::Tensor loss = torch::zeros({});
    for (auto& p : params) loss = loss + (p * (rank + 1)).sum();
    loss.backward();
    std::map<const void*, int> seen;
    int calls = 0;
    ASSERT_TRUE(sync.synchronize([&](const std::vector<torch::Tensor>& ready) {
      ++calls;
      for (const auto& p : ready) {
        ++seen[p.unsafeGetTensorImpl()];
        EXPECT_TRUE(p.grad().defined() && p.grad().allclose(torch::full_like(p, mean))) << "step " << step;
      }
    }));
    EXPECT_GE(calls, 1);
    ASSERT_EQ(seen.size(), params.size()) << "step " << step;
    for (const auto& [impl, n] : seen) EXPECT_EQ(n, 1) << "a parameter handed over " << n << " times";
    for (auto& p : params) p.mutable_grad() = torch::Tensor();
  }
}

TEST(GradientSynchronizer, ResNetStepsKeepRanksIdenticalAndOverlapBackward) {
  Comms c;
  const int rank = testing::g_mpi->rank();
  torch::manual_seed(1);
  model::ResNetOptions mo;
  mo.num_classes = 3;
  model::ResNet net = model::make_resnet(mo);
  SyncOptions o;
  o.fusion_threshold_mb = 4;  // several fused buffers per step
  GradientSynchronizer sync(named_params(net), c.ring, c.negotiate, rank, o);
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  torch::manual_seed(100 + rank);  // every rank sees different data
  bool overlapped = false;
  for (int step = 0; step < 4; ++step) {
    torch::Tensor x = torch::randn({4, 3, 96, 96});
    torch::Tensor y = torch::randint(0, 3, {4}, torch::kInt64);
    sync.timeline().clear_events();
    torch::Tensor loss = torch::cross_entropy_loss(net->forward(x), y);
    // Start every rank's backward together: negotiation can only release a gradient once
    // all ranks produced it, so a rank that starts late would otherwise decide the order.
    MPI_Barrier(testing::g_mpi->comm());
    sync.begin_backward();
    loss.backward();
    sync.timeline().mark("backward_done");
    ASSERT_TRUE(sync.synchronize());
    opt.step();
    opt.zero_grad();
    uint64_t first_allreduce = UINT64_MAX, backward_done = 0;
    for (const auto& e : sync.timeline().events()) {
      if (e.phase == "ALLREDUCE" && e.kind == 'B') first_allreduce = std::min(first_allreduce, e.sequence);
      if (e.name == "backward_done") backward_done = e.sequence;
    }
    ASSERT_NE(first_allreduce, UINT64_MAX) << "no allreduce recorded";
    overlapped = overlapped || first_allreduce < backward_done;
  }
  EXPECT_TRUE(overlapped) << "no step started an allreduce before its backward pass ended";
  std::vector<torch::Tensor> params;
  for (const auto& p : net->parameters()) params.push_back(p);
  uint64_t mine = fingerprint(params);
  std::vector<uint64_t> all(testing::g_mpi->size());
  MPI_Allgather(&mine, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, testing::g_mpi->comm());
  for (size_t r = 0; r < all.size(); ++r) EXPECT_EQ(all[r], all[0]) << "rank " << r << " parameters differ";
}

TEST(GradientSynchronizer, ShapeMismatchIsAnErrorOnEveryRank) {
  Comms c;
  const int rank = testing::g_mpi->rank();
  // The last rank builds its second tensor with another shape.
  const bool odd = rank == testing::g_mpi->size() - 1;
  torch::Tensor a = torch::ones({4}).requires_grad_(true);
  torch::Tensor w = torch::ones(odd ? std::vector<int64_t>{3, 2} : std::vector<int64_t>{2, 3}).requires_grad_(true);
  GradientSynchronizer sync({{"a", a}, {"layer.weight", w}}, c.ring, c.negotiate, rank, SyncOptions{});
  sync.begin_backward();
  (a.sum() + w.sum()).backward();
  try {
    sync.synchronize();
    FAIL() << "expected a mismatch error";
  } catch (const Error& e) {
    std::string m = e.message();
    EXPECT_NE(m.find("Mismatched allreduce tensor shapes"), std::string::npos) << m;
    EXPECT_NE(m.find("layer.weight"), std::string::npos) << m;
    EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[3, 2]"), std::string::npos) << m;
  }
}

TEST(GradientSynchronizer, LateRankTriggersStallWarningNamingIt) {
  Comms c;
  const int rank = testing::g_mpi->rank(), world = testing::g_mpi->size();
  torch::Tensor a = torch::ones({8}).requires_grad_(true);
  SyncOptions o;
  o.stall_warning_s = 1;
  GradientSynchronizer sync({{"late.tensor", a}}, c.ring, c.negotiate, rank, o);
  if (rank == world - 1) std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  sync.begin_backward();
  (a * 2).sum().backward();
  ASSERT_TRUE(sync.synchronize());
  EXPECT_TRUE(a.grad().allclose(torch::full({8}, 2.0)));
  if (rank == 0) {
    EXPECT_GE(sync.controller().stall_warnings(), 1);
    const std::string& w = sync.controller().last_stall_warning();
    EXPECT_NE(w.find("late.tensor"), std::string::npos) << w;
    EXPECT_NE(w.find("rank(s) " + std::to_string(world - 1)), std::string::npos) << w;
  }
}

}  // namespace
}  // namespace roost::sync
