// roost/comm/mpi_communicator.cc — collectives and point-to-point over MPI on host memory.
#include "roost/comm/mpi_communicator.h"

#include <algorithm>
#include <climits>
#include <vector>

#include "roost/comm/mpi_scope.h"

namespace roost::comm {

namespace {
// MPI counts are int: larger messages go in pieces.
constexpr size_t kMaxChunk = INT_MAX / 8;

MPI_Datatype mpi_type(DType type) {
  switch (type) {
    case DType::kFloat32: return MPI_FLOAT;
    case DType::kFloat64: return MPI_DOUBLE;
    case DType::kInt64: return MPI_INT64_T;
    case DType::kUInt8: return MPI_UINT8_T;
    default: ROOST_THROW("MPI has no ", dtype_name(type), " type: reduce it with RingMpiCommunicator");
  }
}

// Point-to-point messages are cut at 1 GiB (MPI counts are int). Both ends cut a message the
// same way, and a message of zero bytes is still one message, so the pieces always pair up.
constexpr size_t kMaxMessage = size_t(1) << 30;

size_t pieces(size_t bytes) { return bytes == 0 ? 1 : (bytes + kMaxMessage - 1) / kMaxMessage; }
int piece_bytes(size_t bytes, size_t piece) {
  return static_cast<int>(std::min(kMaxMessage, bytes - std::min(bytes, piece * kMaxMessage)));
}
int mpi_peer(int peer) { return peer == kNoPeer ? MPI_PROC_NULL : peer; }

// A shorter message than the receive asked for is an error of the caller's protocol; MPI
// reports only longer ones (as truncation), so the length is checked here.
void check_received(const MPI_Status& status, int expected, int src, int tag) {
  if (src == MPI_PROC_NULL) return;
  int got = 0;
  MPI_CHECK(MPI_Get_count(&status, MPI_BYTE, &got));
  ROOST_CHECK(got == expected, "expected ", expected, " bytes from rank ", src, " with tag ", tag, " but ", got,
              " arrived");
}

class MpiRequest : public Request {
 public:
  explicit MpiRequest(int src, int tag) : src_(src), tag_(tag) {}
  ~MpiRequest() override {
    // Unwaited requests still own their buffers' future contents: finish them before the
    // caller's memory can go away. Errors cannot be reported from a destructor.
    if (!requests_.empty()) MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE);
  }
  void add(MPI_Request r, int expected_recv_bytes) {
    requests_.push_back(r);
    expected_.push_back(expected_recv_bytes);
  }
  void wait() override {
    if (requests_.empty()) return;
    std::vector<MPI_Status> statuses(requests_.size());
    int rc = MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), statuses.data());
    std::vector<int> expected;
    expected.swap(expected_);
    requests_.clear();
    MPI_CHECK(rc);
    for (size_t i = 0; i < statuses.size(); ++i)
      if (expected[i] >= 0) check_received(statuses[i], expected[i], src_, tag_);
  }

 private:
  int src_, tag_;
  std::vector<MPI_Request> requests_;
  std::vector<int> expected_;  // bytes a receive expects; -1 for sends
};

template <typename T>
void scale(void* data, size_t count, double factor) {
  T* p = static_cast<T*>(data);
  for (size_t i = 0; i < count; ++i) p[i] = static_cast<T>(p[i] * factor);
}
}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm) : comm_(comm) {
  MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  MPI_CHECK(MPI_Comm_size(comm_, &size_));
}

void MpiCommunicator::barrier() { MPI_CHECK(MPI_Barrier(comm_)); }

void MpiCommunicator::broadcast(void* data, size_t bytes, int root) {
  auto* p = static_cast<char*>(data);
  for (size_t off = 0; off < bytes; off += kMaxChunk) {
    int n = static_cast<int>(std::min(kMaxChunk, bytes - off));
    MPI_CHECK(MPI_Bcast(p + off, n, MPI_BYTE, root, comm_));
  }
}

void MpiCommunicator::allgather(const void* in, void* out, size_t bytes_per_rank) {
  ROOST_CHECK(bytes_per_rank <= kMaxChunk, "allgather of ", bytes_per_rank, " bytes per rank");
  MPI_CHECK(MPI_Allgather(in, static_cast<int>(bytes_per_rank), MPI_BYTE, out, static_cast<int>(bytes_per_rank),
                          MPI_BYTE, comm_));
}

void MpiCommunicator::allreduce(void* data, size_t count, DType type, ReduceOp op) {
  MPI_Datatype mt = mpi_type(type);
  size_t elem = dtype_size(type);
  auto* p = static_cast<char*>(data);
  for (size_t off = 0; off < count; off += kMaxChunk) {
    int n = static_cast<int>(std::min(kMaxChunk, count - off));
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, p + off * elem, n, mt, MPI_SUM, comm_));
  }
  if (op == ReduceOp::kAverage && size_ > 1) {
    double f = 1.0 / size_;
    if (type == DType::kFloat32) scale<float>(data, count, f);
    else if (type == DType::kFloat64) scale<double>(data, count, f);
    else ROOST_THROW("average of ", dtype_name(type), " is not defined");
  }
}

void MpiCommunicator::send(const void* data, size_t bytes, int peer, int tag) {
  const char* p = static_cast<const char*>(data);
  for (size_t i = 0; i < pieces(bytes); ++i)
    MPI_CHECK(MPI_Send(p + i * kMaxMessage, piece_bytes(bytes, i), MPI_BYTE, peer, tag, comm_));
}

bool MpiCommunicator::probe(int peer, int tag) {
  int flag = 0;
  MPI_CHECK(MPI_Iprobe(peer, tag, comm_, &flag, MPI_STATUS_IGNORE));
  return flag != 0;
}

void MpiCommunicator::recv(void* data, size_t bytes, int peer, int tag) {
  char* p = static_cast<char*>(data);
  for (size_t i = 0; i < pieces(bytes); ++i) {
    MPI_Status status;
    MPI_CHECK(MPI_Recv(p + i * kMaxMessage, piece_bytes(bytes, i), MPI_BYTE, peer, tag, comm_, &status));
    check_received(status, piece_bytes(bytes, i), peer, tag);
  }
}

void MpiCommunicator::sendrecv(const void* sendbuf, size_t sbytes, int dst, void* recvbuf, size_t rbytes, int src,
                               int tag) {
  const char* s = static_cast<const char*>(sendbuf);
  char* r = static_cast<char*>(recvbuf);
  const size_t ns = dst == kNoPeer ? 0 : pieces(sbytes), nr = src == kNoPeer ? 0 : pieces(rbytes);
  // Piece i of both halves goes in one MPI_Sendrecv; a half with fewer pieces sits out the
  // rest with MPI_PROC_NULL.
  for (size_t i = 0; i < std::max(ns, nr); ++i) {
    const bool send = i < ns, receive = i < nr;
    MPI_Status status;
    MPI_CHECK(MPI_Sendrecv(send ? s + i * kMaxMessage : nullptr, send ? piece_bytes(sbytes, i) : 0, MPI_BYTE,
                           send ? dst : MPI_PROC_NULL, tag, receive ? r + i * kMaxMessage : nullptr,
                           receive ? piece_bytes(rbytes, i) : 0, MPI_BYTE, receive ? src : MPI_PROC_NULL, tag, comm_,
                           &status));
    if (receive) check_received(status, piece_bytes(rbytes, i), src, tag);
  }
}

std::unique_ptr<Request> MpiCommunicator::isendrecv(const void* sendbuf, size_t sbytes, int dst, void* recvbuf,
                                                    size_t rbytes, int src, int tag) {
  auto request = std::make_unique<MpiRequest>(mpi_peer(src), tag);
  // Receives are posted first so that the matching send from the neighbour finds them.
  if (src != kNoPeer) {
    char* r = static_cast<char*>(recvbuf);
    for (size_t i = 0; i < pieces(rbytes); ++i) {
      MPI_Request q;
      MPI_CHECK(MPI_Irecv(r + i * kMaxMessage, piece_bytes(rbytes, i), MPI_BYTE, src, tag, comm_, &q));
      request->add(q, piece_bytes(rbytes, i));
    }
  }
  if (dst != kNoPeer) {
    const char* s = static_cast<const char*>(sendbuf);
    for (size_t i = 0; i < pieces(sbytes); ++i) {
      MPI_Request q;
      MPI_CHECK(MPI_Isend(s + i * kMaxMessage, piece_bytes(sbytes, i), MPI_BYTE, dst, tag, comm_, &q));
      request->add(q, -1);
    }
  }
  return request;
}

}  // namespace roost::comm
