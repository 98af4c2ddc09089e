// stale_shm.h — removing the shared-memory objects of setups that died half way.
// Internal to roost_comm (map_node_shared calls it before creating its object).
#pragma once

#include <string>

namespace roost::comm::detail {

// The name map_node_shared gives its object: "/roost-PID-SERIAL-NONCE".
std::string node_shared_name(long pid, int serial, unsigned nonce);

// Removes from `directory` (where shm_open keeps its objects: /dev/shm on Linux) every
// object map_node_shared named that this user owns, whose creator is gone and which is older
// than `min_age_s`.
// Such an object outlived its setup: rank 0 removes the name once every rank has mapped it,
// a matter of milliseconds after all ranks reached the setup, so one is left behind only
// when rank 0 died in between (killed by the launcher when another rank failed). The age
// keeps a live job's object safe where pids do not identify it (another pid namespace on a
// shared /dev/shm). A pid that was reused keeps its object; errors are ignored (the sweep
// is best effort). Returns how many objects it removed.
int remove_stale_node_shared(const std::string& directory, double min_age_s);

}  // namespace roost::comm::detail
