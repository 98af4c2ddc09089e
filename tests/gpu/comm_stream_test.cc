// comm_stream_test.cc — gradients over NCCL on a stream of their own (comm_stream.h): on one
// GPU the world has one rank, whose NCCL allreduce still runs on the exchange stream. The
// synchronizer's averaged gradients equal plain backward's, and the GPU-timed timeline shows
// allreduces that started before backward ended (the overlap the stream exists for). Skips
// without a CUDA libtorch, a device or NCCL.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "roost/comm/mpi_communicator.h"
#include "roost/comm/mpi_scope.h"
#include "roost/core/gpu.h"
#include "roost/gpu/comm_stream.h"
#include "roost/gpu/torch_cuda.h"
#include "roost/model/resnet.h"
#include "roost/sync/grad_sync.h"
#ifdef ROOST_WITH_NCCL
#include "roost/comm/nccl_communicator.h"
#endif

namespace roost::sync {
namespace {

#ifdef ROOST_WITH_NCCL
MpiScope& mpi() {
  static MpiScope scope(nullptr, nullptr);
  return scope;
}
#endif

TEST(CommStream, NcclOnItsOwnStreamOverlapsBackwardAndAveragesRight) {
#ifndef ROOST_WITH_NCCL
  GTEST_SKIP() << "roost was built without NCCL";
#else
  if (!gpu::torch_has_cuda() || !torch::cuda::is_available()) GTEST_SKIP() << "no CUDA libtorch or no device";
  const DeviceChoice d = choose_device(mpi().local_rank());
  torch::Device dev(torch::kCUDA, d.device);
  torch::manual_seed(9);
  model::ResNetOptions mo;
  mo.arch = "resnet50";
  mo.num_classes = 10;
  model::ResNet net = model::make_resnet(mo);
  net->to(dev);
  net->train();
  torch::Tensor x = torch::randn({64, 3, 160, 160}, torch::TensorOptions().device(dev));
  torch::Tensor y = torch::randint(0, 10, {64}, torch::TensorOptions().device(dev).dtype(torch::kInt64));
  // Plain backward's gradients, the reference.
  torch::cross_entropy_loss(net->forward(x), y).backward();
  std::vector<torch::Tensor> expected;
  for (auto& p : net->parameters()) expected.push_back(p.grad().clone());
  for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();

  gpu::CommStream stream;
  comm::NcclCommunicator nccl(mpi().comm(), d.device, stream.stream());
  comm::MpiCommunicator negotiation(mpi().comm());
  const std::string trace = (std::filesystem::temp_directory_path() / "roost-comm-stream-trace.json").string();
  SyncOptions o;
  o.fusion_threshold_mb = 4;
  o.timeline_path = trace;
  std::vector<std::pair<std::string, torch::Tensor> > named;
  for (auto& item : net->named_parameters()) named.emplace_back(item.key(), item.value());
  {
    GradientSynchronizer sync(named, nccl, negotiation, 0, o);
    sync.set_device_stream(&stream);
    for (int step = 0; step < 3; ++step) {
      for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();
      sync.begin_backward();
      torch::cross_entropy_loss(net->forward(x), y).backward();
      ASSERT_TRUE(sync.synchronize());
    }
    torch::cuda::synchronize();
    const auto params = net->parameters();
    for (size_t i = 0; i < params.size(); ++i)
      ASSERT_TRUE(torch::allclose(params[i].grad(), expected[i], 1e-4, 1e-5)) << "parameter " << i;
    // The last step's GPU spans: some allreduce started before backward ended.
    double backward_end = -1, first_allreduce = -1;
    for (const TimelineEvent& e : sync.timeline().events()) {
      if (e.kind != 'X') continue;
      if (e.name == "gpu backward") backward_end = e.ts_us + e.dur_us, first_allreduce = -1;
      if (e.name == "gpu allreduce" && first_allreduce < 0) first_allreduce = e.ts_us;
    }
    ASSERT_GE(first_allreduce, 0) << "no GPU allreduce span in the timeline";
    ASSERT_GT(backward_end, 0) << "no GPU backward span in the timeline";
    EXPECT_LT(first_allreduce, backward_end) << "the first allreduce waited for the whole backward pass";
    std::printf("backward ends at %.0f us, first allreduce starts at %.0f us\n", backward_end, first_allreduce);
  }
  std::ifstream in(trace);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("\"tid\": \"gpu allreduce\""), std::string::npos);
  EXPECT_NE(text.str().find("\"tid\": \"gpu backward\""), std::string::npos);
#endif
}

}  // namespace
}  // namespace roost::sync
