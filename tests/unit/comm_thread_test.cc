// comm_thread_test.cc — the in-process backend itself: point-to-point ordering and matching,
// sendrecv around a ring, isendrecv, barrier, and that misuse fails fast with an Error naming
// the peer and tag (wrong sizes, receives nobody answers, one rank throwing) instead of hanging.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "roost/comm/thread_communicator.h"
#include "roost/core/error.h"

namespace roost {
namespace {

using namespace std::chrono_literals;
using comm::Communicator;

TEST(ThreadCommunicator, RanksSizesAndBackend) {
  std::vector<int> seen(4, -1);
  comm::run_ranks(4, [&](Communicator& c) {
    EXPECT_EQ(c.size(), 4);
    EXPECT_EQ(c.backend(), "threads");
    seen[c.rank()] = c.rank();
  });
  for (int r = 0; r < 4; ++r) EXPECT_EQ(seen[r], r);
}

TEST(ThreadCommunicator, MessagesKeepOrderPerTagAndMatchByTag) {
  comm::run_ranks(2, [](Communicator& c) {
    if (c.rank() == 0) {
      for (int i = 0; i < 5; ++i) c.send(&i, sizeof i, 1, 7);
      int other = 99;
      c.send(&other, sizeof other, 1, 8);
    } else {
      int v = -1;
      c.recv(&v, sizeof v, 0, 8);  // tag 8 is matched although tag 7's messages came first
      EXPECT_EQ(v, 99);
      for (int i = 0; i < 5; ++i) {
        c.recv(&v, sizeof v, 0, 7);
        EXPECT_EQ(v, i);
      }
    }
  });
}

TEST(ThreadCommunicator, SendrecvAroundARingDoesNotDeadlock) {
  for (int n : {1, 2, 3, 8}) {
    comm::run_ranks(n, [n](Communicator& c) {
      const int right = (c.rank() + 1) % n, left = (c.rank() + n - 1) % n;
      std::vector<double> out(1000, c.rank() + 0.5), in(1000, -1);
      c.sendrecv(out.data(), out.size() * sizeof(double), right, in.data(), in.size() * sizeof(double), left, 3);
      for (double v : in) ASSERT_EQ(v, left + 0.5);
    });
  }
}

TEST(ThreadCommunicator, IsendrecvCompletesOnWaitAndHalvesCanBeAbsent) {
  comm::run_ranks(3, [](Communicator& c) {
    // A chain 0 → 1 → 2: the ends leave out one half with kNoPeer.
    int send = 10 + c.rank(), got = -1;
    const int dst = c.rank() < 2 ? c.rank() + 1 : comm::kNoPeer;
    const int src = c.rank() > 0 ? c.rank() - 1 : comm::kNoPeer;
    auto request = c.isendrecv(&send, sizeof send, dst, &got, sizeof got, src, 4);
    request->wait();
    request->wait();  // a second wait is harmless
    EXPECT_EQ(got, c.rank() > 0 ? 10 + c.rank() - 1 : -1);
  });
}

TEST(ThreadCommunicator, ZeroByteMessagesPairUp) {
  comm::run_ranks(2, [](Communicator& c) {
    const int peer = 1 - c.rank();
    c.sendrecv(nullptr, 0, peer, nullptr, 0, peer, 1);
    int v = c.rank(), w = -1;
    c.sendrecv(&v, sizeof v, peer, &w, sizeof w, peer, 1);
    EXPECT_EQ(w, peer);
  });
}

TEST(ThreadCommunicator, BarrierHoldsEveryRankUntilAllArrive) {
  std::atomic<int> arrived{0};
  comm::run_ranks(5, [&](Communicator& c) {
    for (int round = 1; round <= 3; ++round) {
      arrived.fetch_add(1);
      c.barrier();
      EXPECT_GE(arrived.load(), 5 * round);
      c.barrier();
    }
  });
}

TEST(ThreadCommunicator, SizeMismatchIsAnErrorNamingPeerAndTag) {
  try {
    comm::run_ranks(2, [](Communicator& c) {
      char buf[8] = {};
      if (c.rank() == 0) c.send(buf, 3, 1, 21);
      else c.recv(buf, 8, 0, 21);
    });
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string m = e.message();
    EXPECT_NE(m.find("expected 8 bytes from rank 0 with tag 21"), std::string::npos) << m;
  }
}

TEST(ThreadCommunicator, UnansweredReceiveTimesOutNamingPeerAndTag) {
  const auto begin = std::chrono::steady_clock::now();
  try {
    comm::run_ranks(
        2,
        [](Communicator& c) {
          int v = 0;
          if (c.rank() == 1) c.recv(&v, sizeof v, 0, 42);  // rank 0 never sends
        },
        {}, 200ms);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string m = e.message();
    EXPECT_NE(m.find("from rank 0 with tag 42"), std::string::npos) << m;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
}

TEST(ThreadCommunicator, BarrierNotReachedByAllTimesOut) {
  EXPECT_THROW(comm::run_ranks(
                   3,
                   [](Communicator& c) {
                     if (c.rank() != 2) c.barrier();
                   },
                   {}, 200ms),
               Error);
}

TEST(ThreadCommunicator, FirstFailureIsRethrownAndWakesWaitingRanks) {
  // Rank 2 fails at once; ranks 0 and 1 are waiting for messages that will never come. With a
  // 60 s timeout they would wait a minute: the abort must release them promptly, and the error
  // the caller sees is rank 2's own.
  const auto begin = std::chrono::steady_clock::now();
  try {
    comm::run_ranks(3, [](Communicator& c) {
      if (c.rank() == 2) ROOST_THROW("rank two gives up");
      std::vector<float> v(100, 1.f);
      c.allreduce(v.data(), v.size(), comm::DType::kFloat32, comm::ReduceOp::kSum);
    });
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "rank two gives up");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
}

TEST(ThreadCommunicator, BadPeerIsAnError) {
  comm::run_ranks(2, [](Communicator& c) {
    int v = 0;
    EXPECT_THROW(c.send(&v, sizeof v, 2, 0), Error);
    EXPECT_THROW(c.recv(&v, sizeof v, -3, 0), Error);
  });
}

TEST(ThreadGroup, RejectsAnEmptyGroup) { EXPECT_THROW(comm::ThreadGroup(0), Error); }

}  // namespace
}  // namespace roost
