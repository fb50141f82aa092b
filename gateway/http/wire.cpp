#include "http/wire.hpp"

#include <charconv>

namespace authgate::http {

namespace bhttp = boost::beast::http;

namespace {

void append_version(std::string& out, unsigned version) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

template <class Fields>
void append_fields(const Fields& f, std::string& out) {
  for (const auto& field : f) {
    out.append(field.name_string().data(), field.name_string().size());
    out += ": ";
    out.append(field.value().data(), field.value().size());
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace

template <class Fields>
void render_header(const bhttp::request_header<Fields>& h, std::string& out) {
  out.clear();
  const auto method = h.method_string();
  const auto target = h.target();
  out.append(method.data(), method.size());
  out += ' ';
  out.append(target.data(), target.size());
  out += ' ';
  append_version(out, h.version());
  out += "\r\n";
  append_fields(h, out);
}

template <class Fields>
void render_header(const bhttp::response_header<Fields>& h, std::string& out) {
  out.clear();
  append_version(out, h.version());
  out += ' ';
  char code[4];
  std::to_chars(code, code + 3, h.result_int());
  code[3] = ' ';
  out.append(code, 4);
  auto reason = h.reason();
  if (reason.empty()) reason = bhttp::obsolete_reason(h.result());
  out.append(reason.data(), reason.size());
  out += "\r\n";
  append_fields(h, out);
}

template void render_header(const bhttp::request_header<Fields>&, std::string&);
template void render_header(const bhttp::response_header<Fields>&, std::string&);
template void render_header(const bhttp::request_header<bhttp::fields>&, std::string&);
template void render_header(const bhttp::response_header<bhttp::fields>&, std::string&);

}  // namespace authgate::http
