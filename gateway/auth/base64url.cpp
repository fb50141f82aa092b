#include "auth/base64url.hpp"

#include <array>

namespace authgate::auth {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// 0..63 for alphabet bytes, 0xFF for everything else.
constexpr std::array<std::uint8_t, 256> make_decode_table() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = 0xFF;
  for (std::uint8_t i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = i;
  return t;
}
constexpr auto kDecode = make_decode_table();

}  // namespace

std::string base64url_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) |
                            std::uint32_t{bytes[i + 2]};
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  return base64url_encode(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

bool base64url_decode(std::string_view in, char* out, std::size_t& out_len) {
  out_len = 0;
  const std::size_t rest = in.size() % 4;
  if (rest == 1) return false;  // 6 bits cannot make a byte

  // Writes through a pointer: a push_back per byte cost more than the decoding
  // itself (the signature of an RS256 token alone is 256 bytes).
  const unsigned char* p = reinterpret_cast<const unsigned char*>(in.data());
  char* o = out;
  const std::size_t full = in.size() - rest;
  for (std::size_t i = 0; i < full; i += 4) {
    const std::uint32_t a = kDecode[p[i]], b = kDecode[p[i + 1]], c = kDecode[p[i + 2]], d = kDecode[p[i + 3]];
    if ((a | b | c | d) & 0x80) return false;  // 0xFF marks a byte outside the alphabet
    const std::uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    *o++ = static_cast<char>((v >> 16) & 0xFF);
    *o++ = static_cast<char>((v >> 8) & 0xFF);
    *o++ = static_cast<char>(v & 0xFF);
  }
  if (rest == 2) {
    const std::uint32_t a = kDecode[p[full]], b = kDecode[p[full + 1]];
    if ((a | b) & 0x80) return false;
    if ((b & 0x0F) != 0) return false;  // non-canonical: unused low 4 bits set
    *o++ = static_cast<char>((a << 2) | (b >> 4));
  } else if (rest == 3) {
    const std::uint32_t a = kDecode[p[full]], b = kDecode[p[full + 1]], c = kDecode[p[full + 2]];
    if ((a | b | c) & 0x80) return false;
    if ((c & 0x03) != 0) return false;  // non-canonical: unused low 2 bits set
    const std::uint32_t v = (a << 12) | (b << 6) | c;  // 18 bits, 16 used
    *o++ = static_cast<char>((v >> 10) & 0xFF);
    *o++ = static_cast<char>((v >> 2) & 0xFF);
  }
  out_len = static_cast<std::size_t>(o - out);
  return true;
}

bool base64url_decode(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 == 1) return false;
  out.resize(base64url_decoded_size(in.size()));
  std::size_t n = 0;
  if (!base64url_decode(in, out.data(), n)) return false;
  out.resize(n);
  return true;
}

}  // namespace authgate::auth
