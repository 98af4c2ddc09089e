// space.cc — parsing `--param NAME=SPACE` and mapping draws onto a dimension's values.
#include "roost/sweep/space.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "roost/core/error.h"

namespace roost::sweep {

namespace {
std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<std::string> split_args(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == ',') {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  return out;
}

bool parse_number(const std::string& word, double& out) {
  if (word.empty()) return false;
  char* end = nullptr;
  out = std::strtod(word.c_str(), &end);
  return end == word.c_str() + word.size() && std::isfinite(out);
}

double number_arg(const std::string& text, const std::string& word) {
  double v = 0;
  if (!parse_number(word, v)) ROOST_USAGE_ERROR("--param ", text, ": '", word, "' is not a number");
  return v;
}

void check_name(const std::string& text, const std::string& name) {
  bool ok = !name.empty() && std::isalpha(static_cast<unsigned char>(name[0]));
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-');
  if (!ok)
    ROOST_USAGE_ERROR("--param ", text, ": '", name,
                      "' is not an option name (write NAME=SPACE, e.g. lr=loguniform(1e-4,1e-1))");
  for (const char* owned : {"output-dir", "resume", "overwrite", "help"})
    if (name == owned) ROOST_USAGE_ERROR("--param ", text, ": --", name, " is set by roost sweep, not searched");
}

struct Call {
  std::string fn;
  std::vector<std::string> args;
};

Call parse_call(const std::string& text, const std::string& space) {
  const size_t open = space.find('(');
  if (open == std::string::npos || space.back() != ')')
    ROOST_USAGE_ERROR(
        "--param ", text,
        ": SPACE must be choice(...), uniform(lo,hi), loguniform(lo,hi), quniform(lo,hi,q) or randint(lo,hi)");
  return {trim(space.substr(0, open)), split_args(space.substr(open + 1, space.size() - open - 2))};
}

void set_range(Dimension& d, const std::string& text, const Call& c, size_t arity) {
  if (c.args.size() != arity)
    ROOST_USAGE_ERROR("--param ", text, ": ", c.fn, " takes ", arity, " numbers, got ", c.args.size());
  d.lo = number_arg(text, c.args[0]);
  d.hi = number_arg(text, c.args[1]);
  if (arity == 3) d.q = number_arg(text, c.args[2]);
  if (!(d.lo < d.hi)) ROOST_USAGE_ERROR("--param ", text, ": the low end must be below the high end");
}
}  // namespace

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

Dimension parse_dimension(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos) ROOST_USAGE_ERROR("--param ", text, ": write NAME=SPACE, e.g. lr=loguniform(1e-4,1e-1)");
  Dimension d;
  d.name = trim(text.substr(0, eq));
  if (d.name.rfind("--", 0) == 0) d.name = d.name.substr(2);
  check_name(text, d.name);
  d.spec = trim(text.substr(eq + 1));
  const Call c = parse_call(text, d.spec);
  if (c.fn == "choice") {
    d.kind = SpaceKind::kChoice;
    d.choices = c.args;
    if (std::any_of(d.choices.begin(), d.choices.end(), [](const std::string& w) { return w.empty(); }))
      ROOST_USAGE_ERROR("--param ", text, ": choice() has an empty entry");
    if (std::set<std::string>(d.choices.begin(), d.choices.end()).size() != d.choices.size())
      ROOST_USAGE_ERROR("--param ", text, ": choice() lists a value twice");
  } else if (c.fn == "uniform") {
    d.kind = SpaceKind::kUniform;
    set_range(d, text, c, 2);
  } else if (c.fn == "loguniform") {
    d.kind = SpaceKind::kLogUniform;
    set_range(d, text, c, 2);
    if (d.lo <= 0) ROOST_USAGE_ERROR("--param ", text, ": loguniform needs 0 < lo");
  } else if (c.fn == "quniform") {
    d.kind = SpaceKind::kQUniform;
    set_range(d, text, c, 3);
    if (!(d.q > 0) || d.q > d.hi - d.lo) ROOST_USAGE_ERROR("--param ", text, ": quniform needs 0 < q <= hi - lo");
  } else if (c.fn == "randint") {
    d.kind = SpaceKind::kRandInt;
    set_range(d, text, c, 2);
    if (d.lo != std::floor(d.lo) || d.hi != std::floor(d.hi))
      ROOST_USAGE_ERROR("--param ", text, ": randint takes integers");
  } else {
    ROOST_USAGE_ERROR("--param ", text, ": unknown space '", c.fn,
                      "' (choice, uniform, loguniform, quniform, randint)");
  }
  return d;
}

std::vector<Dimension> parse_space(const std::vector<std::string>& texts) {
  if (texts.empty()) ROOST_USAGE_ERROR("no --param: give at least one, e.g. --param lr=loguniform(1e-4,1e-1)");
  std::vector<Dimension> out;
  std::set<std::string> seen;
  for (const auto& t : texts) {
    out.push_back(parse_dimension(t));
    if (!seen.insert(out.back().name).second) ROOST_USAGE_ERROR("--param ", out.back().name, " is given twice");
  }
  return out;
}

bool is_log(const Dimension& d) { return d.kind == SpaceKind::kLogUniform; }

Value value_of_number(const Dimension& d, double x) {
  switch (d.kind) {
    case SpaceKind::kChoice: {
      const int n = static_cast<int>(d.choices.size());
      const int i = std::clamp(static_cast<int>(std::lround(x)), 0, n - 1);
      double v = 0;
      return {d.choices[i], parse_number(d.choices[i], v) ? v : double(i)};
    }
    case SpaceKind::kQUniform: x = std::clamp(std::round(x / d.q) * d.q, d.lo, d.hi); break;
    case SpaceKind::kRandInt: x = std::clamp(std::round(x), d.lo, d.hi); break;
    default: x = std::clamp(x, d.lo, d.hi); break;
  }
  const std::string word = format_number(x);
  return {word, std::strtod(word.c_str(), nullptr)};
}

Value value_of_word(const Dimension& d, const std::string& word) {
  if (d.kind == SpaceKind::kChoice) {
    for (size_t i = 0; i < d.choices.size(); ++i)
      if (d.choices[i] == word) return value_of_number(d, double(i));
  }
  return {word, std::strtod(word.c_str(), nullptr)};
}

Value value_at(const Dimension& d, double u) {
  u = std::clamp(u, 0.0, std::nextafter(1.0, 0.0));
  switch (d.kind) {
    case SpaceKind::kChoice: return value_of_number(d, std::floor(u * d.choices.size()));
    case SpaceKind::kLogUniform:
      return value_of_number(d, std::exp(std::log(d.lo) + u * (std::log(d.hi) - std::log(d.lo))));
    case SpaceKind::kRandInt: return value_of_number(d, std::floor(d.lo + u * (d.hi - d.lo + 1)));
    default: return value_of_number(d, d.lo + u * (d.hi - d.lo));
  }
}

std::vector<Value> grid_values(const Dimension& d) {
  std::vector<Value> out;
  if (d.kind == SpaceKind::kChoice) {
    for (size_t i = 0; i < d.choices.size(); ++i) out.push_back(value_of_number(d, double(i)));
  } else if (d.kind == SpaceKind::kRandInt) {
    for (double x = d.lo; x <= d.hi; ++x) out.push_back(value_of_number(d, x));
  } else if (d.kind == SpaceKind::kQUniform) {
    const long first = std::lround(std::ceil(d.lo / d.q - 1e-9)), last = std::lround(std::floor(d.hi / d.q + 1e-9));
    for (long k = first; k <= last; ++k) out.push_back(value_of_number(d, k * d.q));
  } else {
    ROOST_USAGE_ERROR("--sampling grid: --param ", d.name, "=", d.spec,
                      " is continuous; grid sampling takes choice, quniform and randint");
  }
  return out;
}

std::vector<Value> boundary_values(const Dimension& d) {
  if (d.kind == SpaceKind::kChoice) return grid_values(d);
  return {value_of_number(d, d.lo), value_of_number(d, d.hi)};
}

}  // namespace roost::sweep
