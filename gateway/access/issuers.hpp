// The configured issuers, loaded: each one's verification policy, its local
// key material (jwks_file, inline jwks, secret) or its RemoteIssuer (jwks_uri,
// discovery), and its Introspector. Built once per Runtime (start-up and each
// reload); `authgate --check-config` builds one too, to load local keys
// without contacting anything.
//
// Usage:
//   Issuers issuers(cfg, metrics, control_executor, previous_or_null);  // throws on bad key material
//   issuers.start();                                 // remote issuers begin fetching
//   for (const Issuer& ir : issuers) if (ir.accepted_by(route)) ... ir.keys() ...
//   const Issuer* login = issuers.find(cfg.sessions->client.issuer);
//   issuers.not_ready();   // /readyz
//   issuers.states();      // the status page (control executor)
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt_verifier.hpp"
#include "auth/key_set.hpp"
#include "config/config.hpp"

namespace authgate::idp {
class RemoteIssuer;
class Introspector;
}  // namespace authgate::idp

namespace authgate::metrics {
class Metrics;
}

namespace authgate::access {

struct Issuer {
  const config::Issuer* cfg = nullptr;
  auth::VerifyPolicy policy;
  auth::KeySetPtr static_keys;                // jwks_file, inline jwks, secret
  std::shared_ptr<idp::RemoteIssuer> remote;  // jwks_uri / discovery / introspection
  std::unique_ptr<idp::Introspector> introspector;

  // The key set in use: the static one, else the remote one (null: none loaded yet, or stale).
  auth::KeySetPtr keys() const;
  bool accepted_by(const config::Route& route) const;
};

class Issuers {
 public:
  // Throws on unusable local key material, and when sessions.client.issuer
  // names no issuer with discovery. `previous` (the Runtime being replaced on
  // reload) lends its remote key sets so a reload never drops keys.
  Issuers(const config::GatewayConfig& cfg, metrics::Metrics& metrics, boost::asio::any_io_executor control,
          const Issuers* previous = nullptr);
  ~Issuers();  // stops the remote issuers
  Issuers(const Issuers&) = delete;
  Issuers& operator=(const Issuers&) = delete;

  void start();

  std::vector<Issuer>::const_iterator begin() const { return issuers_.begin(); }
  std::vector<Issuer>::const_iterator end() const { return issuers_.end(); }
  std::size_t size() const { return issuers_.size(); }
  const Issuer& operator[](std::size_t i) const { return issuers_[i]; }
  std::size_t index_of(const Issuer& ir) const { return static_cast<std::size_t>(&ir - issuers_.data()); }
  const Issuer* find(std::string_view name) const;

  // Issuers whose keys (or discovery metadata) have not loaded: /readyz names them.
  std::vector<std::string> not_ready() const;

  // Each issuer as the status page shows it. Call on the control executor
  // (remote issuers fetch there; see idp::RemoteIssuer::status).
  struct State {
    const config::Issuer* cfg = nullptr;
    std::string key_source;         // "jwks_file PATH", "inline jwks", "secret env:X", or the remote source
    std::vector<std::string> kids;  // of the keys in use; "" for a key without kid
    bool remote = false;            // keys or metadata come over the network
    bool usable = false;            // static keys, or the remote issuer is ready
    std::int64_t keys_fetched_unix = 0;
    std::int64_t next_refresh_unix = 0;
    unsigned consecutive_failures = 0;
    std::string last_error;
    std::int64_t last_error_unix = 0;
    std::string introspection_endpoint;  // configured or discovered; "" otherwise
  };
  std::vector<State> states() const;

 private:
  std::vector<Issuer> issuers_;
};

// What a token of issuer `ic` must satisfy (iss, aud, algorithms, leeway, typ,
// required claims; the login client's ID tokens are never access tokens).
auth::VerifyPolicy verify_policy(const config::GatewayConfig& cfg, const config::Issuer& ic);

// The largest issuers[].leeway: a token verifies that long past its exp, so a
// deny-list entry still matters that long past its `until`.
std::int64_t max_leeway_seconds(const config::GatewayConfig& cfg);

}  // namespace authgate::access
