#!/usr/bin/env bash
# The container image, run for real (issue 17): builds it (scripts/image.sh), starts
# docker-compose.yml with podman (scripts/image_stack.py: authgate with config/compose.yaml
# mounted as the compose file does, the demo API, the OpenID Provider, Redis and Prometheus, in
# one pod that publishes the compose file's ports on 127.0.0.1; Grafana is not run), then checks:
#   image     runtime only: no compiler, no source, binary without debug info, size over the
#             base <= 150 MB; `authgate --version` prints the commit of the checkout (HEAD);
#             the CA bundle (OpenSSL's default verify paths) is present; HEALTHCHECK and
#             STOPSIGNAL are in the image config;
#   running   the process runs as the non-root uid 10001; the HEALTHCHECK command passes;
#             /readyz is ready (issuer keys fetched from the provider container, Redis reached);
#             /metrics serves authgate_ series; a public route is proxied to the demo API
#             container; the bearer route answers 401 without a token and 200 with a JWT from
#             the provider (client_credentials) and with an HS256 token of the "demo" issuer;
#             a browser login (curl following the redirects with a cookie jar, the provider's
#             headless login, as scripts/demo.sh prints) reaches /app with the session's token;
#             Prometheus scrapes authgate (target up, an authgate_ series, the alert rules loaded);
#   drain     SIGTERM (podman stop) while a slow upload is in flight: the upload still gets its
#             200, the process exits 0, within timeouts.drain.
# Every container is removed on every exit path (trap), and every wait is bounded.
#
#   scripts/test-image.sh                     # prebuilt: the plain build's binary in the runtime stage (CI)
#   IMAGE_MODE=full scripts/test-image.sh     # the Dockerfile's multi-stage build first (10-20 min)
#   IMAGE_MODE=none IMAGE=x scripts/test-image.sh   # an image already built
#
# Needs root (podman with runc; scripts/install-deps.sh test installs it) and 127.0.0.1 ports
# 8080, 9901, 4100 and 9090 free (the compose file publishes them; the browser login's redirect URI
# names 8080). Without podman it skips (exit 0) unless CI is set (.ci/run), where it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
image=${IMAGE:-authgate:dev}
mode=${IMAGE_MODE:-prebuilt}
build_dir=${BUILD_DIR:-build}
start_all=$SECONDS

if ! command -v podman >/dev/null && ! scripts/install-deps.sh test >/dev/null 2>&1; then
  if [[ -n ${CI:-} ]]; then
    echo "test-image: FAILED: podman is missing (scripts/install-deps.sh test installs it, as root)" >&2
    exit 1
  fi
  echo "test-image: SKIPPED: podman is missing (scripts/install-deps.sh test installs it, as root)"
  exit 0
fi

pod=authgate-image-test-$$
tmp=$(mktemp -d)
cleanup() {
  local rc=$?
  if ((rc != 0)) && podman pod exists "$pod" 2>/dev/null; then
    echo "--- authgate's log (last 40 lines)"
    timeout 20 podman logs --tail 40 "$pod-authgate" 2>&1 | cut -c1-400 || true
    echo "--- oidc-provider's log (last 10 lines)"
    timeout 20 podman logs --tail 10 "$pod-oidc-provider" 2>&1 | cut -c1-400 || true
  fi
  timeout 60 scripts/image_stack.py down --pod "$pod" >/dev/null 2>&1 || true
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# image_step ARGS...: scripts/image.sh ARGS, showing its summary lines (its whole log's end
# when it fails).
image_step() {
  local rc=0
  IMAGE=$image BUILD_DIR=$build_dir scripts/image.sh "$@" >"$tmp/image.log" 2>&1 || rc=$?
  grep -E '^image:|^authgate ' "$tmp/image.log" || true
  if ((rc != 0)); then
    tail -n 30 "$tmp/image.log"
    echo "test-image: FAILED: scripts/image.sh $* (exit $rc)" >&2
    exit 1
  fi
}
[[ $mode == none ]] || image_step "$mode"
image_step stack
source scripts/lib/podman.sh
podman_setup "$(cd "$repo" && realpath -m "$build_dir/podman")"   # BUILD_DIR may be absolute

failures=0
pass() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
# check "what" command...: one check; its command's last output line (the measured figure) is
# shown after "ok", all of its output on failure.
check() {
  local what=$1 out
  shift
  if out=$("$@" 2>&1); then
    pass "$what${out:+: $(tail -n 1 <<<"$out" | cut -c1-200)}"
  else
    fail "$what"
    sed 's/^/      /' <<<"$out" | head -n 20
  fi
}
# --no-healthcheck: podman schedules healthchecks through systemd timers, absent here (the
# stack's containers log that once; the check below runs the HEALTHCHECK command itself).
# --user 0: the checks look into every directory (the image's own user is checked below).
in_image() { timeout 60 podman run --rm --no-healthcheck --user 0 --entrypoint /bin/sh "$image" -c "$1"; }

# ---- the image itself -----------------------------------------------------------------------
echo "=== image $image"
check "no compiler or build tool in the image" \
  in_image 'found=; for c in cc gcc g++ c++ clang cmake ninja make ld as; do command -v $c && found=1; done; [ -z "$found" ]'
check "no source in the image (no /src, no C++ file, no CMakeLists.txt)" \
  in_image '[ ! -e /src ] && [ -z "$(find / -xdev \( -name "*.cpp" -o -name "*.hpp" -o -name CMakeLists.txt \) -print -quit)" ]'
check "CA bundle present (OpenSSL's default verify paths: /usr/lib/ssl/certs -> /etc/ssl/certs)" \
  in_image 'n=$(grep -c "BEGIN CERTIFICATE" /usr/lib/ssl/certs/ca-certificates.crt) && echo "$n certificates" && [ "$n" -ge 100 ]'
binary_without_debug_info() {
  local ctr
  ctr=$(podman create --no-healthcheck "$image")
  podman cp "$ctr:/usr/local/bin/authgate" "$tmp/authgate" >/dev/null
  podman rm "$ctr" >/dev/null
  ! readelf -S --wide "$tmp/authgate" | grep -E '\.debug_' || return 1
  echo "$(stat -c %s "$tmp/authgate") bytes, sections: $(readelf -S --wide "$tmp/authgate" | grep -c '^ *\[')"
}
check "binary without debug info (no .debug_* section)" binary_without_debug_info
version_is_head() {
  local out head
  out=$(timeout 30 podman run --rm --no-healthcheck --entrypoint /usr/local/bin/authgate "$image" --version)
  head=$(git rev-parse HEAD)
  echo "$out (HEAD $head)"
  [[ $out =~ ^authgate\ [^\ ]+\ \(commit\ $head(-dirty)?\)$ ]]
}
check "authgate --version prints the commit of HEAD" version_is_head
size_over_base() {
  local img base
  img=$(podman image inspect --format '{{.Size}}' "$image")
  base=$(podman image inspect --format '{{.Size}}' debian:bookworm-slim)
  echo "image $((img / 1000000)) MB, base $((base / 1000000)) MB, over the base $(((img - base) / 1000000)) MB"
  ((img - base <= 150000000))
}
check "image size over the base <= 150 MB" size_over_base
image_config() {
  podman image inspect --format '{{.Config.User}} {{.Config.StopSignal}} {{json .Config.Healthcheck.Test}}' "$image"
  [[ $(podman image inspect --format '{{.Config.User}}|{{.Config.StopSignal}}|{{index .Config.Healthcheck.Test 0}}' "$image") == "authgate:authgate|SIGTERM|CMD" ]]
}
check "image config: USER authgate, STOPSIGNAL SIGTERM, HEALTHCHECK" image_config

# ---- the stack --------------------------------------------------------------------------------
echo "=== stack (docker-compose.yml's core services, pod $pod)"
busy=$(ss -Hltn | awk '{print $4}' | grep -E '^(127\.0\.0\.1|0\.0\.0\.0|\*|\[::\]):(8080|9901|4100|9090)$' || true)
if [[ -n $busy ]]; then
  echo "test-image: FAILED: the compose file's host ports are taken: $busy" >&2
  exit 1
fi
timeout 120 scripts/image_stack.py up --pod "$pod" --image "$image" >"$tmp/up.log" 2>&1 ||
  { cat "$tmp/up.log"; echo "test-image: FAILED: the stack did not start" >&2; exit 1; }
gw=http://127.0.0.1:8080
admin=http://127.0.0.1:9901
op=http://127.0.0.1:4100
prom=http://127.0.0.1:9090

ready() {
  local deadline=$((SECONDS + 60)) body=
  while ((SECONDS < deadline)); do
    body=$(curl -s --max-time 2 "$admin/readyz" || true)
    [[ $body == *'"status":"ready"'* ]] && { echo "$body after $((SECONDS - stack_start)) s"; return 0; }
    sleep 0.5
  done
  echo "last /readyz: ${body:-no answer}"
  return 1
}
stack_start=$SECONDS
check "/readyz ready (provider keys fetched, Redis reached)" ready
uid_non_root() {
  local ids
  ids=$(podman exec "$pod-authgate" grep -E '^(Uid|Gid):' /proc/1/status | tr -s '\t\n' '  ')
  echo "pid 1: $ids"
  grep -qE 'Uid: 10001 10001 10001 10001 ' <<<"$ids"
}
check "authgate runs as the non-root uid 10001" uid_non_root
check "HEALTHCHECK command passes (podman healthcheck run)" timeout 30 podman healthcheck run "$pod-authgate"
metrics() {
  local n
  n=$(curl -s --max-time 5 "$admin/metrics" | grep -c '^authgate_')
  echo "$n authgate_ samples"
  ((n > 0))
}
check "/metrics serves authgate_ series" metrics

# status BODY-FILE URL curl-args...: prints the HTTP status.
status() {
  local out=$1 url=$2
  shift 2
  curl -s --max-time 10 -o "$out" -w '%{http_code}' "$@" "$url"
}
proxied() {
  local code
  code=$(status "$tmp/public.json" "$gw/public/hello")
  cat "$tmp/public.json"
  echo "status $code from $(grep -o '"service": "[^"]*"' "$tmp/public.json")"
  [[ $code == 200 ]] && grep -q '"service": "demo-api"' "$tmp/public.json"
}
check "a public route is proxied to the demo API container" proxied
no_token() { local c; c=$(status /dev/null "$gw/api/orders"); echo "status $c"; [[ $c == 401 ]]; }
check "bearer route without a token: 401" no_token
op_jwt() {
  local jwt c
  jwt=$(curl -s --max-time 10 -u orders-cli:demo-cli-secret -d grant_type=client_credentials -d scope=orders:read \
    -d resource=https://orders.test "$op/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  c=$(status "$tmp/api.json" "$gw/api/orders" -H "Authorization: Bearer $jwt")
  cat "$tmp/api.json"
  echo "status $c, the API sees $(grep -o '"X-User-Id": "[^"]*"' "$tmp/api.json")"
  [[ $c == 200 ]] && grep -q '"X-User-Id": "orders-cli"' "$tmp/api.json"
}
check "bearer route with the provider's JWT: 200" op_jwt
demo_jwt() {
  local jwt c
  jwt=$(AUTHGATE_DEMO_SECRET=demo-only-hs256-secret-change-me-0123456789 python3 scripts/mint_demo_token.py alice orders:read)
  c=$(status "$tmp/api.json" "$gw/api/orders" -H "Authorization: Bearer $jwt")
  echo "status $c"
  [[ $c == 200 ]]
}
check "bearer route with an HS256 token of the demo issuer: 200" demo_jwt
browser_login() {
  local c
  # The provider's issuer is http://oidc-provider:4100: the browser resolves that name to the
  # published port (what "127.0.0.1 oidc-provider" in /etc/hosts does for a real browser).
  c=$(status "$tmp/app.json" "$gw/app/hello" -L --max-redirs 15 -c "$tmp/jar" -b "$tmp/jar" \
    --resolve oidc-provider:4100:127.0.0.1 -H 'Accept: text/html')
  cat "$tmp/app.json"
  echo "status $c, the API sees $(grep -o '"X-User-Id": "[^"]*"' "$tmp/app.json") and $(grep -o '"Authorization": "Bearer' "$tmp/app.json")..."
  [[ $c == 200 ]] && grep -q '"X-User-Id": "alice"' "$tmp/app.json" && grep -q '"Authorization": "Bearer ' "$tmp/app.json"
}
check "browser login through the stack reaches /app with the session's token" browser_login

prometheus_scrapes() {
  # The first scrape comes within one scrape_interval (15 s) of Prometheus' start.
  local deadline=$((SECONDS + 45)) q=
  while ((SECONDS < deadline)); do
    q=$(curl -s --max-time 5 "$prom/api/v1/query?query=authgate_build_info" || true)
    if [[ $q == *'"result":[{'* ]]; then
      echo "after $((SECONDS - stack_start)) s: ${q:0:300}"
      curl -s --max-time 5 "$prom/api/v1/targets" | python3 -c '
import json, sys
t = [a for a in json.load(sys.stdin)["data"]["activeTargets"] if a["labels"]["job"] == "authgate"]
print("targets:", [(a["scrapeUrl"], a["health"]) for a in t])
sys.exit(0 if t and all(a["health"] == "up" for a in t) else 1)' || return 1
      curl -s --max-time 5 "$prom/api/v1/rules" | python3 -c '
import json, sys
rules = [r["name"] for g in json.load(sys.stdin)["data"]["groups"] for r in g["rules"]]
print(len(rules), "alert rules loaded:", ", ".join(rules))
sys.exit(0 if rules else 1)' || return 1
      return 0
    fi
    sleep 1
  done
  echo "no authgate_build_info series: ${q:-no answer}"
  return 1
}
check "Prometheus scrapes authgate (target up, authgate_ series, alert rules loaded)" prometheus_scrapes

# ---- drain ------------------------------------------------------------------------------------
echo "=== drain"
# timeouts.drain of the mounted config (the README's default when it sets none).
drain=$(python3 -c '
import re, sys, yaml
v = str(((yaml.safe_load(open(sys.argv[1])) or {}).get("timeouts") or {}).get("drain", "20s"))
m = re.fullmatch(r"(\d+)(ms|s|m)", v)
print({"ms": 0.001, "s": 1, "m": 60}[m[2]] * int(m[1]))' config/compose.yaml)
sigterm_drains() {
  local t0 t1 code upload_pid ms
  # An upload of 192 KiB at 64 KiB/s: in flight for about 3 s when SIGTERM arrives.
  head -c 196608 /dev/zero >"$tmp/body"
  curl -s --max-time 30 --limit-rate 64K -o "$tmp/upload.json" -w '%{http_code}' \
    -H 'Content-Type: application/octet-stream' --data-binary @"$tmp/body" "$gw/public/upload" >"$tmp/upload.code" &
  upload_pid=$!
  sleep 1
  t0=$(date +%s%N)
  timeout $((${drain%.*} + 30)) podman stop -t $((${drain%.*} + 10)) "$pod-authgate" >/dev/null
  t1=$(date +%s%N)
  wait "$upload_pid" || true
  ms=$(((t1 - t0) / 1000000))
  code=$(podman inspect --format '{{.State.ExitCode}}' "$pod-authgate")
  echo "stopped in $ms ms (timeouts.drain ${drain} s), exit code $code, in-flight upload: status $(cat "$tmp/upload.code"), $(grep -o '"body_bytes": [0-9]*' "$tmp/upload.json" || echo 'no body')"
  [[ $code == 0 ]] && [[ $(cat "$tmp/upload.code") == 200 ]] && grep -q '"body_bytes": 196608' "$tmp/upload.json" &&
    awk -v ms="$ms" -v d="$drain" 'BEGIN { exit !(ms <= d * 1000) }'
}
check "SIGTERM drains the in-flight request and exits 0 within timeouts.drain" sigterm_drains

echo "test-image: $failures failure(s), $((SECONDS - start_all)) s"
((failures == 0))
