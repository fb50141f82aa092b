#include "proxy/request_state.hpp"

#include "proxy/access_log.hpp"
#include "proxy/runtime.hpp"

namespace authgate::proxy {

void RequestState::reset() {
  start = std::chrono::steady_clock::now();
  request_id.clear();
  method.clear();
  path.clear();
  route = nullptr;
  upstream = nullptr;
  status = 0;
  bytes_in = bytes_out = 0;
  auth = "none";
  auth_reason = {};
  issuer.clear();
  sub.clear();
  proxied_client_certificate.clear();
  h2 = false;
  grpc = false;
}

void finish_request(Runtime& rt, const RequestState& rs, std::size_t worker, std::string_view client_ip) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - rs.start).count();
  RouteRuntime& route = rs.route ? *rs.route : rt.unmatched;
  rt.request_counter(route, worker, rs.method.empty() ? "other" : rs.method, rs.status, rs.h2).Increment();
  route.duration->Observe(seconds);
  if (rt.access_log) {
    AccessRecord rec;
    rec.request_id = rs.request_id;
    rec.client = client_ip;
    rec.protocol = rs.h2 ? "h2" : "http/1.1";
    rec.method = rs.method;
    rec.path = rs.path;
    rec.route = route.name;
    rec.upstream = rs.upstream ? std::string_view(rs.upstream->name) : std::string_view();
    rec.status = rs.status;
    rec.bytes_in = rs.bytes_in;
    rec.bytes_out = rs.bytes_out;
    rec.duration_ms = seconds * 1000.0;
    rec.auth = rs.auth;
    rec.auth_reason = rs.auth_reason;
    rec.issuer = rs.issuer;
    rec.sub = rs.sub;
    write_access_log(*rt.access_log, rec);
  }
}

}  // namespace authgate::proxy
