// node_shared.cc — a POSIX shared-memory object mapped by every rank of a communicator.
#include "node_shared.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "roost/comm/mpi_scope.h"
#include "stale_shm.h"

namespace roost::comm::detail {
namespace {

constexpr const char* kShmDirectory = "/dev/shm";  // where glibc's shm_open keeps objects
constexpr double kStaleAfterSeconds = 60;

std::shared_ptr<void> map_fd(int fd, size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return nullptr;
  return std::shared_ptr<void>(p, [bytes](void* q) { munmap(q, bytes); });
}

}  // namespace

std::shared_ptr<void> map_node_shared(MPI_Comm comm, size_t bytes) {
  static std::atomic<int> serial{0};
  int rank = 0;
  MPI_CHECK(MPI_Comm_rank(comm, &rank));
  bytes = bytes ? bytes : 1;
  // The name travels from rank 0; empty means rank 0 could not create the object.
  std::array<char, 96> name{};
  std::shared_ptr<void> mapping;
  // Every rank is here before the object exists, so it lives milliseconds, not as long as
  // the slowest rank takes to arrive: only a death in that short window leaves it behind.
  MPI_CHECK(MPI_Barrier(comm));
  if (rank == 0) {
    remove_stale_node_shared(kShmDirectory, kStaleAfterSeconds);  // from such deaths before
    // The pid alone may repeat across containers that share /dev/shm.
    const std::string made =
        node_shared_name(static_cast<long>(getpid()), serial++, static_cast<unsigned>(std::random_device{}()));
    std::snprintf(name.data(), name.size(), "%s", made.c_str());
    const int fd = shm_open(name.data(), O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd >= 0) {
      if (posix_fallocate(fd, 0, static_cast<off_t>(bytes)) == 0) mapping = map_fd(fd, bytes);
      close(fd);
      if (!mapping) shm_unlink(name.data());
    }
    if (!mapping) name[0] = '\0';
  }
  MPI_CHECK(MPI_Bcast(name.data(), static_cast<int>(name.size()), MPI_CHAR, 0, comm));
  if (name[0] == '\0') return nullptr;
  if (rank != 0) {
    const int fd = shm_open(name.data(), O_RDWR, 0600);
    struct stat st {};
    if (fd >= 0 && fstat(fd, &st) == 0 && static_cast<size_t>(st.st_size) == bytes) mapping = map_fd(fd, bytes);
    if (fd >= 0) close(fd);
  }
  // Every rank must agree: a rank elsewhere (no such name there, or another object of the
  // same name and a different size) makes the memory unusable for all.
  int mine = mapping ? 1 : 0, all = 0;
  MPI_CHECK(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, comm));
  if (rank == 0) shm_unlink(name.data());  // every rank that could open it has
  return all ? mapping : nullptr;
}

MPI_Win allocate_node_windows(MPI_Comm comm, size_t bytes, std::vector<char*>& windows) {
  int size = 0;
  MPI_CHECK(MPI_Comm_size(comm, &size));
  MPI_Info info;
  MPI_CHECK(MPI_Info_create(&info));
  MPI_Info_set(info, "alloc_shared_noncontig", "true");
  char* base = nullptr;
  MPI_Win win = MPI_WIN_NULL;
  const int rc = MPI_Win_allocate_shared(static_cast<MPI_Aint>(bytes), 1, info, comm, &base, &win);
  MPI_Info_free(&info);
  MPI_CHECK(rc);
  MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
  windows.resize(size);
  for (int r = 0; r < size; ++r) {
    MPI_Aint got = 0;
    int disp = 0;
    void* p = nullptr;
    MPI_CHECK(MPI_Win_shared_query(win, r, &got, &disp, &p));
    windows[r] = static_cast<char*>(p);
  }
  MPI_CHECK(MPI_Win_lock_all(MPI_MODE_NOCHECK, win));
  return win;
}

}  // namespace roost::comm::detail
