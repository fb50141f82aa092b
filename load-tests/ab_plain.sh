#!/usr/bin/env bash
# Two authgate binaries and nginx side by side in one run, alternating A B C in each round:
# auth: none, access logs off on all three, proxies pinned to cpu 0, wrk (1 thread, 32
# connections, 5 s) and a static nginx upstream on cpu 1. Prints req/s and the proxy's CPU
# µs per request (utime+stime ticks over the run / requests) per round; take the medians.
#   A_BIN=<old authgate> B_BIN=<new authgate> load-tests/ab_plain.sh
# Loopback only (ports 18581-18586); needs nginx and wrk.
set -euo pipefail
: "${A_BIN:?A_BIN: the first authgate binary}"
B_BIN=${B_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/gateway/authgate}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null; rm -rf "$dir"' EXIT
cd "$dir"
cat >up.conf <<EOF
daemon off; master_process off; worker_processes 1; pid $dir/up.pid; error_log $dir/up.err warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:18581; location / { return 200 "hello from upstream\\n"; } } }
EOF
cat >px.conf <<EOF
daemon off; master_process off; worker_processes 1; pid $dir/px.pid; error_log $dir/px.err warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  keepalive_requests 100000000;
  upstream up { server 127.0.0.1:18581; keepalive 64; }
  server { listen 127.0.0.1:18586; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
EOF
for x in a b; do
  p=$([[ $x == a ]] && echo 18582 || echo 18584)
  cat >$x.yaml <<EOF
listen: {address: "127.0.0.1:$p"}
admin: {address: "127.0.0.1:$((p + 1))"}
workers: 1
upstreams: [{name: bench, url: "http://127.0.0.1:18581", max_idle: 64}]
routes: [{name: bench, match: {path: {prefix: /}}, upstream: bench, auth: none}]
log: {level: warn, access: "off"}
EOF
done
taskset -c 1 nginx -p "$dir" -c "$dir/up.conf" & upp=$!
taskset -c 0 "$A_BIN" --config a.yaml >/dev/null 2>&1 & A=$!
taskset -c 0 "$B_BIN" --config b.yaml >/dev/null 2>&1 & B=$!
taskset -c 0 nginx -p "$dir" -c "$dir/px.conf" & C=$!
sleep 1.5
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
for port in 18582 18584 18586; do taskset -c 1 wrk -t1 -c32 -d2s http://127.0.0.1:$port/ >/dev/null; done
for r in 1 2 3 4 5; do
  for x in A B C; do
    case $x in A) pid=$A port=18582 ;; B) pid=$B port=18584 ;; C) pid=$C port=18586 ;; esac
    t0=$(ticks $pid)
    out=$(taskset -c 1 wrk -t1 -c32 -d5s http://127.0.0.1:$port/)
    t1=$(ticks $pid)
    n=$(awk '/requests in/ {print $1}' <<<"$out"); rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    echo "$x round $r: $rps req/s, $(awk -v t=$((t1-t0)) -v n=$n 'BEGIN{printf "%.2f", t*10000/n}') us/req"
  done
done
