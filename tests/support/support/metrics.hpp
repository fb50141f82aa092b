// Prometheus text exposition parsing for assertions.
//
// Usage:
//   auto samples = support::parse_prometheus(gw.metrics_text());
//   auto v = support::metric_value(samples, "authgate_config_reloads_total", {{"result", "success"}});
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace support {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::vector<Sample> parse_prometheus(std::string_view text);

// Samples named `name` whose labels include every pair of `labels`.
std::vector<Sample> find_samples(const std::vector<Sample>& samples, std::string_view name,
                                 const std::map<std::string, std::string>& labels = {});
// The value of the single matching sample, the sum when several match, nullopt if none.
std::optional<double> metric_value(const std::vector<Sample>& samples, std::string_view name,
                                   const std::map<std::string, std::string>& labels = {});

}  // namespace support
