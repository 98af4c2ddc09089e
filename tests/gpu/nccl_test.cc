// nccl_test.cc — the NCCL communicator on device memory: allreduce (sum, average) for
// float32/float16/bfloat16 at several counts, broadcast and allgather, checked against host
// references. One process per GPU: on a one-GPU machine the world has one rank, which still
// runs every call through NCCL. Skips without a device or without NCCL.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <vector>

#include "roost/comm/nccl_communicator.h"
#include "roost/core/gpu.h"
#include "roost/comm/mpi_scope.h"

#ifdef ROOST_WITH_NCCL
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "roost/core/cuda_check.h"
#endif

namespace roost {
namespace {

#ifdef ROOST_WITH_NCCL
MpiScope& mpi() {
  static MpiScope scope(nullptr, nullptr);  // an MPI singleton when not under mpirun
  return scope;
}

template <typename T>
std::vector<T> to_type(const std::vector<float>& v) {
  std::vector<T> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = T(v[i]);
  return out;
}

template <typename T>
void check_allreduce(comm::NcclCommunicator& c, comm::DType type, size_t count, comm::ReduceOp op) {
  std::mt19937 rng(static_cast<unsigned>(count * 13 + static_cast<int>(type)));
  std::uniform_real_distribution<float> u(-2.f, 2.f);
  std::vector<float> in(count);
  for (auto& x : in) x = u(rng) + 0.1f;
  std::vector<T> host = to_type<T>(in);
  T* dev = nullptr;
  CUDA_CHECK(cudaMalloc(&dev, std::max<size_t>(1, count) * sizeof(T)));
  CUDA_CHECK(cudaMemcpy(dev, host.data(), count * sizeof(T), cudaMemcpyHostToDevice));
  c.allreduce(dev, count, type, op);
  c.synchronize();
  std::vector<T> out(count);
  CUDA_CHECK(cudaMemcpy(out.data(), dev, count * sizeof(T), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaFree(dev));
  const double world = c.size();
  for (size_t i = 0; i < count; ++i) {
    double expected = static_cast<double>(static_cast<float>(host[i])) * (op == comm::ReduceOp::kSum ? world : 1.0);
    double tol = sizeof(T) == 4 ? 1e-5 : 2e-2;
    ASSERT_NEAR(static_cast<double>(static_cast<float>(out[i])), expected, tol * (1 + std::abs(expected)))
        << comm::dtype_name(type) << " count " << count << " at " << i;
  }
}
#endif

TEST(Nccl, CollectivesOnDeviceMemory) {
#ifndef ROOST_WITH_NCCL
  GTEST_SKIP() << "roost was built without NCCL";
#else
  if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device on this machine";
  DeviceChoice d = choose_device(mpi().local_rank());
  comm::NcclCommunicator c(mpi().comm(), d.device);
  EXPECT_EQ(c.size(), mpi().size());
  for (size_t count : {size_t(1), size_t(3), size_t(1021), size_t(1) << 20}) {
    check_allreduce<float>(c, comm::DType::kFloat32, count, comm::ReduceOp::kSum);
    check_allreduce<float>(c, comm::DType::kFloat32, count, comm::ReduceOp::kAverage);
    check_allreduce<__half>(c, comm::DType::kFloat16, count, comm::ReduceOp::kSum);
    check_allreduce<__nv_bfloat16>(c, comm::DType::kBFloat16, count, comm::ReduceOp::kAverage);
  }
  // broadcast and allgather of bytes
  std::vector<uint8_t> bytes(4099);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 1);
  uint8_t *dev = nullptr, *all = nullptr;
  CUDA_CHECK(cudaMalloc(&dev, bytes.size()));
  CUDA_CHECK(cudaMalloc(&all, bytes.size() * c.size()));
  CUDA_CHECK(cudaMemcpy(dev, bytes.data(), bytes.size(), cudaMemcpyHostToDevice));
  c.broadcast(dev, bytes.size(), 0);
  c.allgather(dev, all, bytes.size());
  c.synchronize();
  std::vector<uint8_t> back(bytes.size() * c.size());
  CUDA_CHECK(cudaMemcpy(back.data(), all, back.size(), cudaMemcpyDeviceToHost));
  for (size_t i = 0; i < back.size(); ++i) ASSERT_EQ(back[i], bytes[i % bytes.size()]) << i;
  cudaFree(dev);
  cudaFree(all);
#endif
}

}  // namespace
}  // namespace roost
