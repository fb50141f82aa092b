// Loading YAML text in the config tests, as "t.yaml" (so expected errors read
// "t.yaml:LINE:COL: key: ...").
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.hpp"

namespace authgate::config::testing {

// The ConfigError lines for `yaml`; empty if it loaded.
inline std::vector<std::string> load_errors(std::string_view yaml) {
  try {
    load_string(yaml, "t.yaml");
  } catch (const ConfigError& e) {
    return e.errors();
  }
  return {};
}

// Loads `yaml`, reporting every error line as a test failure if it does not load.
inline std::optional<GatewayConfig> load_ok(std::string_view yaml) {
  try {
    return load_string(yaml, "t.yaml");
  } catch (const ConfigError& e) {
    std::string all;
    for (const auto& line : e.errors()) all += line + "\n";
    ADD_FAILURE() << "config did not load:\n" << all << "---\n" << yaml;
  }
  return std::nullopt;
}

}  // namespace authgate::config::testing
