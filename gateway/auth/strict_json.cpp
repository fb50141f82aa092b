#include "auth/strict_json.hpp"

// basic_parser's member templates live in basic_parser_impl.hpp, which must be
// included by the one translation unit that instantiates them.
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value.hpp>

#include <boost/container/small_vector.hpp>

#include <memory>
#include <string>
#include <unordered_set>

namespace authgate::auth::detail {

namespace {

namespace json = boost::json;
using boost::system::error_code;

// Builds a json::value bottom-up, as Boost.JSON's own parser does: completed
// values wait on a flat stack, and a container is built when it closes, with
// its exact size (no table regrowth) and in the storage of the result. Adding
// a member whose name is already present fails the parse.
class StrictHandler {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  explicit StrictHandler(json::storage_ptr sp) : sp_(std::move(sp)) {}

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }

  bool on_array_begin(error_code&) {
    open_.push_back(Open{items_.size(), std::move(key_), nullptr});
    key_.clear();
    return true;
  }
  bool on_array_end(std::size_t n, error_code& ec) {
    json::array a(sp_);
    a.reserve(n);
    for (std::size_t i = items_.size() - n; i < items_.size(); ++i) a.emplace_back(std::move(items_[i].v));
    return close(n, json::value(std::move(a)), ec);
  }
  bool on_object_begin(error_code& ec) { return on_array_begin(ec); }
  bool on_object_end(std::size_t n, error_code& ec) {
    json::object o(n, sp_);
    for (std::size_t i = items_.size() - n; i < items_.size(); ++i) o.emplace(items_[i].key, std::move(items_[i].v));
    return close(n, json::value(std::move(o)), ec);
  }

  // A string or key arrives in one piece unless it crosses the parser's
  // buffer or holds escapes; only then is it assembled in text_.
  bool on_string_part(json::string_view s, std::size_t, error_code&) {
    text_.append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, error_code& ec) {
    if (text_.empty()) return add(json::value(s, sp_), ec);
    text_.append(s.data(), s.size());
    json::value v(json::string_view(text_), sp_);
    text_.clear();
    return add(std::move(v), ec);
  }
  bool on_key_part(json::string_view s, std::size_t, error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  // Duplicates are caught here, as the name arrives, so the first problem in
  // the text is the one reported.
  bool on_key(json::string_view s, std::size_t, error_code& ec) {
    key_.append(s.data(), s.size());
    Open& top = open_.back();
    const std::size_t members = items_.size() - top.first;
    bool fresh = true;
    if (!top.names && members < kScanMembers) {
      for (std::size_t i = top.first; i < items_.size() && fresh; ++i) fresh = items_[i].key != key_;
    } else {
      // Past a few dozen members a scan would be quadratic in hostile input.
      if (!top.names) {
        top.names = std::make_unique<std::unordered_set<std::string>>();
        for (std::size_t i = top.first; i < items_.size(); ++i) top.names->insert(items_[i].key);
      }
      fresh = top.names->insert(key_).second;
    }
    if (fresh) return true;
    duplicate_ = true;
    ec = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
    return false;
  }
  bool on_number_part(json::string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, error_code& ec) { return add(json::value(i, sp_), ec); }
  bool on_uint64(std::uint64_t u, json::string_view, error_code& ec) { return add(json::value(u, sp_), ec); }
  bool on_double(double d, json::string_view, error_code& ec) { return add(json::value(d, sp_), ec); }
  bool on_bool(bool b, error_code& ec) { return add(json::value(b, sp_), ec); }
  bool on_null(error_code& ec) { return add(json::value(nullptr, sp_), ec); }
  // Comments are disabled in the options; these are never called.
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }

  bool duplicate() const { return duplicate_; }
  // The document, once the parser is done.
  json::value& root() { return items_.front().v; }

 private:
  struct Item {
    std::string key;  // the member name, inside an object
    json::value v;
  };
  struct Open {
    std::size_t first;  // index in items_ of the container's first element
    std::string key;    // the container's own member name, if it is one
    std::unique_ptr<std::unordered_set<std::string>> names;  // a big object's member names
  };
  static constexpr std::size_t kScanMembers = 32;

  // Replaces the n elements of the closing container with the container.
  bool close(std::size_t n, json::value v, error_code& ec) {
    items_.erase(items_.end() - static_cast<std::ptrdiff_t>(n), items_.end());
    key_ = std::move(open_.back().key);
    open_.pop_back();
    return add(std::move(v), ec);
  }

  bool add(json::value v, error_code&) {
    items_.push_back(Item{std::move(key_), std::move(v)});
    key_.clear();
    return true;
  }

  json::storage_ptr sp_;
  boost::container::small_vector<Item, 16> items_;
  boost::container::small_vector<Open, 4> open_;
  std::string text_;
  std::string key_;
  bool duplicate_ = false;
};

}  // namespace

JsonError parse_strict_object(std::string_view text, boost::json::object& out, std::size_t max_depth) {
  json::parse_options opts;
  opts.max_depth = max_depth;
  opts.allow_comments = false;
  opts.allow_trailing_commas = false;
  opts.allow_invalid_utf8 = false;

  // Built in out's storage, so the assignment below moves instead of copying.
  json::basic_parser<StrictHandler> parser(opts, out.storage());
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
