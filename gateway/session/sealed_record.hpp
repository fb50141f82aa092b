// What the Redis session store writes: Session and LoginState records as JSON,
// sealed with AES-256-GCM under a key derived from the cookie secret, so a
// Redis dump (or a replica, or a backup) holds no usable token. Pure: no I/O.
//
// Usage:
//   const StoreKey key = derive_store_key(cfg.cookie_secret);
//   std::string blob = seal(key, redis_key, encode_session(s));   // aad = the Redis key
//   std::optional<std::string> json = open(key, redis_key, blob);  // nullopt: tampered / other key
//   std::optional<Session> s = decode_session(*json);
//
// Rules:
// - The key: HKDF-SHA256(ikm = cookie secret, salt = "authgate-session-store",
//   info = "aes-256-gcm v1"), 32 bytes. Changing the cookie secret makes every
//   stored record unreadable (its sessions end), as it already invalidates
//   every cookie.
// - A sealed blob is "v1" || 12-byte random nonce || ciphertext || 16-byte tag.
//   The Redis key is the additional authenticated data: a blob copied under
//   another key does not open.
// - store_key_for(id): the Redis key part for a session id is the hex SHA-256
//   of the id, so a dump does not even hold the (signed-cookie) ids.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "session/session_store.hpp"

namespace authgate::session {

using StoreKey = std::array<unsigned char, 32>;

StoreKey derive_store_key(std::string_view cookie_secret);
// RFC 5869 HKDF with SHA-256 (extract and expand), `length` bytes (<= 8160).
std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info, std::size_t length);

// `nonce` for tests (known-answer vectors); empty: 12 random bytes.
std::string seal(const StoreKey& key, std::string_view aad, std::string_view plaintext,
                 std::string_view nonce = {});
std::optional<std::string> open(const StoreKey& key, std::string_view aad, std::string_view sealed);

std::string encode_session(const Session& s);
std::optional<Session> decode_session(std::string_view json);
std::string encode_login(const LoginState& l);
std::optional<LoginState> decode_login(std::string_view json);

std::string hashed_id(std::string_view id);  // lower-case hex SHA-256

}  // namespace authgate::session
