// Separate compilation: the bodies of Asio, Asio.SSL, Beast and Boost.JSON are
// compiled here once, instead of in every translation unit that uses them.
// The matching *_SEPARATE_COMPILATION defines are PUBLIC on authgate_boost.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
#include <boost/json/src.hpp>
