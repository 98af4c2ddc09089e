// roost/core/host_memory.h — how glibc's allocator keeps freed host memory.
//
// A training step allocates and frees the same large tensors every step (activations, the
// gradients autograd produces, fused allreduce buffers). glibc serves blocks above its mmap
// threshold (128 KiB at first, raised on the fly only as far as the largest block freed so
// far) straight from the kernel and gives them back when freed, and it returns the top of its
// heap to the kernel once more than its trim threshold is free there. Either way the next
// step faults every 4 KiB page in again: on the 2-core development machine, ResNet-18 at
// 64 px spent about a tenth of its time in page faults. roost fixes both thresholds at
// start-up, so blocks up to 32 MiB come from the heap and freed memory stays mapped for the
// next step (as a GPU caching allocator keeps device memory). Peak memory is unchanged; a
// process holds its peak until it exits.
#pragma once

#include <string>

namespace roost {

// Sets the thresholds (M_MMAP_THRESHOLD 32 MiB, M_TRIM_THRESHOLD 512 MiB) unless the user
// chose glibc malloc tunables (GLIBC_TUNABLES names glibc.malloc.*): those are kept. Returns
// true when it set them. Call it first thing in main, before large allocations.
bool keep_freed_host_memory();

// Whether a GLIBC_TUNABLES value names a malloc tunable (then roost leaves malloc alone).
bool user_tunes_malloc(const std::string& glibc_tunables);

}  // namespace roost
