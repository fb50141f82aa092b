#!/usr/bin/env python3
"""Mints an HS256 demo access token for config/demo.yaml's "demo" issuer,
signed with $AUTHGATE_DEMO_SECRET (set by scripts/demo.sh).
Usage: mint_demo_token.py SUB "SCOPES" [TTL_SECONDS]   (a negative TTL gives an expired token)"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main() -> None:
    sub, scopes = sys.argv[1], sys.argv[2]
    ttl = int(sys.argv[3]) if len(sys.argv) > 3 else 600
    now = int(time.time())
    header = {"alg": "HS256", "typ": "at+jwt"}
    claims = {"iss": "https://demo-idp.local", "aud": "demo-api", "sub": sub,
              "scope": scopes, "iat": now - (0 if ttl > 0 else 2 * -ttl), "exp": now + ttl}
    signing_input = b64(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        b64(json.dumps(claims, separators=(",", ":")).encode())
    key = os.environ["AUTHGATE_DEMO_SECRET"].encode()
    sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    print(signing_input + "." + b64(sig))


if __name__ == "__main__":
    main()
