// allreduce_bench.cc — how fast is roost's allreduce over MPI, next to MPI_Allreduce (and NCCL)?
//
// Run under mpirun, one process per rank:
//   mpirun -np 2 allreduce_bench [--iters N] [--warmup N] [--min-bytes B] [--max-bytes B]
//                                [--type float32|float64|float16|bfloat16] [--op sum|avg]
//                                [--segment-bytes B] [--piece-bytes B] [--hier-piece-bytes B]
//                                [--backends auto|LIST] [--json FILE]
// For each size from min to max bytes (×4 steps) and each backend —
//   ring  roost's ring over MPI point-to-point messages (RingMpiCommunicator, messages path),
//         the flat ring over all ranks;
//   shm   roost's shared-window allreduce (messages path off), only listed when every rank is
//         on one node; RingMpiCommunicator's default takes it there up to shm_max_bytes;
//   hier  roost's hierarchical allreduce (reduce in each node, exchange between node leaders,
//         broadcast in the node), listed when the ranks span several nodes, where
//         RingMpiCommunicator's default takes it if some node has more than one rank;
//   mpi   MPI_Allreduce (float32/float64 only);
//   nccl  NCCL on device buffers, when built with NCCL and a GPU is present —
// it restores the input, synchronizes the ranks, and times one in-place allreduce; the slowest
// rank's time counts, and the median over --iters runs is reported, nccl-tests style (n is
// every rank of the job for each backend, so busbw compares them at equal bytes):
// algbw = bytes / time, busbw = algbw · 2(n-1)/n (what each link carries, comparable across n).
// #wrong counts elements that differ from the known result: rank r's element i is
// (r + 1) + i mod 5, integers that every dtype holds and sums exactly.
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_args.h"
#include "roost/comm/float16.h"
#include "roost/comm/ring_mpi_communicator.h"
#include "roost/core/error.h"
#include "roost/core/gpu.h"
#include "roost/comm/mpi_scope.h"

#ifdef ROOST_WITH_NCCL
#include "roost/comm/nccl_communicator.h"
#include "roost/core/cuda_check.h"
#endif

namespace {

using roost::comm::DType;
using roost::comm::ReduceOp;

struct Options {
  int iters = 20, warmup = 3;
  size_t min_bytes = size_t(4) << 10, max_bytes = size_t(256) << 20;
  DType type = DType::kFloat32;
  ReduceOp op = ReduceOp::kSum;
  size_t segment_bytes = roost::comm::RingOptions{}.segment_bytes;
  size_t piece_bytes = roost::comm::RingMpiOptions{}.shm_piece_bytes;
  size_t hier_piece_bytes = roost::comm::RingMpiOptions{}.hier_piece_bytes;
  std::string backends = "auto";
  std::string json;
};

struct Row {
  size_t bytes = 0, count = 0;
  std::string backend;
  double time_us = 0, algbw = 0, busbw = 0;
  double best_us = 0;  // fastest iteration: steadier than the median on a shared machine
  size_t wrong = 0;
};

// A byte count with an optional binary unit: 4096, 64K, 256M, 1G (or KiB, MiB, GiB).
size_t parse_size(const cxxopts::ParseResult& r, const std::string& name) {
  const std::string s = r[name].as<std::string>();
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  const std::string unit = end;
  if (unit == "K" || unit == "KiB") v *= 1 << 10;
  else if (unit == "M" || unit == "MiB") v *= 1 << 20;
  else if (unit == "G" || unit == "GiB") v *= 1 << 30;
  else ROOST_USAGE_CHECK(unit.empty(), "--", name, ": bad size '", s, "' (use e.g. 4096, 64K, 256M)");
  ROOST_USAGE_CHECK(end != s.c_str() && v >= 0, "--", name, ": bad size '", s, "' (use e.g. 4096, 64K, 256M)");
  return static_cast<size_t>(v);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t comma = std::min(text.find(',', at), text.size());
    if (comma > at) out.push_back(text.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

// Whether `name` is benchmarked: listed, or under auto when it applies here.
bool wanted(const Options& o, const std::string& name, bool applies) {
  const std::vector<std::string> list = split_list(o.backends);
  if (std::find(list.begin(), list.end(), name) != list.end()) return true;
  return applies && std::find(list.begin(), list.end(), "auto") != list.end();
}

// Options from argv; empty after --help.
std::optional<Options> parse(int argc, char** argv) {
  Options o;
  cxxopts::Options spec("allreduce_bench",
                        "roost's allreduce over MPI next to MPI_Allreduce (and NCCL); run under mpirun");
  // clang-format off
  spec.add_options()
      ("iters", "timed runs per size and backend (median reported)", cxxopts::value<std::string>()->default_value("20"))
      ("warmup", "untimed runs first", cxxopts::value<std::string>()->default_value("3"))
      ("min-bytes", "smallest message (e.g. 4096, 64K, 256M)", cxxopts::value<std::string>()->default_value("4K"))
      ("max-bytes", "largest message (sizes grow x4)", cxxopts::value<std::string>()->default_value("256M"))
      ("type", "float32, float64, float16 or bfloat16", cxxopts::value<std::string>()->default_value("float32"))
      ("op", "sum or avg", cxxopts::value<std::string>()->default_value("sum"))
      ("segment-bytes", "the ring's segment size",
       cxxopts::value<std::string>()->default_value(std::to_string(o.segment_bytes)))
      ("piece-bytes", "the shared-window allreduce's piece size",
       cxxopts::value<std::string>()->default_value(std::to_string(o.piece_bytes)))
      ("hier-piece-bytes", "the hierarchical allreduce's piece size",
       cxxopts::value<std::string>()->default_value(std::to_string(o.hier_piece_bytes)))
      ("backends", "auto (those that apply to this placement) or a list of ring, shm, hier, mpi, nccl",
       cxxopts::value<std::string>()->default_value("auto"))
      ("json", "also write the rows as JSON to FILE (rank 0)", cxxopts::value<std::string>()->default_value(""));
  // clang-format on
  const auto r = roost::bench::parse_args(spec, argc, argv);
  if (!r) return std::nullopt;
  o.iters = std::max(1, roost::bench::get_int(*r, "iters"));
  o.warmup = std::max(0, roost::bench::get_int(*r, "warmup"));
  o.min_bytes = parse_size(*r, "min-bytes");
  o.max_bytes = parse_size(*r, "max-bytes");
  ROOST_USAGE_CHECK(o.min_bytes > 0, "--min-bytes must be at least 1 byte");
  o.segment_bytes = parse_size(*r, "segment-bytes");
  o.piece_bytes = parse_size(*r, "piece-bytes");
  o.hier_piece_bytes = parse_size(*r, "hier-piece-bytes");
  o.backends = (*r)["backends"].as<std::string>();
  for (const std::string& b : split_list(o.backends))
    ROOST_USAGE_CHECK(b == "auto" || b == "ring" || b == "shm" || b == "hier" || b == "mpi" || b == "nccl",
                      "--backends: unknown backend '", b, "' (auto, ring, shm, hier, mpi, nccl)");
  o.json = (*r)["json"].as<std::string>();
  const std::string op = (*r)["op"].as<std::string>();
  ROOST_USAGE_CHECK(op == "sum" || op == "avg", "--op is sum or avg");
  o.op = op == "sum" ? ReduceOp::kSum : ReduceOp::kAverage;
  const std::string type = (*r)["type"].as<std::string>();
  bool found = false;
  for (DType t : {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16})
    if (type == roost::comm::dtype_name(t)) o.type = t, found = true;
  ROOST_USAGE_CHECK(found, "--type is float32, float64, float16 or bfloat16");
  return o;
}

// Rank r's input: element i is (r + 1) + i mod 5.
void fill_input(DType type, int rank, size_t count, std::vector<char>& out) {
  out.resize(count * roost::comm::dtype_size(type));
  for (size_t i = 0; i < count; ++i) {
    const float v = static_cast<float>(rank + 1 + static_cast<int>(i % 5));
    char* p = out.data() + i * roost::comm::dtype_size(type);
    if (type == DType::kFloat32) std::memcpy(p, &v, 4);
    else if (type == DType::kFloat64) {
      const double d = v;
      std::memcpy(p, &d, 8);
    } else {
      const uint16_t h = type == DType::kFloat16 ? roost::comm::float_to_half(v) : roost::comm::float_to_bfloat16(v);
      std::memcpy(p, &h, 2);
    }
  }
}

double element(DType type, const std::vector<char>& buf, size_t i) {
  const char* p = buf.data() + i * roost::comm::dtype_size(type);
  if (type == DType::kFloat32) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  if (type == DType::kFloat64) {
    double d;
    std::memcpy(&d, p, 8);
    return d;
  }
  uint16_t h;
  std::memcpy(&h, p, 2);
  return type == DType::kFloat16 ? roost::comm::half_to_float(h) : roost::comm::bfloat16_to_float(h);
}

size_t count_wrong(DType type, ReduceOp op, int n, const std::vector<char>& result, size_t count) {
  const double tol = type == DType::kFloat64 ? 1e-12 : type == DType::kFloat32 ? 1e-6 : 1e-2;
  size_t wrong = 0;
  for (size_t i = 0; i < count; ++i) {
    double expected = n * (n + 1) / 2.0 + n * static_cast<double>(i % 5);
    if (op == ReduceOp::kAverage) expected /= n;
    const double got = element(type, result, i);
    if (!(std::fabs(got - expected) <= tol * expected)) ++wrong;
  }
  return wrong;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One backend under test: how to reset its buffer from the host input, run, and read back.
struct Backend {
  std::string name;
  roost::comm::Communicator* comm = nullptr;
  bool device = false;
};

#ifdef ROOST_WITH_NCCL
struct DeviceBuffer {
  void* ptr = nullptr;
  explicit DeviceBuffer(size_t bytes) { CUDA_CHECK(cudaMalloc(&ptr, std::max<size_t>(bytes, 1))); }
  ~DeviceBuffer() { cudaFree(ptr); }
};
#endif

// Times every backend at one size. Iterations alternate between the backends, so a burst of
// load from other processes on the machine hits them alike instead of skewing one of them.
std::vector<Row> measure(const std::vector<Backend>& backends, const Options& o, MPI_Comm world, size_t bytes,
                         const std::vector<char>& input) {
  const size_t count = bytes / roost::comm::dtype_size(o.type);
  const size_t nb = backends.size();
  std::vector<std::vector<char>> work(nb, std::vector<char>(input.size()));
  std::vector<void*> data(nb);
  std::vector<std::vector<double>> times(nb);
#ifdef ROOST_WITH_NCCL
  std::vector<std::unique_ptr<DeviceBuffer>> dev(nb);
#endif
  for (size_t k = 0; k < nb; ++k) {
    data[k] = work[k].data();
#ifdef ROOST_WITH_NCCL
    if (backends[k].device) dev[k] = std::make_unique<DeviceBuffer>(bytes), data[k] = dev[k]->ptr;
#endif
  }
  for (int it = 0; it < o.warmup + o.iters; ++it) {
    for (size_t k = 0; k < nb; ++k) {
      const Backend& b = backends[k];
      // Restoring the input is not timed; it also leaves the buffer out of cache, as gradients
      // fresh from backward would be.
#ifdef ROOST_WITH_NCCL
      if (b.device) CUDA_CHECK(cudaMemcpy(data[k], input.data(), bytes, cudaMemcpyHostToDevice));
#endif
      if (!b.device) std::memcpy(data[k], input.data(), bytes);
      MPI_CHECK(MPI_Barrier(world));
      const double t0 = MPI_Wtime();
      b.comm->allreduce(data[k], count, o.type, o.op);
#ifdef ROOST_WITH_NCCL
      if (b.device) static_cast<roost::comm::NcclCommunicator*>(b.comm)->synchronize();
#endif
      double elapsed = MPI_Wtime() - t0, slowest = 0;
      MPI_CHECK(MPI_Allreduce(&elapsed, &slowest, 1, MPI_DOUBLE, MPI_MAX, world));
      if (it >= o.warmup) times[k].push_back(slowest);
    }
  }
  std::vector<Row> rows;
  for (size_t k = 0; k < nb; ++k) {
#ifdef ROOST_WITH_NCCL
    if (backends[k].device) CUDA_CHECK(cudaMemcpy(work[k].data(), data[k], bytes, cudaMemcpyDeviceToHost));
#endif
    const int n = backends[k].comm->size();
    unsigned long wrong = count_wrong(o.type, o.op, n, work[k], count), total = 0;
    MPI_CHECK(MPI_Allreduce(&wrong, &total, 1, MPI_UNSIGNED_LONG, MPI_SUM, world));
    Row row;
    row.bytes = bytes;
    row.count = count;
    row.backend = backends[k].name;
    const double t = median(times[k]);
    row.time_us = t * 1e6;
    row.best_us = *std::min_element(times[k].begin(), times[k].end()) * 1e6;
    row.algbw = bytes / t / 1e9;
    row.busbw = row.algbw * 2.0 * (n - 1) / n;
    row.wrong = total;
    rows.push_back(row);
  }
  return rows;
}

// Whether every rank shares this node (the shared-window path needs it).
bool one_node(MPI_Comm world) {
  MPI_Comm node = MPI_COMM_NULL;
  MPI_CHECK(MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  int node_size = 0, size = 0, mine = 0, all = 0;
  MPI_Comm_size(node, &node_size);
  MPI_Comm_size(world, &size);
  MPI_Comm_free(&node);
  mine = node_size == size;
  MPI_CHECK(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, world));
  return all == 1;
}

// Each rank copying 64 MiB at the same time: the ceiling any shared-memory transport works under.
double memcpy_gbps(MPI_Comm world) {
  const size_t bytes = size_t(64) << 20;
  std::vector<char> a(bytes, 1), b(bytes, 2);
  std::vector<double> times;
  for (int i = 0; i < 5; ++i) {
    MPI_CHECK(MPI_Barrier(world));
    const double t0 = MPI_Wtime();
    std::memcpy(b.data(), a.data(), bytes);
    times.push_back(MPI_Wtime() - t0);
  }
  return bytes / median(times) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::optional<Options> parsed = parse(argc, argv);
    if (!parsed) return 0;
    const Options& o = *parsed;
    roost::MpiScope mpi(&argc, &argv);
    const MPI_Comm world = mpi.comm();
    const bool root = mpi.rank() == 0;

    using Path = roost::comm::RingMpiOptions::Path;
    roost::comm::RingMpiOptions ring_options;
    ring_options.ring.segment_bytes = o.segment_bytes;
    ring_options.shm_piece_bytes = o.piece_bytes;
    ring_options.path = Path::kMessages;
    roost::comm::RingMpiCommunicator ring(world, ring_options);
    ring_options.path = Path::kSharedMemory;
    roost::comm::RingMpiCommunicator shm(world, ring_options);
    ring_options.path = Path::kHierarchical;
    ring_options.hier_piece_bytes = o.hier_piece_bytes;
    roost::comm::RingMpiCommunicator hier(world, ring_options);
    roost::comm::MpiCommunicator plain(world);
    std::vector<Backend> backends;
    const bool single_node = one_node(world);
    if (wanted(o, "ring", true)) backends.push_back({"ring", &ring, false});
    if (wanted(o, "shm", single_node)) backends.push_back({"shm", &shm, false});
    if (wanted(o, "hier", !single_node)) backends.push_back({"hier", &hier, false});
    const bool mpi_has_type = o.type == DType::kFloat32 || o.type == DType::kFloat64;
    if (mpi_has_type && wanted(o, "mpi", true)) backends.push_back({"mpi", &plain, false});
    std::unique_ptr<roost::comm::Communicator> nccl;
#ifdef ROOST_WITH_NCCL
    // One GPU per rank on this node, or NCCL refuses the communicator.
    if (roost::cuda_device_count() >= mpi.local_size() && wanted(o, "nccl", true)) {
      const roost::DeviceChoice d = roost::choose_device(mpi.local_rank());
      nccl = std::make_unique<roost::comm::NcclCommunicator>(world, d.device);
      backends.push_back({"nccl", nccl.get(), true});
    }
#endif
    const double copy = memcpy_gbps(world);
    if (root) {
      std::printf(
          "# roost allreduce_bench: %d ranks, %s %s, %d iterations (median, slowest rank), "
          "%d warm-up; ring: roost's ring over MPI messages, segment %zu bytes; shm: "
          "roost's shared-window allreduce, piece %zu bytes; hier: roost's hierarchical allreduce, "
          "piece %zu bytes; mpi: MPI_Allreduce\n"
          "# RingMpiCommunicator by default takes shm up to %zu bytes on one node, ring "
          "above; on several nodes hier when some node has more than one rank, else ring\n",
          mpi.size(), roost::comm::dtype_name(o.type), roost::comm::reduce_op_name(o.op), o.iters, o.warmup,
          o.segment_bytes, o.piece_bytes, o.hier_piece_bytes, roost::comm::RingMpiOptions{}.shm_max_bytes);
      std::printf("# memcpy of 64 MiB on every rank at once: %.2f GB/s per rank%s%s\n", copy,
                  mpi_has_type ? "" : "; MPI has no 16-bit float type: no mpi rows",
                  nccl ? "" : "; nccl: not built or no GPU");
      std::printf("%12s %12s %9s %6s %8s %12s %10s %10s %7s\n", "size(B)", "count", "type", "redop", "backend",
                  "time(us)", "algbw", "busbw", "#wrong");
    }
    std::vector<Row> rows;
    for (size_t bytes = o.min_bytes; bytes <= o.max_bytes; bytes *= 4) {
      const size_t count = bytes / roost::comm::dtype_size(o.type);
      std::vector<char> input;
      fill_input(o.type, mpi.rank(), count, input);
      for (const Row& r : measure(backends, o, world, count * roost::comm::dtype_size(o.type), input)) {
        if (root)
          std::printf("%12zu %12zu %9s %6s %8s %12.1f %10.2f %10.2f %7zu\n", r.bytes, r.count,
                      roost::comm::dtype_name(o.type), roost::comm::reduce_op_name(o.op), r.backend.c_str(), r.time_us,
                      r.algbw, r.busbw, r.wrong);
        std::fflush(stdout);
        rows.push_back(r);
      }
    }
    if (root && !o.json.empty()) {
      std::FILE* f = std::fopen(o.json.c_str(), "w");
      ROOST_CHECK(f, "cannot write ", o.json);
      std::fprintf(f, "[\n");
      for (size_t i = 0; i < rows.size(); ++i) {
        const Row& r = rows[i];
        std::fprintf(f,
                     "  {\"size\": %zu, \"count\": %zu, \"type\": \"%s\", \"redop\": \"%s\", "
                     "\"backend\": \"%s\", \"ranks\": %d, \"time_us\": %.3f, \"best_us\": %.3f, "
                     "\"algbw\": %.4f, \"busbw\": %.4f, \"wrong\": %zu, \"memcpy_gbps\": %.3f}%s\n",
                     r.bytes, r.count, roost::comm::dtype_name(o.type), roost::comm::reduce_op_name(o.op),
                     r.backend.c_str(), mpi.size(), r.time_us, r.best_us, r.algbw, r.busbw, r.wrong, copy,
                     i + 1 < rows.size() ? "," : "");
      }
      std::fprintf(f, "]\n");
      std::fclose(f);
    }
    return 0;
  } catch (const std::exception& e) {
    return roost::bench::report_error("allreduce_bench", e);
  }
}
