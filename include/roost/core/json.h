// roost/core/json.h — a tiny JSON object writer for metrics lines and summaries.
// Only what roost writes: flat objects of strings, numbers, booleans and raw JSON values.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace roost {

inline std::string json_escape(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

// One value rendered as JSON.
inline std::string json_value(const std::string& v) { return json_escape(v); }
inline std::string json_value(const char* v) { return json_escape(v); }
inline std::string json_value(bool v) { return v ? "true" : "false"; }
inline std::string json_value(int v) { return std::to_string(v); }
inline std::string json_value(int64_t v) { return std::to_string(v); }
inline std::string json_value(double v) {
  if (!std::isfinite(v)) return "null";  // JSON has no NaN/Inf
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

class JsonObject {
 public:
  template <typename T>
  JsonObject& add(const std::string& key, const T& v) {
    return raw(key, json_value(v));
  }
  // `json` must already be valid JSON (an object, array, number…).
  JsonObject& raw(const std::string& key, const std::string& json) {
    body_ += (body_.empty() ? "" : ", ") + json_escape(key) + ": " + json;
    return *this;
  }
  std::string str() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

}  // namespace roost
