#include "support/metrics.hpp"

#include <cstdlib>

namespace support {

namespace {
std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Parses `{a="x",b="y"}` starting at s[0] == '{'; returns chars consumed or 0.
std::size_t parse_labels(std::string_view s, std::map<std::string, std::string>& out) {
  std::size_t i = 1;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',')) ++i;
    if (i < s.size() && s[i] == '}') return i + 1;
    auto eq = s.find('=', i);
    if (eq == std::string_view::npos || eq + 1 >= s.size() || s[eq + 1] != '"') return 0;
    std::string key(trim_ws(s.substr(i, eq - i)));
    std::string value;
    std::size_t j = eq + 2;
    for (; j < s.size() && s[j] != '"'; ++j) {
      if (s[j] == '\\' && j + 1 < s.size()) {
        ++j;
        value += s[j] == 'n' ? '\n' : s[j];
      } else {
        value += s[j];
      }
    }
    if (j >= s.size()) return 0;
    out[key] = value;
    i = j + 1;
  }
  return 0;
}
}  // namespace

std::vector<Sample> parse_prometheus(std::string_view text) {
  std::vector<Sample> out;
  while (!text.empty()) {
    auto eol = text.find('\n');
    auto line = trim_ws(text.substr(0, eol));
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.empty() || line.front() == '#') continue;
    Sample s;
    auto name_end = line.find_first_of("{ ");
    if (name_end == std::string_view::npos) continue;
    s.name = line.substr(0, name_end);
    auto rest = line.substr(name_end);
    if (!rest.empty() && rest.front() == '{') {
      auto used = parse_labels(rest, s.labels);
      if (used == 0) continue;
      rest.remove_prefix(used);
    }
    rest = trim_ws(rest);
    auto sp = rest.find(' ');  // optional timestamp
    std::string value(rest.substr(0, sp));
    if (value == "+Inf") s.value = 1.0 / 0.0;
    else if (value == "-Inf") s.value = -1.0 / 0.0;
    else s.value = std::strtod(value.c_str(), nullptr);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Sample> find_samples(const std::vector<Sample>& samples, std::string_view name,
                                 const std::map<std::string, std::string>& labels) {
  std::vector<Sample> out;
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) {
        match = false;
        break;
      }
    }
    if (match) out.push_back(s);
  }
  return out;
}

std::optional<double> metric_value(const std::vector<Sample>& samples, std::string_view name,
                                   const std::map<std::string, std::string>& labels) {
  auto found = find_samples(samples, name, labels);
  if (found.empty()) return std::nullopt;
  double sum = 0;
  for (const auto& s : found) sum += s.value;
  return sum;
}

}  // namespace support
