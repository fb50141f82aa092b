#!/usr/bin/env bash
# HTTP/2 side by side (issue 15's benchmark): authgate (listen.h2c: true) and nginx 1.22
# (`listen ... http2`, h2c with prior knowledge) in front of one static HTTP/1 nginx upstream,
# alternating A B in each round. h2load: 10 connections x 10 concurrent streams (100 streams),
# 5 s per round, on cpu 1 with the upstream; the proxies on cpu 0, access logs off.
# Prints req/s and the proxy's CPU µs per request (utime+stime ticks / requests) per round, and
# the medians and ratios at the end.
#   load-tests/h2_bench.sh                 # auth: none
#   AUTH=bearer load-tests/h2_bench.sh     # authgate: a cached bearer token (one JWT, HS256, every request)
#   BIN=<authgate> ROUNDS=5 SECONDS_PER_ROUND=5 load-tests/h2_bench.sh
# Loopback only (ports 18591-18596); needs nginx and h2load (Debian nghttp2-client).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$repo/build/gateway/authgate}
ROUNDS=${ROUNDS:-5}
SECS=${SECONDS_PER_ROUND:-5}
AUTH=${AUTH:-none}
command -v h2load >/dev/null || { echo "h2_bench: no h2load (Debian nghttp2-client; scripts/install-deps.sh test)" >&2; exit 2; }
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null; rm -rf "$dir"' EXIT
cd "$dir"
common="daemon off; master_process off; worker_processes 1; error_log $dir/err.log warn; events { worker_connections 4096; }"
temps="client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;"
cat >up.conf <<CONF
$common pid $dir/up.pid;
http { access_log off; $temps keepalive_requests 100000000;
  server { listen 127.0.0.1:18591; location / { return 200 "hello from upstream\\n"; } } }
CONF
cat >px.conf <<CONF
$common pid $dir/px.pid;
http { access_log off; $temps keepalive_requests 100000000; http2_max_requests 100000000;
  upstream up { server 127.0.0.1:18591; keepalive 64; }
  server { listen 127.0.0.1:18596 http2; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
secret=h2-bench-secret-0123456789abcdef0123456789
issuers=""
route_auth="auth: none"
headers=()
if [[ $AUTH == bearer ]]; then
  export H2_BENCH_SECRET=$secret
  issuers="issuers: [{name: bench, issuer: https://bench.test, audiences: [bench], algorithms: [HS256], secret_env: H2_BENCH_SECRET}]"
  route_auth="auth: bearer"
  b64() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
  h=$(printf '{"alg":"HS256","typ":"JWT"}' | b64)
  p=$(printf '{"iss":"https://bench.test","aud":"bench","sub":"bench","exp":%d}' $(( $(date +%s) + 3600 )) | b64)
  s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "$secret" -binary | b64)
  headers=(-H "authorization: Bearer $h.$p.$s")
fi
cat >gw.yaml <<CONF
listen: {address: "127.0.0.1:18592", h2c: true}
admin: {address: "127.0.0.1:18593"}
workers: 1
$issuers
upstreams: [{name: bench, url: "http://127.0.0.1:18591", max_idle: 64}]
routes: [{name: bench, match: {path: {prefix: /}}, upstream: bench, $route_auth}]
log: {level: warn, access: "off"}
CONF
taskset -c 1 nginx -p "$dir" -c "$dir/up.conf" &
taskset -c 0 "$BIN" --config gw.yaml >gw.out 2>&1 & A=$!
taskset -c 0 nginx -p "$dir" -c "$dir/px.conf" & sleep 0.2; B=$(cat px.pid 2>/dev/null || pgrep -f "px.conf" | head -1)
sleep 1.5
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
run() { taskset -c 1 h2load -c10 -m10 -D "$2" "${headers[@]}" "http://127.0.0.1:$1/bench"; }
for port in 18592 18596; do run $port 2 >/dev/null; done
for r in $(seq "$ROUNDS"); do
  for x in A B; do
    case $x in A) pid=$A port=18592 ;; B) pid=$B port=18596 ;; esac
    t0=$(ticks $pid)
    out=$(run $port "$SECS")
    t1=$(ticks $pid)
    ok=$(awk '/^requests:/ {print $8}' <<<"$out")
    rps=$(awk '/^finished in/ {gsub(",","",$4); print $4}' <<<"$out")
    s2xx=$(awk '/^status codes:/ {print $3}' <<<"$out")
    echo "$x round $r: $rps req/s, $(awk -v t=$((t1-t0)) -v n="$ok" 'BEGIN{printf "%.2f", n ? t*10000/n : 0}') us/req, 2xx $s2xx of $ok"
  done
done | tee rounds.txt
awk '{v[$1]=v[$1]" "$4; c[$1]=c[$1]" "$6}
  function med(s,  a,n,i,j,t){n=split(s,a," ");for(i=1;i<=n;i++)for(j=i+1;j<=n;j++)if(a[j]<a[i]){t=a[i];a[i]=a[j];a[j]=t};return n%2?a[(n+1)/2]:(a[n/2]+a[n/2+1])/2}
  END{ra=med(v["A"]);rb=med(v["B"]);ca=med(c["A"]);cb=med(c["B"]);
      printf "median: authgate %.0f req/s %.2f us/req; nginx %.0f req/s %.2f us/req; authgate/nginx req/s %.3f, CPU %.3f\n",ra,ca,rb,cb,ra/rb,ca/cb}' rounds.txt
