// Mints the keys and tokens for load-tests/run.sh's bearer mode (never linked into the gateway).
//
//   mint_tokens --out DIR [--algs RS256,ES256] [--count 20000] [--ttl 3600]
//               [--issuer https://idp.bench.test] [--audience bench-api] [--scope "bench:read bench:write"]
//
// Generates a fresh key per algorithm (RSA 2048 for RS256, P-256 for ES256) and writes into DIR:
//   jwks.json         {"keys":[...]} with every public key (what authgate's jwks_file reads)
//   <alg>.pem         the public key as SPKI PEM ("BEGIN PUBLIC KEY", what HAProxy's jwt_verify reads)
//   <alg>.tokens      COUNT tokens, one per line; iss/aud/scope fixed, sub and jti differ per token,
//                     iat = now, exp = now + TTL
//   <alg>.reject      "<name> <token>" lines that every verifier must refuse (401/403): a tampered
//                     signature, a foreign key, expired, wrong issuer, wrong audience, alg none,
//                     and a token of the other algorithm's family relabelled as this one
// <alg> is lower case (rs256, es256). Tokens are JOSE-conformant: ECDSA signatures are raw r||s.
//
// Built with the test signer (tests/unit/auth/test_signer.hpp); signing is spread over the cores.
#include "auth/test_signer.hpp"
#include "common/hex.hpp"
#include "common/ossl.hpp"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace ts = authgate::auth::test;

namespace {

struct Options {
  std::string out;
  std::vector<std::string> algs{"RS256", "ES256"};
  long count = 20000;
  long ttl = 3600;
  std::string issuer = "https://idp.bench.test";
  std::string audience = "bench-api";
  std::string scope = "bench:read bench:write";
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "mint_tokens: " << why << "\n"
            << "usage: mint_tokens --out DIR [--algs RS256,ES256] [--count N] [--ttl SECONDS]\n"
            << "                   [--issuer URL] [--audience AUD] [--scope 'a b']\n";
  std::exit(2);
}

long to_long(const std::string& s, const char* what) {
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v <= 0) usage(std::string(what) + " must be a positive integer");
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--out") o.out = value();
    else if (a == "--count") o.count = to_long(value(), "--count");
    else if (a == "--ttl") o.ttl = to_long(value(), "--ttl");
    else if (a == "--issuer") o.issuer = value();
    else if (a == "--audience") o.audience = value();
    else if (a == "--scope") o.scope = value();
    else if (a == "--algs") {
      o.algs.clear();
      std::stringstream ss(value());
      for (std::string alg; std::getline(ss, alg, ',');) {
        if (alg != "RS256" && alg != "ES256") usage("unsupported alg '" + alg + "' (RS256, ES256)");
        if (std::find(o.algs.begin(), o.algs.end(), alg) == o.algs.end()) o.algs.push_back(alg);
      }
      if (o.algs.empty()) usage("--algs is empty");
    } else if (a == "-h" || a == "--help") usage("help");
    else usage("unknown argument '" + a + "'");
  }
  if (o.out.empty()) usage("--out is required");
  return o;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

std::string hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return authgate::common::hex_encode(raw);
}

std::string spki_pem(const ts::TestKey& key) {
  const authgate::ossl::bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.pkey.get()) != 1)
    throw std::runtime_error("PEM_write_bio_PUBKEY failed");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::string json_str(const std::string& s) {  // the inputs are plain ASCII options; escape the basics
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

struct Claims {
  std::string iss, aud, scope, sub, jti;
  std::int64_t iat = 0, exp = 0;
};

std::string payload(const Claims& c) {
  return "{\"iss\":" + json_str(c.iss) + ",\"aud\":" + json_str(c.aud) + ",\"sub\":" + json_str(c.sub) +
         ",\"scope\":" + json_str(c.scope) + ",\"jti\":" + json_str(c.jti) + ",\"iat\":" + std::to_string(c.iat) +
         ",\"exp\":" + std::to_string(c.exp) + "}";
}

std::string header(const std::string& alg, const std::string& kid) {
  return R"({"alg":")" + alg + R"(","typ":"at+jwt","kid":")" + kid + R"("})";
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const std::string run_id = hex(4);  // keeps jti unique across runs too

  struct Alg {
    std::string name;  // RS256
    ts::TestKey key;
  };
  std::vector<Alg> algs;
  std::vector<std::string> jwks;
  for (const auto& name : o.algs) {
    const std::string kid = "bench-" + lower(name) + "-" + run_id;
    Alg a{name, name == "RS256" ? ts::make_rsa(2048, kid) : ts::make_ec("P-256", kid)};
    jwks.push_back(a.key.public_jwk(R"("use":"sig","alg":")" + name + "\""));
    write_file(o.out + "/" + lower(name) + ".pem", spki_pem(a.key));
    algs.push_back(std::move(a));
  }
  write_file(o.out + "/jwks.json", ts::jwks_of(jwks) + "\n");

  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  for (const auto& a : algs) {
    const std::string hdr = header(a.name, a.key.kid);
    auto claims_for = [&](long i) {
      Claims c{o.issuer, o.audience, o.scope, "user-" + std::to_string(i),
               run_id + "-" + a.name + "-" + std::to_string(i), now, now + o.ttl};
      return c;
    };

    // The pool: signing (RSA especially) dominates, so split it over the cores.
    std::vector<std::string> tokens(static_cast<std::size_t>(o.count));
    const unsigned nthreads = static_cast<unsigned>(std::min<long>(hw, o.count));
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(nthreads);
    for (unsigned t = 0; t < nthreads; ++t) {
      pool.emplace_back([&, t] {
        try {
          for (long i = t; i < o.count; i += nthreads) {
            tokens[static_cast<std::size_t>(i)] = ts::mint(a.key, a.name, hdr, payload(claims_for(i)));
          }
        } catch (...) {
          errors[t] = std::current_exception();
        }
      });
    }
    for (auto& th : pool) th.join();
    for (auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
    std::string text;
    text.reserve(tokens.size() * (tokens.front().size() + 1));
    for (const auto& tok : tokens) text += tok + "\n";
    write_file(o.out + "/" + lower(a.name) + ".tokens", text);

    // Tokens that must be refused. Each differs from a good one in one respect only.
    std::vector<std::pair<std::string, std::string>> reject;
    {
      std::string t = ts::mint(a.key, a.name, hdr, payload(claims_for(-1)));
      // A character in the middle of the signature: stays valid base64url (no trailing-bit
      // tricks), so the token parses and only the signature check can catch it.
      const std::size_t dot = t.rfind('.');
      char& c = t[dot + (t.size() - dot) / 2];
      c = c == 'A' ? 'B' : 'A';
      reject.emplace_back("tampered-signature", t);
    }
    {
      Claims c = claims_for(-2);
      c.sub = "admin";  // payload changed after signing
      std::string good = ts::mint(a.key, a.name, hdr, payload(claims_for(-2)));
      const std::string sig = good.substr(good.rfind('.'));
      reject.emplace_back("tampered-payload",
                          ts::b64(hdr) + "." + ts::b64(payload(c)) + sig);
    }
    {
      const ts::TestKey other =
          a.name == "RS256" ? ts::make_rsa(2048, a.key.kid) : ts::make_ec("P-256", a.key.kid);
      reject.emplace_back("foreign-key", ts::mint(other, a.name, hdr, payload(claims_for(-3))));
    }
    {
      Claims c = claims_for(-4);
      c.iat = now - 7200;
      c.exp = now - 3600;
      reject.emplace_back("expired", ts::mint(a.key, a.name, hdr, payload(c)));
    }
    {
      Claims c = claims_for(-5);
      c.iss = o.issuer + ".evil";
      reject.emplace_back("wrong-issuer", ts::mint(a.key, a.name, hdr, payload(c)));
    }
    {
      Claims c = claims_for(-6);
      c.aud = o.audience + "-other";
      reject.emplace_back("wrong-audience", ts::mint(a.key, a.name, hdr, payload(c)));
    }
    {
      Claims c = claims_for(-7);
      std::string none_hdr = R"({"alg":"none","typ":"at+jwt","kid":")" + a.key.kid + R"("})";
      reject.emplace_back("alg-none", ts::b64(none_hdr) + "." + ts::b64(payload(c)) + ".");
    }
    {
      // Header says the other algorithm (same kid): the alg allow-list / header check must refuse
      // it even though the signature is a valid one of this key.
      Claims c = claims_for(-8);
      const std::string other_alg = a.name == "RS256" ? "ES256" : "RS256";
      const std::string h = header(other_alg, a.key.kid);
      const std::string input = ts::b64(h) + "." + ts::b64(payload(c));
      reject.emplace_back("alg-mismatch", input + "." + ts::b64(ts::sign(a.key, a.name, input)));
    }
    std::string rtext;
    for (const auto& [name, tok] : reject) rtext += name + " " + tok + "\n";
    write_file(o.out + "/" + lower(a.name) + ".reject", rtext);
  }
  std::cout << "mint_tokens: " << o.count << " tokens per alg (" << algs.size() << " algs), exp = now + " << o.ttl
            << "s, in " << o.out << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "mint_tokens: " << e.what() << "\n";
  return 1;
}
