// roost/io/h5.h — RAII for HDF5 identifiers and the few helpers every HDF5 file of roost
// uses (string attributes, error stack silenced so failures become roost::Error).
// Header-only so modules that write HDF5 need no extra library of their own.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "roost/core/error.h"

namespace roost::io {

// Owns one hid_t and closes it with the matching H5?close function.
class H5Id {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Id() = default;
  H5Id(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~H5Id() { reset(); }
  H5Id(H5Id&& o) noexcept : id_(std::exchange(o.id_, -1)), closer_(o.closer_) {}
  H5Id& operator=(H5Id&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, -1);
      closer_ = o.closer_;
    }
    return *this;
  }
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// The serial HDF5 library (Debian's libhdf5-dev) is not thread-safe and keeps process-wide
// state (identifier tables, metadata caches), so the lock that serialises calls into it has
// to be process-wide as well: one per process, shared by every file and every thread.
inline std::mutex& h5_library_mutex() {
  static std::mutex mutex;
  return mutex;
}

// HDF5 prints its error stack to stderr by default; roost reports errors itself.
inline void silence_h5_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

inline H5Id h5_check(hid_t id, H5Id::Closer closer, const std::string& what) {
  if (id < 0) ROOST_THROW("HDF5: ", what, " failed");
  return H5Id(id, closer);
}

inline void write_string_attr(hid_t obj, const std::string& name, const std::string& value) {
  H5Id type = h5_check(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy");
  H5Tset_size(type.get(), value.empty() ? 1 : value.size());
  H5Id space = h5_check(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate");
  H5Id attr = h5_check(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                       "create attribute " + name);
  if (H5Awrite(attr.get(), type.get(), value.c_str()) < 0) ROOST_THROW("HDF5: write attribute ", name);
}

inline void write_string_list_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values) {
  H5Id type = h5_check(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy");
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  hsize_t n = values.size();
  H5Id space = h5_check(H5Screate_simple(1, &n, nullptr), H5Sclose, "H5Screate_simple");
  H5Id attr = h5_check(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                       "create attribute " + name);
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  // An empty list has nothing to write, and H5Awrite refuses the null buffer of an empty vector.
  if (!ptrs.empty() && H5Awrite(attr.get(), type.get(), ptrs.data()) < 0) ROOST_THROW("HDF5: write attribute ", name);
}

// A scalar 64-bit integer attribute (h5py reads it as numpy.int64).
inline void write_int_attr(hid_t obj, const std::string& name, int64_t value) {
  H5Id space = h5_check(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate");
  H5Id attr = h5_check(H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                       "create attribute " + name);
  if (H5Awrite(attr.get(), H5T_NATIVE_INT64, &value) < 0) ROOST_THROW("HDF5: write attribute ", name);
}

inline bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

inline std::string read_string_attr(hid_t obj, const std::string& name) {
  H5Id attr = h5_check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  H5Id type = h5_check(H5Aget_type(attr.get()), H5Tclose, "attribute type");
  if (H5Tget_class(type.get()) != H5T_STRING) ROOST_THROW("HDF5: attribute ", name, " is not a string");
  if (H5Tis_variable_str(type.get()) > 0) {
    char* value = nullptr;
    H5Id mem = h5_check(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy");
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    if (H5Aread(attr.get(), mem.get(), &value) < 0) ROOST_THROW("HDF5: read attribute ", name);
    std::string out = value ? value : "";
    H5free_memory(value);
    return out;
  }
  size_t size = H5Tget_size(type.get());
  std::string out(size, '\0');
  if (H5Aread(attr.get(), type.get(), out.data()) < 0) ROOST_THROW("HDF5: read attribute ", name);
  out.resize(std::string(out.c_str()).size());
  return out;
}

// Any scalar integer attribute, converted by HDF5 to int64 (h5py may store int32 or int64).
inline int64_t read_int_attr(hid_t obj, const std::string& name) {
  H5Id attr = h5_check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  H5Id type = h5_check(H5Aget_type(attr.get()), H5Tclose, "attribute type");
  H5Id space = h5_check(H5Aget_space(attr.get()), H5Sclose, "attribute space");
  if (H5Tget_class(type.get()) != H5T_INTEGER || H5Sget_simple_extent_npoints(space.get()) != 1)
    ROOST_THROW("HDF5: attribute ", name, " is not one integer");
  int64_t value = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_INT64, &value) < 0) ROOST_THROW("HDF5: read attribute ", name);
  return value;
}

inline std::vector<std::string> read_string_list_attr(hid_t obj, const std::string& name) {
  H5Id attr = h5_check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  H5Id space = h5_check(H5Aget_space(attr.get()), H5Sclose, "attribute space");
  hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) ROOST_THROW("HDF5: attribute ", name, " has no extent");
  H5Id file_type = h5_check(H5Aget_type(attr.get()), H5Tclose, "attribute type");
  H5Id mem = h5_check(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy");
  H5Tset_size(mem.get(), H5T_VARIABLE);
  H5Tset_cset(mem.get(), H5Tget_cset(file_type.get()));  // no ASCII<->UTF-8 conversion exists
  std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
  if (n > 0 && H5Aread(attr.get(), mem.get(), ptrs.data()) < 0) ROOST_THROW("HDF5: read attribute ", name);
  std::vector<std::string> out;
  for (char* p : ptrs) {
    out.emplace_back(p ? p : "");
    H5free_memory(p);
  }
  return out;
}

}  // namespace roost::io
