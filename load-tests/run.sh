#!/usr/bin/env bash
# Foundation benchmark: authgate vs nginx as a plain reverse proxy, same upstream.
#
#   load-tests/run.sh                      # 5 rounds x 10 s per target (~2 min)
#   DURATION=3 ROUNDS=1 load-tests/run.sh  # quick smoke run
#   TARGETS=nginx load-tests/run.sh        # baseline only (does not need/build authgate)
#
# Knobs (environment):
#   DURATION=10     seconds per measured wrk run
#   ROUNDS=5        rounds; targets alternate inside each round
#   WARMUP=3        seconds of unrecorded warm-up per target before round 1 (0 = none)
#   TARGETS="authgate nginx"
#   CONNECTIONS=32  THREADS=1   wrk -c / -t
#   PROXY_CPU=0     LOAD_CPU=1  cpus for the proxies / for wrk + upstream
#   AUTHGATE_BIN    use this binary instead of build/gateway/authgate (no build)
#   AUTHGATE_CONFIG_ARG  how the config path is passed: "--config" (default when
#                   `authgate --help` mentions it), "-c", or "" for positional
#   KEEP_TMP=1      keep the temp dir (configs, logs, raw wrk output)
#   MAX_SECONDS     watchdog (default: computed from the knobs); abort + clean up after it
#
# Loopback only: every listener and every URL is 127.0.0.1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/load-tests"
OUT_DIR="$HERE/out"

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-5}
WARMUP=${WARMUP:-3}
TARGETS=${TARGETS:-authgate nginx}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}

UPSTREAM_PORT=18081
AUTHGATE_PORT=18080
AUTHGATE_ADMIN_PORT=18901
NGINX_PORT=18082

log() { printf '[run.sh] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for v in DURATION ROUNDS WARMUP CONNECTIONS THREADS PROXY_CPU LOAD_CPU; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, not '${!v}'"
done
(( DURATION >= 1 && ROUNDS >= 1 )) || die "DURATION and ROUNDS must be >= 1"
for t in $TARGETS; do
  [[ $t == authgate || $t == nginx ]] || die "unknown target '$t' (TARGETS may contain: authgate nginx)"
done
[[ -n ${TARGETS// /} ]] || die "TARGETS is empty"

# The exact command line, with every knob spelled out so it can be re-run as is.
CMDLINE="DURATION=$DURATION ROUNDS=$ROUNDS WARMUP=$WARMUP TARGETS=\"$TARGETS\" CONNECTIONS=$CONNECTIONS THREADS=$THREADS PROXY_CPU=$PROXY_CPU LOAD_CPU=$LOAD_CPU"
[[ -n ${AUTHGATE_BIN:-} ]] && CMDLINE+=" AUTHGATE_BIN=$AUTHGATE_BIN"
[[ -n ${AUTHGATE_CONFIG_ARG+x} ]] && CMDLINE+=" AUTHGATE_CONFIG_ARG=\"$AUTHGATE_CONFIG_ARG\""
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
if (( ${#need_pkgs[@]} )); then
  (( EUID == 0 )) || die "missing ${need_pkgs[*]}; run as root or install them"
  log "installing: ${need_pkgs[*]}"
  # Keep the package's own nginx service (listens on 0.0.0.0:80) from starting.
  made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  rc=0
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${need_pkgs[@]}"; } || rc=$?
  (( made_policy )) && rm -f /usr/sbin/policy-rc.d
  (( rc == 0 )) || die "apt-get install failed"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)
(( PROXY_CPU < NCPU && LOAD_CPU < NCPU )) || die "PROXY_CPU/LOAD_CPU must be < $NCPU (cpus online)"
(( PROXY_CPU != LOAD_CPU )) || log "WARNING: PROXY_CPU == LOAD_CPU; proxy and load generator share a core"

# ---------------------------------------------------------------- 2. authgate binary
AUTHGATE=""
if [[ " $TARGETS " == *" authgate "* ]]; then
  if [[ -n ${AUTHGATE_BIN:-} ]]; then
    AUTHGATE=$AUTHGATE_BIN
    [[ -x $AUTHGATE ]] || die "AUTHGATE_BIN=$AUTHGATE is not an executable file"
  else
    AUTHGATE="$ROOT/build/gateway/authgate"
    if [[ ! -x $AUTHGATE ]]; then
      { command -v cmake >/dev/null && command -v ninja >/dev/null; } ||
        die "$AUTHGATE is missing and cmake/ninja are not installed (or set AUTHGATE_BIN)"
      log "building authgate (Release) ..."
      (cd "$ROOT" && cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build authgate) >&2 ||
        die "authgate build failed"
    fi
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
MAX_SECONDS=${MAX_SECONDS:-$(( 60 + ntargets * (WARMUP + 15) + ROUNDS * ntargets * (DURATION + 15) ))}
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

wait_http() {  # wait_http NAME PID URL EXPECT: up to 15 s for a 200 whose body contains EXPECT
  local name=$1 pid=$2 url=$3 expect=$4 i
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || die "$name exited during startup"
    if python3 - "$url" "$expect" <<'EOF' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
    sys.exit(0 if r.status == 200 and sys.argv[2].encode() in r.read() else 1)
EOF
    then return 0; fi
    sleep 0.1
  done
  die "$name did not answer 200 with '$expect' on $url within 15 s"
}

for p in $UPSTREAM_PORT $AUTHGATE_PORT $AUTHGATE_ADMIN_PORT $NGINX_PORT; do
  port_free "$p" || die "127.0.0.1:$p is already in use (another benchmark running?)"
done

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
declare -A URL=() ACCESS_LOG=()
if [[ " $TARGETS " == *" authgate "* ]]; then
  ACCESS_LOG[authgate]="$TMP/authgate-access.log"
  cat >"$TMP/authgate.yaml" <<EOF
listen:
  address: 127.0.0.1:$AUTHGATE_PORT
admin:
  address: 127.0.0.1:$AUTHGATE_ADMIN_PORT
workers: 1
upstreams:
  - name: bench
    url: http://127.0.0.1:$UPSTREAM_PORT
    max_idle: 64
routes:
  - {name: bench, match: {path: {prefix: /}}, upstream: bench, auth: none}
log:
  level: warn
  access: ${ACCESS_LOG[authgate]}
EOF
  help=$("$AUTHGATE" --help 2>&1 || true)
  if [[ -z ${AUTHGATE_CONFIG_ARG+x} ]]; then
    if grep -q -- '--config' <<<"$help"; then AUTHGATE_CONFIG_ARG=--config
    elif grep -qE -- '(^|[[:space:],])-c([[:space:],]|$)' <<<"$help"; then AUTHGATE_CONFIG_ARG=-c
    else AUTHGATE_CONFIG_ARG=""; fi
  fi
  ag_args=(); [[ -n $AUTHGATE_CONFIG_ARG ]] && ag_args+=("$AUTHGATE_CONFIG_ARG")
  ag_args+=("$TMP/authgate.yaml")
  if grep -q -- '--check-config' <<<"$help"; then
    "$AUTHGATE" --check-config "$TMP/authgate.yaml" >"$TMP/authgate-check.err" 2>&1 ||
      die "authgate --check-config rejected the generated config:
$(cat "$TMP/authgate-check.err")"
  fi
  log "starting: taskset -c $PROXY_CPU $AUTHGATE ${ag_args[*]}"
  taskset -c "$PROXY_CPU" "$AUTHGATE" "${ag_args[@]}" </dev/null >"$TMP/authgate.err" 2>&1 &
  PID_OF[authgate]=$!
  PIDS+=("$!")
  URL[authgate]="http://127.0.0.1:$AUTHGATE_PORT/"
  wait_http authgate "${PID_OF[authgate]}" "${URL[authgate]}" "hello from upstream"
  log "authgate up (pid ${PID_OF[authgate]}, cpu $PROXY_CPU)"
fi

if [[ " $TARGETS " == *" nginx "* ]]; then
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
target_ticks() {  # the process plus its direct children (nginx master + workers)
  local pid=${PID_OF[$1]} total c
  kill -0 "$pid" 2>/dev/null || die "$1 (pid $pid) is no longer running"
  total=$(proc_ticks "$pid")
  for c in $(children_of "$pid"); do total=$(( total + $(proc_ticks "$c") )); done
  echo "$total"
}
log_bytes() { stat -c %s "$1" 2>/dev/null || echo 0; }

WRK_TIMEOUT_PAD=30
WRK_PID=""
run_wrk() {  # run_wrk TARGET SECONDS OUTFILE
  # In the background + wait, so a signal (watchdog, Ctrl-C) is handled at once.
  local rc=0
  timeout -k 5 $(( $2 + WRK_TIMEOUT_PAD )) \
    taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2"s --latency "${URL[$1]}" \
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
    lb0=$(log_bytes "${ACCESS_LOG[$t]}")
    c0=$(target_ticks "$t")
    run_wrk "$t" "$DURATION" "$out"
    c1=$(target_ticks "$t")
    lb1=$(log_bytes "${ACCESS_LOG[$t]}")
    printf '%s\t%d\t%s\t%d\t%d\n' "$t" "$r" "$(basename "$out")" $(( c1 - c0 )) $(( lb1 - lb0 )) >>"$RESULTS"
    log "round $r/$ROUNDS $t: $(grep -E 'Requests/sec' "$out" | tr -s ' ')"
    # keep disk use bounded: (sparse-)truncate the access logs between runs
    truncate -s 0 "${ACCESS_LOG[$t]}" 2>/dev/null || true
  done
done

# ---------------------------------------------------------------- 7. report
mkdir -p "$OUT_DIR"
STAMP=$(date +%Y%m%d-%H%M%S)
REPORT="$OUT_DIR/foundation-$STAMP.md"

ag_build=""
if [[ -n $AUTHGATE ]]; then
  cache="$(dirname "$(dirname "$AUTHGATE")")/CMakeCache.txt"
  [[ -f $cache ]] && ag_build=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache")
fi
{
  echo "# authgate foundation benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
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
  echo
  python3 "$HERE/report.py" "$RESULTS" "$CLK_TCK"
} >"$REPORT"

cat "$REPORT"
log "report written to $REPORT"
# raw wrk outputs and the generated configs next to the report, for later inspection
mkdir -p "$OUT_DIR/foundation-$STAMP.raw"
cp "$TMP"/wrk-*.txt "$TMP"/*.conf "$TMP"/*.yaml "$TMP/results.tsv" "$OUT_DIR/foundation-$STAMP.raw/" 2>/dev/null || true
