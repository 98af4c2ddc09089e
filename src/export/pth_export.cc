// src/export/pth_export.cc — a roost weight file as a torch.save'd state dict (onnx.h), byte
// for byte what Python's torch.save(OrderedDict of tensors) writes (tools/roost_weights.py
// to-pth): the pickle is written here opcode by opcode as Python's pickler (protocol 2)
// writes it, and the zip container by libtorch's PyTorchStreamWriter, the class torch.save
// itself uses (records data.pkl, data/<key> in sorted key order, version; the folder inside
// the archive is named after the file, which is why the file is written under its own name in
// a temporary folder and then renamed into place).
#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>

#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/export/onnx.h"
#include "roost/model/state_dict.h"

namespace roost::exporting {

namespace {
// The subset of Python's pickle protocol 2 that a state dict of tensors needs, with the same
// memo numbering as Python's pickler (every memoized object gets the next index).
class Pickle {
 public:
  std::string bytes;

  void proto() { bytes += "\x80\x02"; }
  void stop() { bytes += '.'; }
  void mark() { bytes += '('; }
  void op(char c) { bytes += c; }

  // GLOBAL "module\nname\n", memoized the first time, BINGET after.
  void global(const std::string& module, const std::string& name) {
    const std::string key = "g:" + module + "." + name;
    if (get(key)) return;
    bytes += 'c' + module + '\n' + name + '\n';
    put(key);
  }
  // A str: BINUNICODE, memoized; `shared` strings (interned in Python: 'storage', 'cpu') are
  // fetched from the memo when seen again, others are new objects each time.
  void str(const std::string& s, bool shared = false) {
    if (shared && get("s:" + s)) return;
    bytes += 'X';
    u32(static_cast<uint32_t>(s.size()));
    bytes += s;
    put(shared ? "s:" + s : "");
  }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {
      bytes += 'K';
      bytes += static_cast<char>(v);
    } else if (v >= 0 && v < 65536) {
      bytes += 'M';
      bytes += static_cast<char>(v & 0xff);
      bytes += static_cast<char>(v >> 8);
    } else if (v >= -(int64_t{1} << 31) && v < (int64_t{1} << 31)) {
      bytes += 'J';
      u32(static_cast<uint32_t>(static_cast<int32_t>(v)));
    } else {
      ROOST_THROW("tensor dimension ", v, " too large for this writer");
    }
  }
  // A tuple of ints as Python's save_tuple writes it (protocol 2): EMPTY_TUPLE, TUPLE1-3, or
  // MARK ... TUPLE; non-empty tuples are memoized.
  void int_tuple(const std::vector<int64_t>& values) {
    if (values.empty()) {
      op(')');
      return;
    }
    if (values.size() > 3) mark();
    for (int64_t v : values) integer(v);
    static const char kTupleN[] = {0, '\x85', '\x86', '\x87'};
    op(values.size() > 3 ? 't' : kTupleN[values.size()]);
    put("");
  }
  void put(const std::string& key) {  // memoize the object just written
    const uint32_t index = next_++;
    if (!key.empty()) memo_[key] = index;
    if (index < 256) {
      bytes += 'q';
      bytes += static_cast<char>(index);
    } else {
      bytes += 'r';
      u32(index);
    }
  }

 private:
  bool get(const std::string& key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) return false;
    if (it->second < 256) {
      bytes += 'h';
      bytes += static_cast<char>(it->second);
    } else {
      bytes += 'j';
      u32(it->second);
    }
    return true;
  }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  std::map<std::string, uint32_t> memo_;
  uint32_t next_ = 0;
};

const char* storage_type(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "FloatStorage";
    case torch::kFloat64: return "DoubleStorage";
    case torch::kInt64: return "LongStorage";
    case torch::kInt32: return "IntStorage";
    default: ROOST_THROW("a weight of type ", c10::toString(t), " has no torch.save storage type here");
  }
}
}  // namespace

namespace {
// The pickle torch.save writes for an OrderedDict of these tensors; `storages` receives the
// tensors in the order of their storage keys "0", "1", ...
std::string state_dict_pickle(const model::NamedTensors& tensors, std::vector<torch::Tensor>* storages) {
  Pickle p;
  p.proto();
  p.global("collections", "OrderedDict");
  p.op(')');  // OrderedDict(): no arguments
  p.op('R');
  p.put("");
  if (tensors.size() > 1) p.mark();  // Python batches dict items by 1000; a state dict is one batch
  for (const auto& [name, tensor] : tensors) {
    const torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    p.str(name);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.mark();
    // The persistent id: ('storage', torch.<Type>Storage, key, 'cpu', numel).
    p.mark();
    p.str("storage", /*shared=*/true);
    p.global("torch", storage_type(t.scalar_type()));
    p.str(std::to_string(storages->size()));
    p.str("cpu", /*shared=*/true);
    p.integer(t.numel());
    p.op('t');
    p.put("");
    p.op('Q');     // BINPERSID
    p.integer(0);  // storage offset
    p.int_tuple(t.sizes().vec());
    p.int_tuple(t.strides().vec());
    p.op('\x89');                            // requires_grad: False
    p.global("collections", "OrderedDict");  // backward hooks: OrderedDict()
    p.op(')');
    p.op('R');
    p.put("");
    p.op('t');
    p.put("");
    p.op('R');
    p.put("");
    storages->push_back(t);
  }
  if (tensors.size() > 1) p.op('u');        // SETITEMS
  else if (tensors.size() == 1) p.op('s');  // SETITEM
  p.stop();
  return p.bytes;
}

// torch.save's zip container at `path`: data.pkl, then data/<key> in sorted (string) key
// order, then the version record (PyTorchStreamWriter writes it and names the folder).
void write_torch_zip(const std::string& path, const std::string& pickle, const std::vector<torch::Tensor>& storages) {
  caffe2::serialize::PyTorchStreamWriter writer(path);
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  std::vector<std::string> keys;
  for (size_t i = 0; i < storages.size(); ++i) keys.push_back(std::to_string(i));
  std::sort(keys.begin(), keys.end());
  for (const auto& key : keys) {
    const torch::Tensor& t = storages[std::stoul(key)];
    writer.writeRecord("data/" + key, t.data_ptr(), t.numel() * t.element_size());
  }
  writer.writeEndOfFile();
}
}  // namespace

void export_pth(const std::string& model_path, const std::string& out_path) {
  const model::WeightsFile w = model::read_model_file(model_path);
  std::vector<torch::Tensor> storages;
  const std::string pickle = state_dict_pickle(w.tensors, &storages);

  // Under its final name in a private folder, then renamed: the archive's folder name comes
  // from the file name, and the destination never holds a partial file.
  namespace fs = std::filesystem;
  const fs::path out(out_path);
  const fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  const fs::path staging = parent / (".roost-export-" + std::to_string(::getpid()));
  std::error_code ec;
  if (!fs::is_directory(parent, ec) || !fs::create_directories(staging, ec))
    ROOST_USAGE_ERROR("cannot write ", out_path, ": cannot create files in ", parent.string());
  const fs::path staged = staging / out.filename();
  try {
    write_torch_zip(staged.string(), pickle, storages);
    fsync_file(staged.string());
    fs::rename(staged, out, ec);
    if (ec) ROOST_USAGE_ERROR("cannot write ", out_path, ": ", ec.message());
  } catch (const c10::Error& e) {
    fs::remove_all(staging, ec);
    ROOST_USAGE_ERROR("cannot write ", out_path, ": ", e.what_without_backtrace());
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
  fs::remove_all(staging, ec);
}

}  // namespace roost::exporting
