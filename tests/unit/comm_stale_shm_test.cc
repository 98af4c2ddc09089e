// comm_stale_shm_test.cc — removing the shared-memory objects that a setup which died half
// way left behind (remove_stale_node_shared), on real files and real POSIX shm objects.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>

#include "../../src/comm/stale_shm.h"
#include "dead_pid.h"

namespace roost::comm::detail {
namespace {

using roost::testing::dead_pid;

void make_file(const std::string& path, time_t mtime) {
  std::ofstream(path) << "x";
  const timespec times[2] = {{mtime, 0}, {mtime, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

bool exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

class StaleShm : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/roost-stale-shm-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    dead_ = dead_pid();
    ASSERT_GT(dead_, 1) << "no free pid";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string at(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
  long dead_ = -1;
};

TEST_F(StaleShm, RemovesOnlyOldObjectsOfDeadCreators) {
  const time_t hour_ago = std::time(nullptr) - 3600;
  const std::string stale = node_shared_name(dead_, 3, 0xdeadbeefu).substr(1);
  const std::string recent = node_shared_name(dead_, 4, 0x1u).substr(1);
  const std::string live = node_shared_name(static_cast<long>(getpid()), 0, 0x2u).substr(1);
  const std::string suffixed = stale + ".bak";
  const std::string other = "other-" + std::to_string(dead_) + "-0-00000003";
  make_file(at(stale), hour_ago);
  make_file(at(recent), std::time(nullptr));
  make_file(at(live), hour_ago);
  make_file(at(suffixed), hour_ago);
  make_file(at(other), hour_ago);
  const std::string as_dir = node_shared_name(dead_, 5, 0x4u).substr(1);
  ASSERT_EQ(mkdir(at(as_dir).c_str(), 0700), 0);

  EXPECT_EQ(remove_stale_node_shared(dir_, 60), 1);
  EXPECT_FALSE(exists(at(stale))) << "old, and its creator is gone";
  EXPECT_TRUE(exists(at(recent))) << "young enough to belong to a setup under way";
  EXPECT_TRUE(exists(at(live))) << "its creator is alive";
  EXPECT_TRUE(exists(at(suffixed))) << "not a name map_node_shared makes";
  EXPECT_TRUE(exists(at(other))) << "not ours";
  EXPECT_TRUE(exists(at(as_dir))) << "not an object";

  EXPECT_EQ(remove_stale_node_shared(dir_, 0), 1) << "at age 0 the recent one goes too";
  EXPECT_FALSE(exists(at(recent)));
  EXPECT_TRUE(exists(at(live)));
}

TEST_F(StaleShm, AMissingDirectoryRemovesNothing) { EXPECT_EQ(remove_stale_node_shared(dir_ + "/none", 0), 0); }

TEST_F(StaleShm, RemovesARealSharedMemoryObject) {
  struct stat shm {};
  if (stat("/dev/shm", &shm) != 0) GTEST_SKIP() << "no /dev/shm on this system";
  const std::string name = node_shared_name(dead_, 0, 0x5eed5eedu);
  const int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0) << "shm_open " << name;
  ASSERT_EQ(ftruncate(fd, 4096), 0);
  const time_t old = std::time(nullptr) - 3600;
  const timespec times[2] = {{old, 0}, {old, 0}};
  ASSERT_EQ(futimens(fd, times), 0);
  close(fd);

  EXPECT_GE(remove_stale_node_shared("/dev/shm", 60), 1);
  errno = 0;
  const int again = shm_open(name.c_str(), O_RDWR, 0600);
  EXPECT_LT(again, 0) << "the object is still there";
  EXPECT_EQ(errno, ENOENT);
  if (again >= 0) {
    close(again);
    shm_unlink(name.c_str());
  }
}

}  // namespace
}  // namespace roost::comm::detail
