// src/serve/base64.h — decoding the base64 strings of BYTES inputs (RFC 4648, padding optional,
// no whitespace). The JSON form of the Open Inference Protocol has no raw bytes.
#pragma once

#include <string>

namespace roost::serve {

// false when `text` is not base64.
bool base64_decode(const std::string& text, std::string* out);

}  // namespace roost::serve
