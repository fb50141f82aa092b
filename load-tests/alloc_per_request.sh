#!/usr/bin/env bash
# Heap allocations per proxied request (auth: none, one worker, keep-alive, no body):
# authgate under ../shared/tools/malloc_count.c (LD_PRELOAD), a Python keep-alive
# upstream and client on loopback; 200 requests to warm up, then the counter is read
# around N more (SIGUSR2) and the difference is divided by N.
#   load-tests/alloc_per_request.sh [AUTHGATE_BINARY] [N]
# SITES=1: record instead where the allocations of those N requests come from
# (load-tests/alloc_sites.c, aggregated by load-tests/alloc_sites.py; SITES_ARGS=--stacks
# prints whole stacks), N defaults to 500 then.
# INSTRUCTIONS=1: count instead the instructions per request (valgrind --tool=callgrind,
# instrumentation switched on for the N requests only with callgrind_control; every
# thread of the process is counted, the control thread being idle). load-tests/
# instructions_per_request.sh is this mode.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/gateway/authgate}
sites=${SITES:-0}
instructions=${INSTRUCTIONS:-0}
if ((sites)); then n=${2:-500}; else n=${2:-2000}; fi
counter_src=${MALLOC_COUNT_SRC:-../shared/tools/malloc_count.c}
((sites)) && counter_src=load-tests/alloc_sites.c
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
cc -O2 -shared -fPIC -o "$dir/malloc_count.so" "$counter_src" -ldl
read -r up_port gw_port admin_port < <(python3 -c '
import socket
s=[socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1",0))
print(*[x.getsockname()[1] for x in s])')
cat >"$dir/up.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
cat >"$dir/client.py" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    c.request("GET", "/x"); r = c.getresponse(); r.read(); assert r.status == 200, r.status
PY
cat >"$dir/gw.yaml" <<YAML
listen: {address: "127.0.0.1:$gw_port"}
admin: {address: "127.0.0.1:$admin_port"}
workers: 1
upstreams: [{name: bench, url: "http://127.0.0.1:$up_port", max_idle: 64}]
routes: [{name: bench, match: {path: {prefix: /}}, upstream: bench, auth: none}]
log: {level: warn, access: "off"}
YAML
python3 "$dir/up.py" "$up_port" &
if ((instructions)); then
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$dir/cg.out" \
    "$bin" --config "$dir/gw.yaml" 2>"$dir/err.log" >/dev/null &
else
  ALLOC_SITES_OUT=$dir/sites LD_PRELOAD=$dir/malloc_count.so "$bin" --config "$dir/gw.yaml" 2>"$dir/err.log" >/dev/null &
fi
gw=$!
for _ in $(seq 600); do curl -fso /dev/null "http://127.0.0.1:$gw_port/x" && break; sleep 0.1; done
python3 "$dir/client.py" "$gw_port" 200
if ((instructions)); then
  callgrind_control -i on $gw >/dev/null 2>&1
  python3 "$dir/client.py" "$gw_port" "$n"
  callgrind_control -d $gw >/dev/null 2>&1
  sleep 0.5
  awk -v n="$n" '/^(summary|totals):/ {ir = $2} END {printf "per request: %.0f instructions (callgrind Ir, %d requests)\n", ir / n, n}' "$dir"/cg.out.*
  exit 0
fi
kill -USR2 $gw; sleep 0.3
python3 "$dir/client.py" "$gw_port" "$n"
kill -USR2 $gw; sleep 0.3
if ((sites)); then
  python3 load-tests/alloc_sites.py "$dir/sites" "$n" ${SITES_ARGS:-}
  exit 0
fi
grep ALLOC "$dir/err.log" | tail -2 | python3 -c '
import re, sys
a = [dict(re.findall(r"(\w+)=(\d+)", l)) for l in sys.stdin]
n = int(sys.argv[1])
d = {k: (int(a[1][k]) - int(a[0][k])) / n for k in a[0]}
allocs = d["aligned"] + d["malloc"] + d["calloc"] + d["realloc"]
print("per request: %.2f allocations (%.2f aligned), %.0f bytes" % (allocs, d["aligned"], d["bytes"]))' "$n"
