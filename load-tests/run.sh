#!/usr/bin/env bash
# authgate benchmarks against peers on the same upstream, pinned, alternating, medians over rounds.
#
# Plain mode (the foundation benchmark): authgate vs nginx as a plain reverse proxy.
#   load-tests/run.sh                      # 5 rounds x 10 s per target (~2 min)
#   DURATION=3 ROUNDS=1 load-tests/run.sh  # quick smoke run
#   TARGETS=nginx load-tests/run.sh        # baseline only (does not need/build authgate)
#
# Bearer mode: authgate checking JWTs (one token / a pool of distinct tokens with the token
# cache off) vs plain nginx and vs HAProxy's jwt_verify, RS256 and ES256.
#   MODE=bearer load-tests/run.sh                              # 7 targets x 5 rounds x 10 s (~8 min)
#   MODE=bearer DURATION=2 ROUNDS=1 WARMUP=0 load-tests/run.sh # smoke run
#   TARGETS="haproxy-es256 authgate-es256-distinct" load-tests/run.sh
#
# Knobs (environment):
#   MODE            plain | bearer: picks the default TARGETS and the report name
#                   (default: bearer when TARGETS names a bearer target, else plain)
#   DURATION=10     seconds per measured wrk run
#   ROUNDS=5        rounds; targets alternate inside each round
#   WARMUP=3        seconds of unrecorded warm-up per target before round 1 (0 = none)
#   TARGETS         plain default "authgate nginx" (authgate-nolog: the same with the access
#                   log off, for the log's cost); bearer default "nginx authgate-rs256-one
#                   authgate-es256-one authgate-rs256-distinct haproxy-rs256 authgate-es256-distinct
#                   haproxy-es256"; any mix of these names is allowed
#   CONNECTIONS=32  THREADS=1   wrk -c / -t
#   PROXY_CPU=0     LOAD_CPU=1  cpus for the proxies / for wrk + upstream
#   AUTHGATE_BIN    use this binary instead of build/gateway/authgate (no build)
#   AUTHGATE_CONFIG_ARG  how the config path is passed: "--config" (default when
#                   `authgate --help` mentions it), "-c", or "" for positional
#   TOKENS=20000    bearer: size of the token pool cycled by the *-distinct and haproxy-* targets
#   DISTINCT_CACHE_OFF=auto  bearer: add `limits: {token_cache_entries: 0}` to the config of the
#                   authgate-*-distinct targets: auto = when `authgate --check-config` accepts it,
#                   1 = always (abort if rejected), 0 = never
#   MINT_TOKENS_BIN bearer: the token minter (default build/tests/mint_tokens, built if missing)
#   KEEP_TMP=1      keep the temp dir (configs, logs, raw wrk output, tokens)
#   MAX_SECONDS     watchdog (default: computed from the knobs); abort + clean up after it
#
# Loopback only: every listener and every URL is 127.0.0.1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/load-tests"
OUT_DIR="$HERE/out"

log() { printf '[run.sh] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

PLAIN_TARGETS="authgate nginx"
BEARER_TARGETS="nginx authgate-rs256-one authgate-es256-one authgate-rs256-distinct haproxy-rs256 authgate-es256-distinct haproxy-es256"
KNOWN_TARGETS="authgate authgate-nolog nginx authgate-rs256-one authgate-es256-one authgate-rs256-distinct authgate-es256-distinct haproxy-rs256 haproxy-es256"

MODE_SET=${MODE:-}
case $MODE_SET in
  "") ;;
  plain) TARGETS=${TARGETS:-$PLAIN_TARGETS} ;;
  bearer) TARGETS=${TARGETS:-$BEARER_TARGETS} ;;
  *) die "MODE must be plain or bearer, not '$MODE_SET'" ;;
esac
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-5}
WARMUP=${WARMUP:-3}
TARGETS=${TARGETS:-$PLAIN_TARGETS}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
TOKENS=${TOKENS:-20000}
DISTINCT_CACHE_OFF=${DISTINCT_CACHE_OFF:-auto}

UPSTREAM_PORT=18081
AUTHGATE_PORT=18080
AUTHGATE_ADMIN_PORT=18901
NGINX_PORT=18082
AG_ONE_PORT=18083          # authgate, bearer route, default token cache   (authgate-*-one)
AG_ONE_ADMIN_PORT=18902
AG_DISTINCT_PORT=18084     # authgate, bearer route, cache off if possible (authgate-*-distinct)
AG_DISTINCT_ADMIN_PORT=18903
HAPROXY_RS256_PORT=18085   # haproxy frontends with jwt_verify
HAPROXY_ES256_PORT=18086
AG_NOLOG_PORT=18087        # authgate-nolog: as authgate, with the access log off
AG_NOLOG_ADMIN_PORT=18904

for v in DURATION ROUNDS WARMUP CONNECTIONS THREADS PROXY_CPU LOAD_CPU TOKENS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, not '${!v}'"
done
(( DURATION >= 1 && ROUNDS >= 1 && TOKENS >= 1 )) || die "DURATION, ROUNDS and TOKENS must be >= 1"
[[ $DISTINCT_CACHE_OFF == auto || $DISTINCT_CACHE_OFF == 0 || $DISTINCT_CACHE_OFF == 1 ]] ||
  die "DISTINCT_CACHE_OFF must be auto, 0 or 1, not '$DISTINCT_CACHE_OFF'"
[[ -n ${TARGETS// /} ]] || die "TARGETS is empty"
declare -A SEEN=()
for t in $TARGETS; do
  [[ " $KNOWN_TARGETS " == *" $t "* ]] || die "unknown target '$t' (TARGETS may contain: $KNOWN_TARGETS)"
  [[ -z ${SEEN[$t]:-} ]] || die "target '$t' is listed twice"
  SEEN[$t]=1
done

# target -> the process that serves it, and the token algorithm it uses
proc_of() {
  case $1 in
    authgate | authgate-nolog | nginx) echo "$1" ;;
    authgate-*-one) echo authgate-one ;;
    authgate-*-distinct) echo authgate-distinct ;;
    haproxy-*) echo haproxy ;;
  esac
}
alg_of() {
  case $1 in
    *rs256*) echo rs256 ;;
    *es256*) echo es256 ;;
    *) echo "" ;;
  esac
}
has_proc() {  # has_proc NAME: some target is served by process NAME
  local t
  for t in $TARGETS; do [[ $(proc_of "$t") == "$1" ]] && return 0; done
  return 1
}
BEARER=0
for t in $TARGETS; do [[ -n $(alg_of "$t") ]] && BEARER=1; done
[[ $MODE_SET == plain && $BEARER == 1 ]] && die "MODE=plain, but TARGETS has bearer targets: $TARGETS"
MODE=${MODE_SET:-$( ((BEARER)) && echo bearer || echo plain)}
NEED_AUTHGATE=0
for t in $TARGETS; do [[ $t == authgate* ]] && NEED_AUTHGATE=1; done

# The exact command line, with every knob spelled out so it can be re-run as is.
CMDLINE=""
[[ $MODE == bearer ]] && CMDLINE+="MODE=bearer "
CMDLINE+="DURATION=$DURATION ROUNDS=$ROUNDS WARMUP=$WARMUP TARGETS=\"$TARGETS\" CONNECTIONS=$CONNECTIONS THREADS=$THREADS PROXY_CPU=$PROXY_CPU LOAD_CPU=$LOAD_CPU"
(( BEARER )) && CMDLINE+=" TOKENS=$TOKENS DISTINCT_CACHE_OFF=$DISTINCT_CACHE_OFF"
[[ -n ${AUTHGATE_BIN:-} ]] && CMDLINE+=" AUTHGATE_BIN=$AUTHGATE_BIN"
[[ -n ${AUTHGATE_CONFIG_ARG+x} ]] && CMDLINE+=" AUTHGATE_CONFIG_ARG=\"$AUTHGATE_CONFIG_ARG\""
(( BEARER )) && [[ -n ${MINT_TOKENS_BIN:-} ]] && CMDLINE+=" MINT_TOKENS_BIN=$MINT_TOKENS_BIN"
CMDLINE+=" $0"
(( $# )) && CMDLINE+=" $*"

# ---------------------------------------------------------------- 1. tools
need_pkgs=()
command -v nginx   >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need_pkgs+=(nginx-light)
command -v wrk     >/dev/null 2>&1 || need_pkgs+=(wrk)
command -v taskset >/dev/null 2>&1 || need_pkgs+=(util-linux)
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3)
command -v getconf >/dev/null 2>&1 || need_pkgs+=(libc-bin)
command -v timeout >/dev/null 2>&1 || need_pkgs+=(coreutils)
if has_proc haproxy; then
  command -v haproxy >/dev/null 2>&1 || [[ -x /usr/sbin/haproxy ]] || need_pkgs+=(haproxy)
fi
if (( BEARER )); then
  command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
fi
if (( ${#need_pkgs[@]} )); then
  (( EUID == 0 )) || die "missing ${need_pkgs[*]}; run as root or install them"
  log "installing: ${need_pkgs[*]}"
  # Keep the packages' own nginx / haproxy services (nginx listens on 0.0.0.0:80) from starting.
  made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  rc=0
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${need_pkgs[@]}"; } || rc=$?
  (( made_policy )) && rm -f /usr/sbin/policy-rc.d
  (( rc == 0 )) || die "apt-get install failed"
  # ... and keep them off across reboots (same as scripts/install-deps.sh).
  for svc in nginx haproxy; do
    [[ " ${need_pkgs[*]} " == *" $svc"* ]] || continue
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
      systemctl disable --now "$svc" >/dev/null 2>&1 || true
    elif [[ -x /etc/init.d/$svc ]]; then
      /etc/init.d/"$svc" stop >/dev/null 2>&1 || true
      if command -v update-rc.d >/dev/null; then update-rc.d "$svc" disable >/dev/null 2>&1 || true; fi
    fi
  done
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)
(( PROXY_CPU < NCPU && LOAD_CPU < NCPU )) || die "PROXY_CPU/LOAD_CPU must be < $NCPU (cpus online)"
(( PROXY_CPU != LOAD_CPU )) || log "WARNING: PROXY_CPU == LOAD_CPU; proxy and load generator share a core"

# ---------------------------------------------------------------- 2. binaries (authgate, mint_tokens)
build_targets() {  # build_targets NINJA_TARGET...: configure if needed, build under the build lock
  { command -v cmake >/dev/null && command -v ninja >/dev/null; } ||
    die "cmake/ninja are not installed; cannot build $*"
  log "building $* (under /tmp/authgate-build.lock) ..."
  (
    cd "$ROOT"
    exec 9>/tmp/authgate-build.lock
    flock -w 1200 9 || { echo "could not take /tmp/authgate-build.lock" >&2; exit 1; }
    [[ -f build/build.ninja ]] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
    ninja -C build "$@"
  ) >&2 || die "build of $* failed"
}

AUTHGATE=""
if (( NEED_AUTHGATE )); then
  if [[ -n ${AUTHGATE_BIN:-} ]]; then
    AUTHGATE=$AUTHGATE_BIN
    [[ -x $AUTHGATE ]] || die "AUTHGATE_BIN=$AUTHGATE is not an executable file"
  else
    AUTHGATE="$ROOT/build/gateway/authgate"
    [[ -x $AUTHGATE ]] || build_targets authgate
  fi
fi
MINT=""
if (( BEARER )); then
  if [[ -n ${MINT_TOKENS_BIN:-} ]]; then
    MINT=$MINT_TOKENS_BIN
    [[ -x $MINT ]] || die "MINT_TOKENS_BIN=$MINT is not an executable file"
  else
    MINT="$ROOT/build/tests/mint_tokens"
    [[ -x $MINT ]] || build_targets mint_tokens
    [[ -x $MINT ]] || die "$MINT was not built (is build/ configured with AUTHGATE_BUILD_TESTS=OFF?)"
  fi
fi

# Hold the build lock while measuring: compiles on this 2-core machine would
# otherwise steal the CPUs the targets are pinned to. (Scripts that build take it too.)
exec 8>/tmp/authgate-build.lock
flock -w 1200 8 || die "could not take /tmp/authgate-build.lock (a build is running)"

# ---------------------------------------------------------------- temp dir, cleanup, watchdog
TMP=$(mktemp -d /tmp/authgate-bench.XXXXXX)
chmod 755 "$TMP"
PIDS=()          # everything we started, killed in reverse order on exit
WATCHDOG=""
declare -A PID_OF=()

stop_pid() {  # TERM, wait up to 5 s, then KILL; only our own pids
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "pid $pid did not stop after TERM; sending KILL"
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  if [[ -n $WATCHDOG ]]; then kill "$WATCHDOG" 2>/dev/null || true; fi
  [[ -n ${WRK_PID:-} ]] && stop_pid "$WRK_PID"
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
  wait 2>/dev/null || true
  if (( rc != 0 )); then
    for f in "$TMP"/*.err "$TMP"/*error.log; do
      [[ -s $f ]] || continue
      log "---- tail of $(basename "$f")"; tail -n 20 "$f" >&2
    done
  fi
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated (watchdog or signal)"; exit 143' TERM

ntargets=$(wc -w <<<"$TARGETS")
# bearer: + openssl speed (~4 s), minting (~5 s per 20000 RSA tokens on 2 cores), auth checks
MAX_SECONDS=${MAX_SECONDS:-$(( 60 + BEARER * (60 + TOKENS / 500) + ntargets * (WARMUP + 15) + ROUNDS * ntargets * (DURATION + 15) ))}
(
  trap 'kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null; exit 0' TERM
  sleep "$MAX_SECONDS" & sp=$!
  wait "$sp" && { log "watchdog: run exceeded ${MAX_SECONDS}s, aborting"; kill -TERM $$; }
) </dev/null >&2 &
WATCHDOG=$!

port_free() { ! python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(); s.settimeout(0.3)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
EOF
}

wait_http() {  # wait_http NAME PID URL EXPECT [TOKEN]: up to 15 s for a 200 whose body contains EXPECT
  local name=$1 pid=$2 url=$3 expect=$4 token=${5:-} i
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || die "$name exited during startup"
    if python3 - "$url" "$expect" "$token" <<'EOF' 2>/dev/null
import sys, urllib.request
req = urllib.request.Request(sys.argv[1])
if sys.argv[3]:
    req.add_header("Authorization", "Bearer " + sys.argv[3])
with urllib.request.urlopen(req, timeout=1) as r:
    sys.exit(0 if r.status == 200 and sys.argv[2].encode() in r.read() else 1)
EOF
    then return 0; fi
    sleep 0.1
  done
  die "$name did not answer 200 with '$expect' on $url within 15 s"
}

used_ports=("$UPSTREAM_PORT")
has_proc authgate && used_ports+=("$AUTHGATE_PORT" "$AUTHGATE_ADMIN_PORT")
has_proc authgate-nolog && used_ports+=("$AG_NOLOG_PORT" "$AG_NOLOG_ADMIN_PORT")
has_proc nginx && used_ports+=("$NGINX_PORT")
has_proc authgate-one && used_ports+=("$AG_ONE_PORT" "$AG_ONE_ADMIN_PORT")
has_proc authgate-distinct && used_ports+=("$AG_DISTINCT_PORT" "$AG_DISTINCT_ADMIN_PORT")
has_proc haproxy && used_ports+=("$HAPROXY_RS256_PORT" "$HAPROXY_ES256_PORT")
for p in "${used_ports[@]}"; do
  port_free "$p" || die "127.0.0.1:$p is already in use (another benchmark running?)"
done

# ---------------------------------------------------------------- 2b. bearer: verify cost, keys, tokens
TOKDIR="$TMP/tokens"
ISSUER=https://idp.bench.test
AUDIENCE=bench-api
if (( BEARER )); then
  # The price of one signature check on the proxy cpu, before anything else runs there.
  for a in rs256 es256; do
    case $a in rs256) algo=rsa2048 ;; es256) algo=ecdsap256 ;; esac
    log "openssl speed -seconds 1 $algo (cpu $PROXY_CPU)"
    timeout -k 5 60 taskset -c "$PROXY_CPU" openssl speed -seconds 1 "$algo" \
      </dev/null >"$TMP/openssl-speed-$a.txt" 2>&1 || die "openssl speed $algo failed: $(tail -5 "$TMP/openssl-speed-$a.txt")"
  done
  # Tokens must outlive the whole run (the watchdog bounds it).
  TOKEN_TTL=$(( MAX_SECONDS + 600 > 3600 ? MAX_SECONDS + 600 : 3600 ))
  mkdir -p "$TOKDIR"
  log "minting $TOKENS RS256 + $TOKENS ES256 tokens (fresh keys, exp = now + ${TOKEN_TTL}s)"
  timeout -k 5 300 "$MINT" --out "$TOKDIR" --count "$TOKENS" --ttl "$TOKEN_TTL" \
    --issuer "$ISSUER" --audience "$AUDIENCE" </dev/null >"$TMP/mint.err" 2>&1 ||
    die "mint_tokens failed: $(cat "$TMP/mint.err")"
  for a in rs256 es256; do
    [[ $(wc -l <"$TOKDIR/$a.tokens") -eq $TOKENS && -s $TOKDIR/$a.pem && -s $TOKDIR/$a.reject ]] ||
      die "mint_tokens did not write $TOKDIR/$a.{tokens,pem,reject}"
  done
fi
first_token() { head -n 1 "$TOKDIR/$1.tokens"; }

# ---------------------------------------------------------------- 3. upstream nginx (cpu LOAD_CPU)
nginx_common() {  # nginx_common NAME -> main-context + temp paths for an instance in $TMP/NAME
  local d="$TMP/$1"
  mkdir -p "$d/tmp"
  cat <<EOF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $TMP/$1-error.log warn;
events { worker_connections 4096; }
EOF
}
nginx_temp_paths() {
  local d="$TMP/$1/tmp"
  cat <<EOF
  client_body_temp_path $d/client_body;
  proxy_temp_path $d/proxy;
  fastcgi_temp_path $d/fastcgi;
  uwsgi_temp_path $d/uwsgi;
  scgi_temp_path $d/scgi;
EOF
}

{
  nginx_common upstream
  cat <<EOF
http {
$(nginx_temp_paths upstream)
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$UPSTREAM_PORT;
    location / { return 200 "hello from upstream\n"; }
  }
}
EOF
} >"$TMP/upstream.conf"

start_nginx() {  # start_nginx NAME CPU
  local name=$1 cpu=$2
  "$NGINX" -t -q -p "$TMP/$name" -e "$TMP/$name-error.log" -c "$TMP/$name.conf" 2>"$TMP/$name.err" ||
    die "nginx config for $name is invalid: $(cat "$TMP/$name.err")"
  taskset -c "$cpu" "$NGINX" -p "$TMP/$name" -e "$TMP/$name-error.log" -c "$TMP/$name.conf" \
    </dev/null >>"$TMP/$name.err" 2>&1 &
  PID_OF[$name]=$!
  PIDS+=("$!")
}

start_nginx upstream "$LOAD_CPU"
wait_http upstream "${PID_OF[upstream]}" "http://127.0.0.1:$UPSTREAM_PORT/" "hello from upstream"
log "upstream nginx up (pid ${PID_OF[upstream]}, cpu $LOAD_CPU)"

# ---------------------------------------------------------------- 4. proxies under test (cpu PROXY_CPU)
# URL, wrk load (LOAD: plain | one | pool) and token algorithm per target; access log per process.
declare -A URL=() LOAD=() ACCESS_LOG=()

AG_HELP=""
authgate_check() {  # authgate_check YAML OUTFILE: `--check-config` if this binary has it (rc of it, else 0)
  grep -q -- '--check-config' <<<"$AG_HELP" || return 0
  "$AUTHGATE" --check-config "$1" >"$2" 2>&1
}
start_authgate() {  # start_authgate NAME: runs $TMP/NAME.yaml on PROXY_CPU
  local name=$1
  if [[ -z ${AUTHGATE_CONFIG_ARG+x} ]]; then
    if grep -q -- '--config' <<<"$AG_HELP"; then AUTHGATE_CONFIG_ARG=--config
    elif grep -qE -- '(^|[[:space:],])-c([[:space:],]|$)' <<<"$AG_HELP"; then AUTHGATE_CONFIG_ARG=-c
    else AUTHGATE_CONFIG_ARG=""; fi
  fi
  local ag_args=()
  [[ -n $AUTHGATE_CONFIG_ARG ]] && ag_args+=("$AUTHGATE_CONFIG_ARG")
  ag_args+=("$TMP/$name.yaml")
  authgate_check "$TMP/$name.yaml" "$TMP/$name-check.err" ||
    die "authgate --check-config rejected the generated config $name.yaml:
$(cat "$TMP/$name-check.err")"
  log "starting: taskset -c $PROXY_CPU $AUTHGATE ${ag_args[*]}"
  taskset -c "$PROXY_CPU" "$AUTHGATE" "${ag_args[@]}" </dev/null >"$TMP/$name.err" 2>&1 &
  PID_OF[$name]=$!
  PIDS+=("$!")
}
[[ -n $AUTHGATE ]] && AG_HELP=$("$AUTHGATE" --help 2>&1 || true)

plain_yaml() {  # plain_yaml PORT ADMIN_PORT ACCESS: the auth: none proxy config
  cat <<EOF
listen:
  address: 127.0.0.1:$1
admin:
  address: 127.0.0.1:$2
workers: 1
upstreams:
  - name: bench
    url: http://127.0.0.1:$UPSTREAM_PORT
    max_idle: 64
routes:
  - {name: bench, match: {path: {prefix: /}}, upstream: bench, auth: none}
log:
  level: warn
  access: $3
EOF
}
if has_proc authgate; then
  ACCESS_LOG[authgate]="$TMP/authgate-access.log"
  plain_yaml "$AUTHGATE_PORT" "$AUTHGATE_ADMIN_PORT" "${ACCESS_LOG[authgate]}" >"$TMP/authgate.yaml"
  start_authgate authgate
  URL[authgate]="http://127.0.0.1:$AUTHGATE_PORT/"
  wait_http authgate "${PID_OF[authgate]}" "${URL[authgate]}" "hello from upstream"
  log "authgate up (pid ${PID_OF[authgate]}, cpu $PROXY_CPU)"
fi
if has_proc authgate-nolog; then
  ACCESS_LOG[authgate-nolog]="$TMP/authgate-nolog-access.log"  # stays empty
  plain_yaml "$AG_NOLOG_PORT" "$AG_NOLOG_ADMIN_PORT" '"off"' >"$TMP/authgate-nolog.yaml"
  start_authgate authgate-nolog
  URL[authgate-nolog]="http://127.0.0.1:$AG_NOLOG_PORT/"
  wait_http authgate-nolog "${PID_OF[authgate-nolog]}" "${URL[authgate-nolog]}" "hello from upstream"
  log "authgate-nolog up (pid ${PID_OF[authgate-nolog]}, cpu $PROXY_CPU; access log off)"
fi

bearer_yaml() {  # bearer_yaml NAME PORT ADMIN_PORT LIMITS_LINE
  ACCESS_LOG[$1]="$TMP/$1-access.log"
  cat <<EOF
listen:
  address: 127.0.0.1:$2
admin:
  address: 127.0.0.1:$3
workers: 1
$4
issuers:
  - name: bench
    issuer: $ISSUER
    audiences: [$AUDIENCE]
    algorithms: [RS256, ES256]
    jwks_file: $TOKDIR/jwks.json
upstreams:
  - name: bench
    url: http://127.0.0.1:$UPSTREAM_PORT
    max_idle: 64
routes:
  - {name: bench, match: {path: {prefix: /}}, upstream: bench, auth: bearer, issuers: [bench]}
log:
  level: warn
  access: ${ACCESS_LOG[$1]}
EOF
}

if has_proc authgate-one; then
  bearer_yaml authgate-one "$AG_ONE_PORT" "$AG_ONE_ADMIN_PORT" "" >"$TMP/authgate-one.yaml"
  start_authgate authgate-one
  wait_http authgate-one "${PID_OF[authgate-one]}" "http://127.0.0.1:$AG_ONE_PORT/" "hello from upstream" \
    "$(first_token rs256)"
  log "authgate-one up (pid ${PID_OF[authgate-one]}, cpu $PROXY_CPU; default token cache)"
fi

CACHE_NOTE=""
if has_proc authgate-distinct; then
  cache_line="limits: {token_cache_entries: 0}"
  use_line=""
  case $DISTINCT_CACHE_OFF in
    1) use_line=$cache_line ;;
    0) CACHE_NOTE="not disabled (DISTINCT_CACHE_OFF=0): default token cache" ;;
    auto)
      bearer_yaml authgate-distinct "$AG_DISTINCT_PORT" "$AG_DISTINCT_ADMIN_PORT" "$cache_line" \
        >"$TMP/authgate-distinct-probe.yaml"
      if ! grep -q -- '--check-config' <<<"$AG_HELP"; then
        CACHE_NOTE="not disabled: this binary has no --check-config to detect token_cache_entries support"
      elif authgate_check "$TMP/authgate-distinct-probe.yaml" "$TMP/authgate-distinct-probe.out"; then
        use_line=$cache_line
      else
        CACHE_NOTE="not disabled: this binary rejects limits.token_cache_entries ($(grep -m1 token_cache "$TMP/authgate-distinct-probe.out" || head -n1 "$TMP/authgate-distinct-probe.out"))"
      fi
      rm -f "$TMP/authgate-distinct-probe.yaml"
      ;;
  esac
  [[ -n $use_line ]] && CACHE_NOTE="disabled: \`$cache_line\`"
  log "authgate-distinct: token cache $CACHE_NOTE"
  bearer_yaml authgate-distinct "$AG_DISTINCT_PORT" "$AG_DISTINCT_ADMIN_PORT" "$use_line" >"$TMP/authgate-distinct.yaml"
  start_authgate authgate-distinct
  wait_http authgate-distinct "${PID_OF[authgate-distinct]}" "http://127.0.0.1:$AG_DISTINCT_PORT/" \
    "hello from upstream" "$(first_token rs256)"
  log "authgate-distinct up (pid ${PID_OF[authgate-distinct]}, cpu $PROXY_CPU)"
fi

for a in rs256 es256; do
  URL[authgate-$a-one]="http://127.0.0.1:$AG_ONE_PORT/"; LOAD[authgate-$a-one]=one
  URL[authgate-$a-distinct]="http://127.0.0.1:$AG_DISTINCT_PORT/"; LOAD[authgate-$a-distinct]=pool
done
URL[haproxy-rs256]="http://127.0.0.1:$HAPROXY_RS256_PORT/"; LOAD[haproxy-rs256]=pool
URL[haproxy-es256]="http://127.0.0.1:$HAPROXY_ES256_PORT/"; LOAD[haproxy-es256]=pool

if has_proc nginx; then
  ACCESS_LOG[nginx]="$TMP/nginx-access.log"
  {
    nginx_common nginx
    cat <<EOF
http {
$(nginx_temp_paths nginx)
  access_log ${ACCESS_LOG[nginx]} combined buffer=64k flush=1s;
  # Same per-connection request cap as authgate's limits.max_requests_per_connection default.
  keepalive_requests 10000;
  upstream bench {
    server 127.0.0.1:$UPSTREAM_PORT;
    keepalive 64;
    keepalive_requests 100000000;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://bench;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
  } >"$TMP/nginx.conf"
  start_nginx nginx "$PROXY_CPU"
  URL[nginx]="http://127.0.0.1:$NGINX_PORT/"
  wait_http nginx "${PID_OF[nginx]}" "${URL[nginx]}" "hello from upstream"
  log "nginx proxy up (pid ${PID_OF[nginx]}, cpu $PROXY_CPU)"
fi

haproxy_frontend() {  # haproxy_frontend ALG(rs256|es256) PORT
  local alg=${1^^}
  cat <<EOF
frontend $1
  bind 127.0.0.1:$2
  # jwt_verify only checks the signature with the alg and key given here: it ignores the
  # header's "alg" and every claim, so alg, iss, aud and exp are separate ACLs.
  http-request set-var(txn.bearer) http_auth_bearer
  http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('\$.alg')
  http-request set-var(txn.iss) var(txn.bearer),jwt_payload_query('\$.iss')
  http-request set-var(txn.aud) var(txn.bearer),jwt_payload_query('\$.aud')
  http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('\$.exp','int')
  http-request set-var(txn.now) date
  acl alg_ok var(txn.alg) -m str $alg
  acl iss_ok var(txn.iss) -m str $ISSUER
  acl aud_ok var(txn.aud) -m str $AUDIENCE
  acl exp_ok var(txn.exp),sub(txn.now) -m int gt 0
  # 1 = verified; 0 = bad signature; < 0 = error (unknown key file, malformed token, ...)
  acl sig_ok var(txn.bearer),jwt_verify("$alg","$TOKDIR/$1.pem") -m int 1
  http-request return status 401 content-type text/plain string "invalid_token" hdr WWW-Authenticate "Bearer error=\\"invalid_token\\"" unless alg_ok iss_ok aud_ok exp_ok sig_ok
  # like authgate (forward.authorization: false): the token does not go upstream
  http-request del-header Authorization
  default_backend bench
EOF
}

if has_proc haproxy; then
  ACCESS_LOG[haproxy]="$TMP/haproxy-access.log"
  {
    cat <<EOF
global
  nbthread 1
  maxconn 4096
  # access log: one line per request on stdout, which run.sh sends to ${ACCESS_LOG[haproxy]}
  log stdout format raw local0

defaults
  mode http
  log global
  option httplog
  timeout connect 5s
  timeout client 60s
  timeout server 30s
  timeout http-request 10s
  timeout http-keep-alive 60s

EOF
    haproxy_frontend rs256 "$HAPROXY_RS256_PORT"
    echo
    haproxy_frontend es256 "$HAPROXY_ES256_PORT"
    cat <<EOF

backend bench
  # keep-alive pool towards the upstream, shared by all client connections (like nginx's keepalive 64)
  http-reuse always
  server up 127.0.0.1:$UPSTREAM_PORT
EOF
  } >"$TMP/haproxy.cfg"
  "$HAPROXY" -c -f "$TMP/haproxy.cfg" >"$TMP/haproxy-check.err" 2>&1 ||
    die "haproxy config is invalid: $(cat "$TMP/haproxy-check.err")"
  # HAProxy 2.6 only warns about a key file it cannot load (and says nothing about a missing
  # one); jwt_verify then returns -5 at run time. Treat any warning as fatal.
  if grep -qE 'WARNING|ALERT' "$TMP/haproxy-check.err"; then
    die "haproxy -c warned: $(grep -E 'WARNING|ALERT' "$TMP/haproxy-check.err")"
  fi
  log "starting: taskset -c $PROXY_CPU $HAPROXY -db -f $TMP/haproxy.cfg"
  taskset -c "$PROXY_CPU" "$HAPROXY" -db -f "$TMP/haproxy.cfg" </dev/null \
    >"${ACCESS_LOG[haproxy]}" 2>"$TMP/haproxy.err" &
  PID_OF[haproxy]=$!
  PIDS+=("$!")
  wait_http haproxy "${PID_OF[haproxy]}" "${URL[haproxy-rs256]}" "hello from upstream" "$(first_token rs256)"
  wait_http haproxy "${PID_OF[haproxy]}" "${URL[haproxy-es256]}" "hello from upstream" "$(first_token es256)"
  log "haproxy up (pid ${PID_OF[haproxy]}, cpu $PROXY_CPU)"
fi

# ---------------------------------------------------------------- 4b. bearer: every verifier must refuse bad tokens
# Before measuring: for each bearer target, tokens from the pool get 200, and no token and every
# line of <alg>.reject (tampered signature or payload, foreign key, expired, wrong iss/aud, alg none,
# alg mismatch) get 401 or 403. Anything else aborts the run: a benchmark of a verifier that
# accepts everything would be meaningless.
AUTH_CHECKS="$TMP/auth-checks.txt"
: >"$AUTH_CHECKS"
if (( BEARER )); then
  checks="$TMP/auth-checks.tsv"
  : >"$checks"
  for t in $TARGETS; do
    a=$(alg_of "$t"); [[ -n $a ]] || continue
    for n in 1 $(( (TOKENS + 1) / 2 )) "$TOKENS"; do
      printf '%s\t%s\tpool-token-%s\t200\t%s\n' "$t" "${URL[$t]}" "$n" "$(sed -n "${n}p" "$TOKDIR/$a.tokens")" >>"$checks"
    done
    printf '%s\t%s\tno-token\t401\t\n' "$t" "${URL[$t]}" >>"$checks"
    while read -r name tok; do
      printf '%s\t%s\t%s\t401|403\t%s\n' "$t" "${URL[$t]}" "$name" "$tok" >>"$checks"
    done <"$TOKDIR/$a.reject"
  done
  rc=0
  timeout -k 5 120 python3 - "$checks" >"$AUTH_CHECKS" 2>&1 <<'EOF' || rc=$?
import sys, urllib.request, urllib.error
bad, summary = 0, {}
for line in open(sys.argv[1]):
    target, url, name, want, token = line.rstrip("\n").split("\t")
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            code, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        code, body = e.code, e.read()
    except Exception as e:  # connection trouble counts as a failure too
        code, body = 0, repr(e).encode()
    ok = str(code) in want.split("|") and (code != 200 or b"hello from upstream" in body)
    if not ok:
        bad += 1
        print(f"FAIL {target}: {name}: got {code}, want {want}")
    summary.setdefault(target, []).append(f"{name}={code}")
for target, items in summary.items():
    print(f"{target}: " + " ".join(items))
sys.exit(1 if bad else 0)
EOF
  (( rc == 0 )) || die "auth checks failed (a verifier accepted a bad token or refused a good one):
$(cat "$AUTH_CHECKS")"
  while read -r line; do log "auth check $line"; done <"$AUTH_CHECKS"
fi

# ---------------------------------------------------------------- 5/6. measure
proc_ticks() {  # utime+stime (fields 14+15) of one pid, 0 if gone
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  s=${s##*) }          # drop "pid (comm) "; $1 is now field 3
  # shellcheck disable=SC2086  # split into fields on purpose
  set -- $s
  echo $(( ${12} + ${13} ))
}
children_of() {
  local pid=$1 f
  if compgen -G "/proc/$pid/task/*/children" >/dev/null; then
    cat /proc/"$pid"/task/*/children 2>/dev/null; return
  fi
  if command -v pgrep >/dev/null; then pgrep -P "$pid" || true; return; fi
  for f in /proc/[0-9]*/stat; do
    local s; s=$(cat "$f" 2>/dev/null) || continue; s=${s##*) }
    # shellcheck disable=SC2086  # split into fields on purpose
    set -- $s; [[ $2 == "$pid" ]] && { f=${f#/proc/}; echo "${f%/stat}"; }
  done
}
target_ticks() {  # the target's process plus its direct children (nginx master + workers)
  local name pid total c
  name=$(proc_of "$1")
  pid=${PID_OF[$name]}
  kill -0 "$pid" 2>/dev/null || die "$name (pid $pid, serving $1) is no longer running"
  total=$(proc_ticks "$pid")
  for c in $(children_of "$pid"); do total=$(( total + $(proc_ticks "$c") )); done
  echo "$total"
}
log_bytes() { stat -c %s "$1" 2>/dev/null || echo 0; }

WRK_TIMEOUT_PAD=30
WRK_PID=""
run_wrk() {  # run_wrk TARGET SECONDS OUTFILE
  # In the background + wait, so a signal (watchdog, Ctrl-C) is handled at once.
  local rc=0 a args
  a=$(alg_of "$1")
  args=(-t"$THREADS" -c"$CONNECTIONS" -d"$2"s --latency)
  case ${LOAD[$1]:-plain} in
    one) args+=(-H "Authorization: Bearer $(first_token "$a")" "${URL[$1]}") ;;
    pool) args+=(-s "$HERE/token_pool.lua" "${URL[$1]}" -- "$TOKDIR/$a.tokens") ;;
    *) args+=("${URL[$1]}") ;;
  esac
  timeout -k 5 $(( $2 + WRK_TIMEOUT_PAD )) \
    taskset -c "$LOAD_CPU" wrk "${args[@]}" \
    </dev/null >"$3" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  (( rc == 0 )) || die "wrk against $1 failed (rc $rc): $(cat "$3")"
}

RESULTS="$TMP/results.tsv"
printf 'target\tround\twrk_output_file\tcpu_ticks\tlog_bytes\n' >"$RESULTS"

if (( WARMUP > 0 )); then
  for t in $TARGETS; do
    log "warm-up $t (${WARMUP}s)"
    run_wrk "$t" "$WARMUP" "$TMP/warmup-$t.txt"
  done
fi

for ((r = 1; r <= ROUNDS; r++)); do
  for t in $TARGETS; do
    sleep 1   # let the previous run's connections wind down
    out="$TMP/wrk-$t-$r.txt"
    alog=${ACCESS_LOG[$(proc_of "$t")]}
    lb0=$(log_bytes "$alog")
    c0=$(target_ticks "$t")
    run_wrk "$t" "$DURATION" "$out"
    c1=$(target_ticks "$t")
    lb1=$(log_bytes "$alog")
    printf '%s\t%d\t%s\t%d\t%d\n' "$t" "$r" "$(basename "$out")" $(( c1 - c0 )) $(( lb1 - lb0 )) >>"$RESULTS"
    log "round $r/$ROUNDS $t: $(grep -E 'Requests/sec' "$out" | tr -s ' ')"
    # keep disk use bounded: (sparse-)truncate the access logs between runs. Not haproxy's:
    # it sets O_NONBLOCK on its stdout with F_SETFL, which also drops O_APPEND, so it keeps
    # writing at its own offset and a truncated log would jump back to that size (a wrong
    # delta for the next run). Its written bytes are punched out instead: size kept, blocks freed.
    if [[ $(proc_of "$t") == haproxy ]]; then
      fallocate --punch-hole --offset 0 --length "$lb1" "$alog" 2>/dev/null || true
    else
      truncate -s 0 "$alog" 2>/dev/null || true
    fi
  done
done

# ---------------------------------------------------------------- 7. report
mkdir -p "$OUT_DIR"
STAMP=$(date +%Y%m%d-%H%M%S)
NAME=$([[ $MODE == bearer ]] && echo bearer || echo foundation)
REPORT="$OUT_DIR/$NAME-$STAMP.md"

ag_build=""
if [[ -n $AUTHGATE ]]; then
  cache="$(dirname "$(dirname "$AUTHGATE")")/CMakeCache.txt"
  [[ -f $cache ]] && ag_build=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache")
fi
{
  if [[ $MODE == bearer ]]; then
    echo "# authgate bearer-token benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  else
    echo "# authgate foundation benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  fi
  echo
  echo '```'
  echo "$CMDLINE"
  echo '```'
  echo
  echo "- host: $(uname -srm), $NCPU cpus online, CLK_TCK=$CLK_TCK"
  echo "- load: \`taskset -c $LOAD_CPU wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency URL\`, warm-up ${WARMUP}s per target, targets alternate each round"
  echo "- proxies pinned to cpu $PROXY_CPU; upstream nginx (return 200, 20-byte body) pinned to cpu $LOAD_CPU"
  echo "- nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'); wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
  if [[ -n $AUTHGATE ]]; then
    ver=$("$AUTHGATE" --version 2>/dev/null | head -1 || true)
    if rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null); then
      git -C "$ROOT" diff --quiet HEAD 2>/dev/null || rev+=" + uncommitted changes"
    else rev="no commit yet"; fi
    echo "- authgate: \`$AUTHGATE\`${ver:+ ($ver)}${ag_build:+, CMAKE_BUILD_TYPE=$ag_build}; source tree: git $rev"
  fi
  if (( BEARER )); then
    echo "- tokens: fresh RSA 2048 and P-256 keys, $TOKENS tokens per alg (\`$MINT\`), iss \`$ISSUER\`, aud \`$AUDIENCE\`, exp = now + ${TOKEN_TTL}s; \`*-one\`: every request the same token (\`wrk -H\`); \`*-distinct\` and \`haproxy-*\`: the pool cycled by \`load-tests/token_pool.lua\`"
    has_proc authgate-one && echo "- authgate-*-one: \`auth: bearer\` route, JWKS file, RS256+ES256, default token cache"
    has_proc authgate-distinct && echo "- authgate-*-distinct: same route; token cache $CACHE_NOTE"
    if has_proc authgate-distinct && [[ $CACHE_NOTE != disabled* ]]; then
      echo "- **Warning:** the token cache was not turned off, so the authgate-*-distinct figures may include cache hits (the pool repeats every $TOKENS requests)"
    fi
    has_proc haproxy && echo "- haproxy: $("$HAPROXY" -v 2>&1 | head -1 | sed 's/^HAProxy version //'), \`nbthread 1\`, \`jwt_verify\` against the SPKI PEM key + ACLs on alg, iss, aud, exp (401 otherwise), Authorization removed, \`http-reuse always\`, httplog to stdout (a file)"
    echo "- $(openssl version 2>/dev/null)"
    echo "- auth checks before measuring (status per case; 200 = forwarded):"
    echo
    echo '```'
    cat "$AUTH_CHECKS"
    echo '```'
  fi
  echo
  python3 "$HERE/report.py" "$RESULTS" "$CLK_TCK"
} >"$REPORT"

cat "$REPORT"
log "report written to $REPORT"
# raw wrk outputs and the generated configs next to the report, for later inspection
mkdir -p "$OUT_DIR/$NAME-$STAMP.raw"
cp "$TMP"/wrk-*.txt "$TMP"/*.conf "$TMP"/*.yaml "$TMP/results.tsv" "$OUT_DIR/$NAME-$STAMP.raw/" 2>/dev/null || true
if (( BEARER )); then
  cp "$TMP"/openssl-speed-*.txt "$AUTH_CHECKS" "$OUT_DIR/$NAME-$STAMP.raw/" 2>/dev/null || true
  [[ -f $TMP/haproxy.cfg ]] && cp "$TMP/haproxy.cfg" "$OUT_DIR/$NAME-$STAMP.raw/"
  cp "$TOKDIR/jwks.json" "$OUT_DIR/$NAME-$STAMP.raw/" 2>/dev/null || true
fi
