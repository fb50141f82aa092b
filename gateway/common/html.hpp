// HTML text escaping for the pages authgate renders itself (the admin status page,
// the session error pages): & < > " ' become entities, so a string from the config,
// an IdP or a request can be placed in element text or a quoted attribute.
#pragma once

#include <string>
#include <string_view>

namespace authgate::common {

inline void append_html_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
}

inline std::string html_escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_html_escaped(out, text);
  return out;
}

}  // namespace authgate::common
