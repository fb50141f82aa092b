#!/usr/bin/env python3
"""Mints what load-tests/dpop_bench.sh sends: an issuer key (its JWKS), a client key, one ES256
access token bound to the client key (cnf.jkt, RFC 9449 §6) and COUNT DPoP proofs for one URL,
each with its own jti (so none is a replay), iat = now, ath = the token's hash.

  mint_dpop.py --out DIR --htu http://127.0.0.1:18602/dpop [--count 40000] [--method GET]
  mint_dpop.py --out DIR2 --htu ... --reuse-keys DIR   # new proofs for DIR's keys and token

Writes DIR/jwks.json, DIR/token (one line), DIR/proofs (one proof per line) and the two private
keys (DIR/issuer.pem, DIR/client.pem). ES256 only
(P-256, raw r||s signatures as JOSE wants). Needs python3-cryptography.
"""
import argparse
import base64
import hashlib
import json
import os
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk_of(key) -> dict:
    n = key.public_key().public_numbers()
    return {"crv": "P-256", "kty": "EC", "x": b64(n.x.to_bytes(32, "big")), "y": b64(n.y.to_bytes(32, "big"))}


def sign(key, header: dict, payload: dict) -> str:
    text = b64(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        b64(json.dumps(payload, separators=(",", ":")).encode())
    r, s = decode_dss_signature(key.sign(text.encode(), ec.ECDSA(hashes.SHA256())))
    return text + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--htu", required=True)
    ap.add_argument("--count", type=int, default=40000)
    ap.add_argument("--method", default="GET")
    ap.add_argument("--issuer", default="https://idp.bench.test")
    ap.add_argument("--audience", default="bench-api")
    ap.add_argument("--reuse-keys")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    now = int(time.time())
    if a.reuse_keys:
        with open(os.path.join(a.reuse_keys, "client.pem"), "rb") as f:
            client_key = serialization.load_pem_private_key(f.read(), None)
        with open(os.path.join(a.reuse_keys, "token")) as f:
            token = f.read().strip()
        client_jwk = jwk_of(client_key)
    else:
        issuer_key = ec.generate_private_key(ec.SECP256R1())
        client_key = ec.generate_private_key(ec.SECP256R1())
        for name, key in (("issuer.pem", issuer_key), ("client.pem", client_key)):
            with open(os.path.join(a.out, name), "wb") as f:
                f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
        with open(os.path.join(a.out, "jwks.json"), "w") as f:
            json.dump({"keys": [dict(jwk_of(issuer_key), kid="bench-es256", alg="ES256", use="sig")]}, f)
        client_jwk = jwk_of(client_key)  # members in RFC 7638 order already (crv, kty, x, y)
        jkt = b64(hashlib.sha256(json.dumps(client_jwk, separators=(",", ":")).encode()).digest())
        token = sign(issuer_key, {"alg": "ES256", "typ": "at+jwt", "kid": "bench-es256"},
                     {"iss": a.issuer, "aud": a.audience, "sub": "bench", "scope": "bench:read",
                      "iat": now, "exp": now + 3600, "jti": "bench-token", "cnf": {"jkt": jkt}})
        with open(os.path.join(a.out, "token"), "w") as f:
            f.write(token + "\n")
    ath = b64(hashlib.sha256(token.encode()).digest())
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": client_jwk}
    with open(os.path.join(a.out, "proofs"), "w") as f:
        for i in range(a.count):
            f.write(sign(client_key, header, {"jti": "p%d-%s" % (i, b64(os.urandom(9))), "htm": a.method,
                                              "htu": a.htu, "iat": now, "ath": ath}) + "\n")


if __name__ == "__main__":
    main()
