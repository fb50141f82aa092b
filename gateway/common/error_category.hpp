// ErrorCategory: the std::error_category of one error enum, from the category's
// name and a message function, so each module's category is a few lines instead
// of a hand-written class. Base is std::error_category, or
// boost::system::error_category where the codes travel through Asio.
//
//   const char* path_message(path_errc e) { switch (e) { ... } return "unknown path error"; }
//   const std::error_category& path_category() {
//     static const common::ErrorCategory<path_errc> category("authgate.path", path_message);
//     return category;
//   }
//   std::error_code make_error_code(path_errc e) { return {static_cast<int>(e), path_category()}; }
//
// The name and the messages are what logs and tests print: changing them is a
// visible change. Categories compare by address, so each one must be a single
// object (a function-local static, as above).
#pragma once

#include <string>
#include <system_error>

namespace authgate::common {

template <class Enum, class Base = std::error_category>
class ErrorCategory final : public Base {
 public:
  using MessageFn = const char* (*)(Enum);

  ErrorCategory(const char* name, MessageFn message) noexcept : name_(name), message_(message) {}

  const char* name() const noexcept override { return name_; }
  std::string message(int value) const override { return message_(static_cast<Enum>(value)); }

 private:
  const char* name_;
  MessageFn message_;
};

}  // namespace authgate::common
