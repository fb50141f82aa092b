#!/usr/bin/env bash
# The local demo: authgate (config/demo.yaml) on 127.0.0.1:8080 in front of a
# small echo API on 127.0.0.1:9080, with a local OpenID Provider (oidc-provider,
# tests/oidc/provider.mjs) on 127.0.0.1:4100. Builds if needed. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh all
scripts/build.sh authgate
bin=${BUILD_DIR:-build}/gateway/authgate

# A fresh HS256 secret per demo run; the demo issuer in config/demo.yaml reads it.
AUTHGATE_DEMO_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
export AUTHGATE_DEMO_SECRET
reader=$(python3 scripts/mint_demo_token.py alice "orders:read")
admin=$(python3 scripts/mint_demo_token.py bob "orders:read orders:admin")
expired=$(python3 scripts/mint_demo_token.py alice "orders:read" -60)

# The OpenID Provider: a fresh RS256 key and client secrets per run.
work=$(mktemp -d)
AUTHGATE_DEMO_OP_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')
CLI_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')
AUTHGATE_DEMO_COOKIE_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
export AUTHGATE_DEMO_OP_SECRET AUTHGATE_DEMO_COOKIE_SECRET
{ printf '{"keys":['; node tests/oidc/provider.mjs genkey --alg RS256 --kid demo-1 | tr -d '\n'; printf ']}'; } >"$work/jwks.json"
OIDC_CLIENT_SECRET=$AUTHGATE_DEMO_OP_SECRET OIDC_CLI_SECRET=$CLI_SECRET \
  node tests/oidc/provider.mjs --port 4100 --jwks "$work/jwks.json" \
  --redirect-uri http://127.0.0.1:8080/oauth2/callback --post-logout-uri http://127.0.0.1:8080/ >"$work/op.log" 2>&1 &
op_pid=$!

python3 scripts/demo_upstream.py 127.0.0.1 9080 &
upstream_pid=$!
cleanup() {
  kill "${gateway_pid:-}" "$upstream_pid" "$op_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
for _ in $(seq 100); do grep -q READY "$work/op.log" && break; sleep 0.1; done
grep -q READY "$work/op.log" || { cat "$work/op.log" >&2; echo "demo: the OpenID Provider did not start" >&2; exit 1; }

"$bin" --config config/demo.yaml &
gateway_pid=$!

for _ in $(seq 50); do
  curl -fs http://127.0.0.1:9901/readyz >/dev/null 2>&1 && break
  sleep 0.1
done

cat <<TXT

authgate is up: proxy http://127.0.0.1:8080, admin http://127.0.0.1:9901,
OpenID Provider http://127.0.0.1:4100 (client orders-cli, secret $CLI_SECRET). Try:

  # A JWT access token from the provider (RFC 8707 resource indicator), verified with its JWKS:
  jwt=\$(curl -s -u orders-cli:$CLI_SECRET -d grant_type=client_credentials -d scope=orders:read \\
        -d resource=https://orders.test http://127.0.0.1:4100/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -i -H "Authorization: Bearer \$jwt" http://127.0.0.1:8080/api/orders          # 200
  # An opaque token (no resource): authgate introspects it at the provider, then caches the answer:
  opaque=\$(curl -s -u orders-cli:$CLI_SECRET -d grant_type=client_credentials -d scope=orders:read \\
        http://127.0.0.1:4100/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -i -H "Authorization: Bearer \$opaque" http://127.0.0.1:8080/api/orders       # 200
  curl -s -u orders-cli:$CLI_SECRET -d token=\$opaque http://127.0.0.1:4100/token/revocation   # revoke it...
  curl -i -H "Authorization: Bearer \$opaque" http://127.0.0.1:8080/api/orders       # ...200 until the cached answer expires (5m)

  # Browser session: open http://127.0.0.1:8080/app/ in a browser (log in with any name), or:
  curl -s -L -c /tmp/demo-jar -b /tmp/demo-jar -H 'Accept: text/html' http://127.0.0.1:8080/app/hello
                                                              # login -> provider -> callback -> the API sees a Bearer token
  curl -s -b /tmp/demo-jar http://127.0.0.1:8080/oauth2/session   # who is logged in
  curl -s -i -b /tmp/demo-jar -X POST -H 'Origin: http://127.0.0.1:8080' http://127.0.0.1:8080/oauth2/logout
                                                              # revoke + clear the cookie (POST from this origin: logout CSRF)

  # Crafted HS256 tokens (issuer "demo"):

  curl -i http://127.0.0.1:8080/public/hello                  # auth: none; the echo shows what the API received
  curl -i http://127.0.0.1:8080/api/orders                    # 401: no token
  curl -i -H 'Authorization: Bearer $reader' \\
       -H 'X-User-Id: mallory' http://127.0.0.1:8080/api/orders?id=7
                                                              # 200: sub and scopes forwarded; the spoofed X-User-Id is gone
  curl -i -H 'Authorization: Bearer $reader' http://127.0.0.1:8080/api/admin/users   # 403 insufficient_scope
  curl -i -H 'Authorization: Bearer $admin' http://127.0.0.1:8080/api/admin/users    # 200
  curl -i -H 'Authorization: Bearer $expired' http://127.0.0.1:8080/api/orders       # 401 invalid_token (expired)
  curl -i --path-as-is 'http://127.0.0.1:8080/public/../api/admin/users'  # canonicalised to /api/admin/users: 401
  curl -i --path-as-is 'http://127.0.0.1:8080/%2e%2e/etc/passwd'          # 400: climbs above the root
  curl -i http://127.0.0.1:8080/nowhere                       # 404: no route
  curl -s http://127.0.0.1:9901/readyz; curl -s http://127.0.0.1:9901/metrics | grep ^authgate_
  kill -HUP \$(pgrep -f 'authgate --config config/demo.yaml')  # reload config/demo.yaml

Press Ctrl-C to stop.
TXT
wait "$gateway_pid"
