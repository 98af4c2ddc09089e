// roost/model/pth_reader.cc — reads torch.save'd state dicts (zip format) without Python.
//
// libtorch's own unpickler turns collections.OrderedDict into None (it only expects it as
// a tensor's empty backward-hook dict), and a state dict *is* an OrderedDict. So roost
// interprets the pickle itself: the small subset of protocol 2 that torch.save writes for
// a dict of tensors (globals, tuples, dicts, persistent storage ids, _rebuild_tensor_v2),
// and reads each storage record from the archive with libtorch's zip reader, straight into
// the memory the tensor keeps (peak memory about one file size, not two).
//
// The file is untrusted input (a download, a user's path), so every opcode checks what it
// takes from the stack, the memo and the archive, and a bad file ends in roost::Error.
#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <variant>

#include "roost/core/error.h"
#include "roost/model/pretrained.h"

namespace roost::model {

namespace {

struct Value;
// Values live in the unpickler's arena (see Unpickler::values_): a pickle may build cycles
// (a list appended to itself through the memo) that shared ownership would never free.
using ValuePtr = Value*;
struct Storage {
  std::string key;
  torch::ScalarType type;
};
struct Global {
  std::string name;  // "module.attribute"
};
struct Mark {};
using Items = std::vector<ValuePtr>;
using Pairs = std::vector<std::pair<ValuePtr, ValuePtr>>;
struct Value {
  std::variant<std::monostate, int64_t, double, bool, std::string, Items, Pairs, Global, Storage, torch::Tensor, Mark>
      v;
};

torch::ScalarType storage_type(const std::string& name) {
  static const std::map<std::string, torch::ScalarType> types = {
      {"torch.FloatStorage", torch::kFloat32}, {"torch.DoubleStorage", torch::kFloat64},
      {"torch.HalfStorage", torch::kFloat16},  {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kInt64},    {"torch.IntStorage", torch::kInt32},
      {"torch.ShortStorage", torch::kInt16},   {"torch.CharStorage", torch::kInt8},
      {"torch.ByteStorage", torch::kUInt8},    {"torch.BoolStorage", torch::kBool}};
  auto it = types.find(name);
  if (it == types.end()) ROOST_USAGE_ERROR("unsupported storage type ", name);
  return it->second;
}

class Unpickler {
 public:
  Unpickler(const char* data, size_t size, caffe2::serialize::PyTorchStreamReader& zip)
      : p_(data), end_(data + size), zip_(zip) {}

  // The result points into this unpickler, which must outlive its use.
  ValuePtr run() {
    while (true) {
      uint8_t op = byte();
      switch (op) {
        case 0x80: byte(); break;                                   // PROTO
        case '.': return pop();                                     // STOP
        case '(': stack_.push_back(make(Mark{})); break;            // MARK
        case ')': stack_.push_back(make(Items{})); break;           // EMPTY_TUPLE
        case ']': stack_.push_back(make(Items{})); break;           // EMPTY_LIST
        case '}': stack_.push_back(make(Pairs{})); break;           // EMPTY_DICT
        case 'N': stack_.push_back(make(std::monostate{})); break;  // NONE
        case 0x88: stack_.push_back(make(true)); break;             // NEWTRUE
        case 0x89: stack_.push_back(make(false)); break;            // NEWFALSE
        case 'K': stack_.push_back(make(int64_t{byte()})); break;   // BININT1
        case 'M': stack_.push_back(make(int64_t{le<uint16_t>()})); break;
        case 'J': stack_.push_back(make(int64_t{le<int32_t>()})); break;
        case 0x8a: stack_.push_back(make(long1())); break;             // LONG1
        case 'G': stack_.push_back(make(binfloat())); break;           // BINFLOAT
        case 'X': stack_.push_back(make(str(le<uint32_t>()))); break;  // BINUNICODE
        case 0x8c: stack_.push_back(make(str(byte()))); break;         // SHORT_BINUNICODE
        case 'c': stack_.push_back(make(global())); break;             // GLOBAL
        case 'q': memo_[byte()] = top(); break;                        // BINPUT
        case 'r': memo_[le<uint32_t>()] = top(); break;                // LONG_BINPUT
        case 'h': stack_.push_back(memo(byte())); break;               // BINGET
        case 'j': stack_.push_back(memo(le<uint32_t>())); break;
        case 't': stack_.push_back(make(pop_to_mark())); break;  // TUPLE
        case 0x85: tuple_of(1); break;                           // TUPLE1
        case 0x86: tuple_of(2); break;                           // TUPLE2
        case 0x87: tuple_of(3); break;                           // TUPLE3
        case 'a': append(); break;                               // APPEND
        case 'e': appends(); break;                              // APPENDS
        case 's': setitem(); break;                              // SETITEM
        case 'u': setitems(); break;                             // SETITEMS
        case 'b': pop(); break;                                  // BUILD: drop the state (_metadata)
        case 'Q': stack_.push_back(persistent(pop())); break;    // BINPERSID
        case 'R': reduce_top(); break;                           // REDUCE
        default: ROOST_THROW("unsupported pickle opcode 0x", std::hex, static_cast<int>(op));
      }
    }
  }

 private:
  // The opcodes that take more than one line, each a named step.
  int64_t long1() {
    uint8_t n = byte();
    if (n > 8) ROOST_THROW("pickle: integer of ", static_cast<int>(n), " bytes is too large");
    uint64_t bits = 0;  // unsigned: shifting a byte into bit 63 of a signed value is undefined
    for (uint8_t i = 0; i < n; ++i) bits |= static_cast<uint64_t>(byte()) << (8 * i);
    if (n > 0 && n < 8 && (bits >> (8 * n - 1)) & 1) bits |= ~uint64_t{0} << (8 * n);  // sign
    return static_cast<int64_t>(bits);
  }
  double binfloat() {  // big endian
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | byte();
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  Global global() {
    std::string module = line(), name = line();
    return Global{module + "." + name};
  }
  void tuple_of(int n) {
    Items items(static_cast<size_t>(n));
    for (int i = n - 1; i >= 0; --i) items[static_cast<size_t>(i)] = pop();
    stack_.push_back(make(std::move(items)));
  }
  void append() {
    auto v = pop();
    list(top()).push_back(v);
  }
  void appends() {
    auto items = pop_to_mark();
    auto& l = list(top());
    l.insert(l.end(), items.begin(), items.end());
  }
  void setitem() {
    auto v = pop(), k = pop();
    dict(top()).emplace_back(k, v);
  }
  void setitems() {
    Items kv = pop_to_mark();
    ROOST_CHECK(kv.size() % 2 == 0, "odd SETITEMS");
    for (size_t i = 0; i < kv.size(); i += 2) dict(top()).emplace_back(kv[i], kv[i + 1]);
  }
  void reduce_top() {
    auto args = pop(), fn = pop();
    stack_.push_back(reduce(fn, args));
  }

  uint8_t byte() {
    if (p_ >= end_) ROOST_THROW("pickle ends early");
    return static_cast<uint8_t>(*p_++);
  }
  template <typename T>
  T le() {
    T v{};
    for (size_t i = 0; i < sizeof(T); ++i) {
      using U = std::make_unsigned_t<T>;
      v = static_cast<T>(static_cast<U>(v) | (static_cast<U>(byte()) << (8 * i)));
    }
    return v;
  }
  std::string str(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) ROOST_THROW("pickle ends early");
    std::string s(p_, n);
    p_ += n;
    return s;
  }
  std::string line() {
    std::string s;
    for (char c = static_cast<char>(byte()); c != '\n'; c = static_cast<char>(byte())) s += c;
    return s;
  }
  ValuePtr pop() {
    if (stack_.empty()) ROOST_THROW("pickle stack underflow");
    auto v = stack_.back();
    stack_.pop_back();
    return v;
  }
  ValuePtr top() {
    if (stack_.empty()) ROOST_THROW("pickle stack underflow");
    return stack_.back();
  }
  ValuePtr memo(uint32_t key) const {
    auto it = memo_.find(key);
    if (it == memo_.end()) ROOST_THROW("pickle: memo entry ", key, " was never stored");
    return it->second;
  }
  ValuePtr make(decltype(Value::v) v) {
    values_.push_back(Value{std::move(v)});
    return &values_.back();
  }
  Items pop_to_mark() {
    Items items;
    while (true) {
      auto v = pop();
      if (std::holds_alternative<Mark>(v->v)) break;
      items.insert(items.begin(), v);
    }
    return items;
  }
  Items& list(const ValuePtr& v) {
    if (auto* l = std::get_if<Items>(&v->v)) return *l;
    ROOST_THROW("pickle: APPEND to a non-list");
  }
  Pairs& dict(const ValuePtr& v) {
    if (auto* d = std::get_if<Pairs>(&v->v)) return *d;
    ROOST_THROW("pickle: SETITEM on a non-dict");
  }
  static const Items& items(const ValuePtr& v) {
    if (auto* l = std::get_if<Items>(&v->v)) return *l;
    ROOST_THROW("pickle: expected a tuple");
  }
  static int64_t integer(const ValuePtr& v) {
    if (auto* i = std::get_if<int64_t>(&v->v)) return *i;
    ROOST_THROW("pickle: expected an integer");
  }

  ValuePtr persistent(const ValuePtr& pid) {
    const Items& t = items(pid);  // ('storage', torch.FloatStorage, key, location, numel)
    ROOST_CHECK(t.size() >= 3, "bad persistent id");
    auto* g = std::get_if<Global>(&t[1]->v);
    auto* key = std::get_if<std::string>(&t[2]->v);
    ROOST_CHECK(g && key, "bad persistent id");
    return make(Storage{*key, storage_type(g->name)});
  }

  ValuePtr reduce(const ValuePtr& fn, const ValuePtr& args) {
    auto* g = std::get_if<Global>(&fn->v);
    if (!g) ROOST_THROW("pickle: REDUCE of a non-global");
    if (g->name == "collections.OrderedDict") return make(Pairs{});
    if (g->name == "torch._utils._rebuild_tensor_v2") return make(rebuild(items(args)));
    if (g->name == "torch._utils._rebuild_parameter") {
      const Items& a = items(args);
      ROOST_CHECK(!a.empty(), "bad _rebuild_parameter arguments");
      return a[0];
    }
    ROOST_USAGE_ERROR("unsupported object ", g->name, " in the state dict");
  }

  torch::Tensor rebuild(const Items& a) {
    ROOST_CHECK(a.size() >= 4, "bad _rebuild_tensor_v2 arguments");
    auto* s = std::get_if<Storage>(&a[0]->v);
    ROOST_CHECK(s, "tensor without storage");
    std::vector<int64_t> size, stride;
    for (auto& v : items(a[2])) size.push_back(integer(v));
    for (auto& v : items(a[3])) stride.push_back(integer(v));
    torch::Tensor storage = load_storage(*s);
    const int64_t offset = integer(a[1]);
    torch::Tensor view = storage.as_strided(size, stride, offset);  // throws when out of bounds
    // A state dict's tensor normally is its whole storage: keep that memory as it is (one
    // copy of the file's bytes in all). Only a part of a larger storage, or a strided view,
    // is copied out, so the result never holds on to bytes it does not show.
    if (offset == 0 && view.is_contiguous() && view.numel() == storage.numel()) return view;
    return view.clone();
  }

  torch::Tensor load_storage(const Storage& s) {
    auto it = storages_.find(s.key);
    if (it != storages_.end()) return it->second;
    auto [data, bytes] = zip_.getRecord("data/" + s.key);
    const size_t elem = c10::elementSize(s.type);
    if (bytes % elem != 0) ROOST_THROW("storage ", s.key, " has ", bytes, " bytes, not a whole number of elements");
    // The buffer getRecord allocated (with the CPU allocator, so aligned as any tensor's)
    // becomes the tensor's storage: the bytes are not copied again.
    c10::Storage storage(c10::Storage::use_byte_size_t(), bytes, std::move(data), /*allocator=*/nullptr,
                         /*resizable=*/false);
    torch::Tensor t = torch::empty({0}, torch::TensorOptions().dtype(s.type))
                          .set_(storage, 0, {static_cast<int64_t>(bytes / elem)}, {1});
    storages_.emplace(s.key, t);
    return t;
  }

  const char* p_;
  const char* end_;
  caffe2::serialize::PyTorchStreamReader& zip_;
  std::vector<ValuePtr> stack_;
  std::map<uint32_t, ValuePtr> memo_;
  std::map<std::string, torch::Tensor> storages_;
  std::deque<Value> values_;  // every value made; a deque never moves them
};

}  // namespace

NamedTensors read_pth_state_dict(const std::string& path) {
  caffe2::serialize::PyTorchStreamReader zip(path);
  auto [data, size] = zip.getRecord("data.pkl");
  Unpickler unpickler(static_cast<const char*>(data.get()), size, zip);
  ValuePtr root = unpickler.run();
  auto* dict = std::get_if<Pairs>(&root->v);
  if (!dict) ROOST_USAGE_ERROR(path, " does not hold a state dict (a dict of tensors)");
  NamedTensors out;
  for (auto& [k, v] : *dict) {
    auto* key = std::get_if<std::string>(&k->v);
    auto* tensor = std::get_if<torch::Tensor>(&v->v);
    if (!key || !tensor) ROOST_USAGE_ERROR(path, " holds a non-tensor entry; expected a state dict");
    out.emplace_back(*key, *tensor);
  }
  return out;
}

}  // namespace roost::model
