// roost/train/json.h — a tiny JSON object writer for metrics lines and summaries.
// Only what roost writes: flat objects of strings, numbers, booleans and raw JSON values.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace roost::train {

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

class JsonObject {
 public:
  JsonObject& add(const std::string& key, const std::string& v) { return raw(key, json_escape(v)); }
  JsonObject& add(const std::string& key, const char* v) { return raw(key, json_escape(v)); }
  JsonObject& add(const std::string& key, bool v) { return raw(key, v ? "true" : "false"); }
  JsonObject& add(const std::string& key, int v) { return raw(key, std::to_string(v)); }
  JsonObject& add(const std::string& key, int64_t v) { return raw(key, std::to_string(v)); }
  JsonObject& add(const std::string& key, double v) {
    if (!std::isfinite(v)) return raw(key, "null");  // JSON has no NaN/Inf
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return raw(key, buf);
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

}  // namespace roost::train
