#include "net/stream.hpp"

namespace authgate::net {

void Stream::start_read(const BufferList<asio::mutable_buffer>& buffers, ErasedHandler handler) {
  if (s_.index() == 0) std::get<0>(s_).async_read_some(buffers, std::move(handler));
  else std::get<1>(s_).async_read_some(buffers, std::move(handler));
}

void Stream::start_write(const BufferList<asio::const_buffer>& buffers, ErasedHandler handler) {
  if (s_.index() == 0) std::get<0>(s_).async_write_some(buffers, std::move(handler));
  else std::get<1>(s_).async_write_some(buffers, std::move(handler));
}

}  // namespace authgate::net
