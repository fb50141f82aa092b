#include "auth/strict_json.hpp"

// basic_parser's member templates live in basic_parser_impl.hpp, which must be
// included by the one translation unit that instantiates them.
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace authgate::auth::detail {

namespace {

namespace json = boost::json;
using boost::system::error_code;

// Builds a json::value bottom-up. A completed value is added to the innermost
// open container; adding a member whose name is already present fails the parse.
class StrictHandler {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }

  bool on_array_begin(error_code&) {
    stack_.push_back(Frame{json::value(json::array_kind), {}});
    return true;
  }
  bool on_array_end(std::size_t, error_code& ec) { return close(ec); }
  bool on_object_begin(error_code&) {
    stack_.push_back(Frame{json::value(json::object_kind), {}});
    return true;
  }
  bool on_object_end(std::size_t, error_code& ec) { return close(ec); }

  bool on_string_part(json::string_view s, std::size_t, error_code&) {
    text_.append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, error_code& ec) {
    text_.append(s.data(), s.size());
    json::value v(json::string(text_.data(), text_.size()));
    text_.clear();
    return add(std::move(v), ec);
  }
  bool on_key_part(json::string_view s, std::size_t, error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, error_code&) {
    key_.append(s.data(), s.size());
    stack_.back().key.swap(key_);
    key_.clear();
    return true;
  }
  bool on_number_part(json::string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, error_code& ec) { return add(json::value(i), ec); }
  bool on_uint64(std::uint64_t u, json::string_view, error_code& ec) { return add(json::value(u), ec); }
  bool on_double(double d, json::string_view, error_code& ec) { return add(json::value(d), ec); }
  bool on_bool(bool b, error_code& ec) { return add(json::value(b), ec); }
  bool on_null(error_code& ec) { return add(json::value(nullptr), ec); }
  // Comments are disabled in the options; these are never called.
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }

  bool duplicate() const { return duplicate_; }
  json::value& root() { return root_; }

 private:
  struct Frame {
    json::value container;  // an array or an object
    std::string key;        // the pending member name, for objects
  };

  bool close(error_code& ec) {
    json::value v = std::move(stack_.back().container);
    stack_.pop_back();
    return add(std::move(v), ec);
  }

  bool add(json::value v, error_code& ec) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return true;
    }
    Frame& top = stack_.back();
    if (top.container.is_array()) {
      top.container.get_array().push_back(std::move(v));
      return true;
    }
    auto [it, inserted] = top.container.get_object().emplace(top.key, std::move(v));
    (void)it;
    if (!inserted) {
      duplicate_ = true;
      ec = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
      return false;
    }
    return true;
  }

  std::vector<Frame> stack_;
  std::string text_;
  std::string key_;
  json::value root_;
  bool duplicate_ = false;
};

}  // namespace

JsonError parse_strict_object(std::string_view text, boost::json::object& out, std::size_t max_depth) {
  json::parse_options opts;
  opts.max_depth = max_depth;
  opts.allow_comments = false;
  opts.allow_trailing_commas = false;
  opts.allow_invalid_utf8 = false;

  json::basic_parser<StrictHandler> parser(opts);
  error_code ec;
  const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (parser.handler().duplicate()) return JsonError::duplicate_member;
  if (ec || used != text.size() || !parser.done()) return JsonError::syntax;
  json::value& root = parser.handler().root();
  if (!root.is_object()) return JsonError::not_object;
  out = std::move(root.get_object());
  return JsonError::none;
}

}  // namespace authgate::auth::detail
