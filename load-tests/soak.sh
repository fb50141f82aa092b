#!/usr/bin/env bash
# Soak: authgate under a moderate, steady mix of bearer and session traffic for
# DURATION seconds (default 600), with session refreshes happening all along;
# samples authgate's RSS and open fd count at the start, every SAMPLE_EVERY
# seconds and at the end, and reports requests, errors and refresh grants.
#
#   load-tests/soak.sh                       # 10 minutes
#   DURATION=60 SAMPLE_EVERY=15 load-tests/soak.sh   # smoke run
#
# What runs (all on 127.0.0.1; nothing else is touched):
#   upstream   nginx, `return 200` (port 18381)
#   provider   tests/oidc/provider.mjs (oidc-provider) on 18382, --at-ttl $AT_TTL
#   authgate   18380 (admin 18921), workers 2: /api auth: bearer (issuer "bench": keys
#              from mint_tokens' jwks.json), /app auth: session (issuer "op" = the provider,
#              refresh_before_expiry $REFRESH_BEFORE), access log to a file
#   bearer     wrk -c$BEARER_CONNS, $BEARER_DELAY_MS ms between requests per connection,
#              a pool of 2 x $TOKENS minted tokens (RS256 + ES256), cycled (soak.lua)
#   session    $SESSIONS logins scripted with curl (-L and a cookie jar: login -> provider
#              -> callback), then wrk -c$SESSION_CONNS cycling their cookies, $SESSION_DELAY_MS
#              ms between requests; each session's access token lives $AT_TTL s, so every
#              session refreshes about every AT_TTL - REFRESH_BEFORE seconds
#   sampler    every SAMPLE_EVERY s: VmRSS and VmHWM (/proc/PID/status), open fds
#              (/proc/PID/fd), authgate_connections_active, refresh grants so far, and one
#              fresh curl login (new sessions keep being created)
# Report: load-tests/out/soak-<timestamp>.md (samples, wrk totals, status codes, refresh
# grants by result). Exit 1 when any request failed (wrk socket errors or non-2xx).
# Needs: build/gateway/authgate (or AUTHGATE_BIN), build/tests/mint_tokens (or
# MINT_TOKENS_BIN), node + tests/oidc/node_modules (scripts/install-deps.sh test), wrk,
# nginx, curl, python3.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/load-tests"
OUT_DIR="$HERE/out"

DURATION=${DURATION:-600}
SAMPLE_EVERY=${SAMPLE_EVERY:-60}
AT_TTL=${AT_TTL:-30}
REFRESH_BEFORE=${REFRESH_BEFORE:-5s}
SESSIONS=${SESSIONS:-4}
TOKENS=${TOKENS:-5000}
BEARER_CONNS=${BEARER_CONNS:-4}
BEARER_DELAY_MS=${BEARER_DELAY_MS:-10}
SESSION_CONNS=${SESSION_CONNS:-2}
SESSION_DELAY_MS=${SESSION_DELAY_MS:-20}
AUTHGATE=${AUTHGATE_BIN:-$ROOT/build/gateway/authgate}
MINT=${MINT_TOKENS_BIN:-$ROOT/build/tests/mint_tokens}

PORT=18380
ADMIN_PORT=18921
UP_PORT=18381
OP_PORT=18382

log() { printf '[soak.sh %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for v in DURATION SAMPLE_EVERY AT_TTL SESSIONS TOKENS BEARER_CONNS BEARER_DELAY_MS SESSION_CONNS SESSION_DELAY_MS; do
  [[ ${!v} =~ ^[0-9]+$ ]] && (( ${!v} >= 1 )) || die "$v must be a whole number >= 1, not '${!v}'"
done
for tool in wrk curl python3 node; do command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps.sh test)"; done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || die "nginx is not installed (nginx-light)"
[[ -x $AUTHGATE ]] || die "$AUTHGATE is missing: (cd build && flock /tmp/authgate-build.lock ninja authgate)"
[[ -x $MINT ]] || die "$MINT is missing: (cd build && flock /tmp/authgate-build.lock ninja mint_tokens)"
[[ -d $ROOT/tests/oidc/node_modules ]] || die "tests/oidc/node_modules is missing (scripts/install-deps.sh test)"
for p in $PORT $ADMIN_PORT $UP_PORT $OP_PORT; do
  if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then die "port $p is in use"; fi
done

CMDLINE="DURATION=$DURATION SAMPLE_EVERY=$SAMPLE_EVERY AT_TTL=$AT_TTL REFRESH_BEFORE=$REFRESH_BEFORE SESSIONS=$SESSIONS TOKENS=$TOKENS BEARER_CONNS=$BEARER_CONNS BEARER_DELAY_MS=$BEARER_DELAY_MS SESSION_CONNS=$SESSION_CONNS SESSION_DELAY_MS=$SESSION_DELAY_MS load-tests/soak.sh"

TMP=$(mktemp -d /tmp/authgate-soak.XXXXXX)
PIDS=()
cleanup() {
  local rc=$? i pid
  trap - EXIT INT TERM
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if (( rc != 0 )); then
    for f in "$TMP"/*.err "$TMP"/op.log; do
      [[ -s $f ]] && { log "---- tail of $(basename "$f")"; tail -n 20 "$f" >&2; }
    done
  fi
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT INT TERM
# Watchdog: the whole run is bounded.
( sleep $((DURATION + 300)); log "watchdog: aborting"; kill -TERM $$ ) 2>/dev/null &
PIDS+=($!)

# ---- upstream
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$UP_PORT;
    location / { return 200 "hello from upstream\n"; }
  }
}
EOF
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' 2>"$TMP/nginx.err" &
PIDS+=($!)

# ---- bearer tokens
mkdir -p "$TMP/tokens"
"$MINT" --out "$TMP/tokens" --count "$TOKENS" --ttl $((DURATION + 3600)) \
  --issuer https://idp.bench.test --audience bench-api >"$TMP/mint.out" 2>"$TMP/mint.err" || die "mint_tokens failed"
cat "$TMP/tokens/rs256.tokens" "$TMP/tokens/es256.tokens" >"$TMP/bearer.tokens"

# ---- provider
OP_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')
COOKIE_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
{ printf '{"keys":['; node "$ROOT/tests/oidc/provider.mjs" genkey --alg RS256 --kid soak-1 | tr -d '\n'; printf ']}'; } >"$TMP/op-jwks.json"
OIDC_CLIENT_SECRET=$OP_SECRET node "$ROOT/tests/oidc/provider.mjs" --port $OP_PORT --jwks "$TMP/op-jwks.json" \
  --at-ttl "$AT_TTL" --redirect-uri "http://127.0.0.1:$PORT/oauth2/callback" >"$TMP/op.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 150); do grep -q READY "$TMP/op.log" && break; sleep 0.1; done
grep -q READY "$TMP/op.log" || die "the OpenID Provider did not start"

# ---- authgate
cat >"$TMP/gateway.yaml" <<EOF
listen:
  address: 127.0.0.1:$PORT
admin:
  address: 127.0.0.1:$ADMIN_PORT
workers: 2
issuers:
  - name: bench
    issuer: https://idp.bench.test
    audiences: [bench-api]
    jwks_file: $TMP/tokens/jwks.json
  - name: op
    issuer: http://127.0.0.1:$OP_PORT
    audiences: [https://orders.test]
sessions:
  client:
    issuer: op
    client_id: authgate
    client_secret_env: SOAK_OP_SECRET
    scopes: [openid, profile, email, offline_access, orders:read]
    resource: https://orders.test
  public_url: http://127.0.0.1:$PORT
  cookie: {secure: false}
  cookie_secret_env: SOAK_COOKIE_SECRET
  refresh_before_expiry: $REFRESH_BEFORE
upstreams:
  - name: up
    url: http://127.0.0.1:$UP_PORT
routes:
  - name: api
    match: {path: {prefix: /api}}
    upstream: up
    auth: bearer
    issuers: [bench]
  - name: app
    match: {path: {prefix: /app}}
    upstream: up
    auth: session
log:
  level: warn
  access: $TMP/access.log
EOF
SOAK_OP_SECRET=$OP_SECRET SOAK_COOKIE_SECRET=$COOKIE_SECRET "$AUTHGATE" --config "$TMP/gateway.yaml" \
  >"$TMP/authgate.out" 2>"$TMP/authgate.err" &
AG_PID=$!
PIDS+=($AG_PID)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null || die "authgate is not ready"

# login N: a headless code-flow login with curl; prints the session cookie value.
login() {
  local jar="$TMP/jar.$1" code
  code=$(curl -s -o /dev/null -w '%{http_code}' -L --max-redirs 10 --max-time 20 -c "$jar" -b "$jar" \
    -H 'Accept: text/html' "http://127.0.0.1:$PORT/app/login-$1") || return 1
  [[ $code == 200 ]] || return 1
  awk '$6 == "authgate" { print $7 }' "$jar"
}
: >"$TMP/cookies"
for i in $(seq "$SESSIONS"); do
  c=$(login "s$i") || die "login $i failed"
  [[ -n $c ]] || die "login $i gave no session cookie"
  echo "$c" >>"$TMP/cookies"
done
log "$SESSIONS sessions logged in; $(wc -l <"$TMP/bearer.tokens") bearer tokens; running ${DURATION}s"

metrics() { curl -fs --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics"; }
# metric_sum NAME [LABEL_REGEX]: the sum of every sample of NAME whose labels match.
metric_sum() {
  metrics | awk -v n="$1" -v re="${2:-}" '
    $1 ~ "^"n"([{]|$)" && (re == "" || $1 ~ re) { s += $2 } END { printf "%d", s }'
}
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

printf 'elapsed_s\tvm_rss_kib\tvm_hwm_kib\tfds\tconnections_active\trefresh_success\trefresh_other\tlogin\n' >"$TMP/samples.tsv"
sample() {  # sample ELAPSED LOGIN_RESULT
  local fds
  fds=$(ls "/proc/$AG_PID/fd" | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$(status_kib "$AG_PID" VmRSS)" "$(status_kib "$AG_PID" VmHWM)" \
    "$fds" "$(metric_sum authgate_connections_active)" \
    "$(metric_sum authgate_refresh_grants_total 'result="success"')" \
    "$(metric_sum authgate_refresh_grants_total 'result="[^s]')" "$2" >>"$TMP/samples.tsv"
  log "sample: $(tail -n 1 "$TMP/samples.tsv" | tr '\t' ' ')"
}

START=$(date +%s)
sample 0 -
wrk -t1 -c"$BEARER_CONNS" -d"${DURATION}s" --timeout 10s -s "$HERE/soak.lua" \
  "http://127.0.0.1:$PORT/api/soak" -- bearer "$TMP/bearer.tokens" "$BEARER_DELAY_MS" >"$TMP/wrk-bearer.txt" 2>&1 &
WRK_B=$!
PIDS+=($WRK_B)
wrk -t1 -c"$SESSION_CONNS" -d"${DURATION}s" --timeout 10s -s "$HERE/soak.lua" \
  "http://127.0.0.1:$PORT/app/soak" -- cookie "$TMP/cookies" "$SESSION_DELAY_MS" >"$TMP/wrk-session.txt" 2>&1 &
WRK_S=$!
PIDS+=($WRK_S)

n=0
while :; do
  n=$((n + 1))
  next=$((START + n * SAMPLE_EVERY))
  (( next > START + DURATION )) && break
  while (( $(date +%s) < next )); do sleep 1; done
  if c=$(login "m$n") && [[ -n $c ]]; then res=ok; else res=failed; fi
  sample $(( $(date +%s) - START )) "$res"
done
wait "$WRK_B" || true
wait "$WRK_S" || true
sleep 2  # let the last connections close
sample $(( $(date +%s) - START )) -

metrics >"$TMP/metrics.txt"
mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/soak-$(date -u +%Y%m%d-%H%M%S).md"
python3 - "$TMP" "$CMDLINE" >"$REPORT" <<'PY'
import re, sys
tmp, cmd = sys.argv[1], sys.argv[2]
def wrk(name):
    t = open(f"{tmp}/wrk-{name}.txt").read()
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", t)
    req = int(m.group(1)) if m else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
    sock = sum(int(x) for x in sock.groups()) if sock else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    non2xx = int(non2xx.group(1)) if non2xx else 0
    rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
    return req, sock, non2xx, float(rps.group(1)) if rps else 0.0, t
rows = [l.rstrip("\n").split("\t") for l in open(f"{tmp}/samples.tsv")]
metrics = open(f"{tmp}/metrics.txt").read()
def series(name):
    out = []
    for line in metrics.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            k, v = line.rsplit(" ", 1)
            out.append((k[len(name):] or "{}", float(v)))
    return out
print("# Soak run\n")
print(f"Command: `{cmd}`\n")
print("## Samples (authgate process)\n")
print("| " + " | ".join(rows[0]) + " |")
print("|" + "---|" * len(rows[0]))
for r in rows[1:]:
    print("| " + " | ".join(r) + " |")
first, last = rows[1], rows[-1]
after1 = rows[2] if len(rows) > 3 else first
print()
print(f"- RSS start {first[1]} KiB, after the first sample {after1[1]} KiB, end {last[1]} KiB "
      f"(end - first-minute sample: {int(last[1]) - int(after1[1]):+d} KiB)")
print(f"- open fds start {first[3]}, end {last[3]}")
print()
print("## Traffic\n")
print("| stream | requests | req/s | socket errors | non-2xx |")
print("|---|---|---|---|---|")
total_err = 0
for name in ("bearer", "session"):
    req, sock, non2xx, rps, _ = wrk(name)
    total_err += sock + non2xx
    print(f"| {name} | {req} | {rps:.0f} | {sock} | {non2xx} |")
print()
print("## authgate metrics at the end\n")
for name in ("authgate_http_requests_total", "authgate_refresh_grants_total", "authgate_logins_total",
             "authgate_auth_decisions_total", "authgate_upstream_errors_total", "authgate_log_write_errors_total",
             "authgate_sessions_active", "authgate_timeouts_total"):
    for k, v in series(name):
        if v:
            print(f"- `{name}{k}` {v:g}")
print()
print(f"Errors in total: {total_err}")
PY
cat "$REPORT"
log "report: $REPORT"
errors=$(awk '/^Errors in total:/ { print $4 }' "$REPORT")
[[ $errors == 0 ]] || { log "$errors failed requests"; exit 1; }
