#!/usr/bin/env bash
# The local demo: authgate (config/demo.yaml) on 127.0.0.1:8080 in front of a
# small echo API on 127.0.0.1:9080. Builds if needed. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh all
scripts/build.sh authgate
bin=${BUILD_DIR:-build}/gateway/authgate

python3 scripts/demo_upstream.py 127.0.0.1 9080 &
upstream_pid=$!
"$bin" --config config/demo.yaml &
gateway_pid=$!
cleanup() { kill "$gateway_pid" "$upstream_pid" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

for _ in $(seq 50); do
  curl -fs http://127.0.0.1:9901/readyz >/dev/null 2>&1 && break
  sleep 0.1
done

cat <<'TXT'

authgate is up: proxy http://127.0.0.1:8080, admin http://127.0.0.1:9901. Try:

  curl -i http://127.0.0.1:8080/api/orders?id=7              # proxied; the echo shows what the API received
  curl -i -H 'X-Auth-User: admin' -H 'X-Forwarded-For: 6.6.6.6' http://127.0.0.1:8080/api/me
                                                              # spoofed identity/forwarding headers are stripped
  curl -i --path-as-is 'http://127.0.0.1:8080/public/../api//x/./y'   # canonicalised to /api/x/y
  curl -i --path-as-is 'http://127.0.0.1:8080/%2e%2e/etc/passwd'      # 400: climbs above the root
  curl -i http://127.0.0.1:8080/nowhere                       # 404: no route
  curl -i -X PATCH http://127.0.0.1:8080/api/orders           # 404: method not routed
  curl -s http://127.0.0.1:9901/readyz; curl -s http://127.0.0.1:9901/metrics | grep ^authgate_
  kill -HUP $(pgrep -f 'authgate --config config/demo.yaml')  # reload config/demo.yaml

Press Ctrl-C to stop.
TXT
wait "$gateway_pid"
