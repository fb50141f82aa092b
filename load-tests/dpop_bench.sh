#!/usr/bin/env bash
# DPoP cost (issue 16's benchmark): one authgate, two routes, alternating A B in each round:
#   A  /none  auth: none                          (the hop)
#   B  /dpop  auth: bearer, dpop: required        one ES256 token (cached after its first use) and a
#                                                 fresh ES256 proof on every request (verified, its
#                                                 jti claimed in the memory replay cache)
# authgate on cpu 0, wrk (1 thread, 32 connections) and a static nginx upstream on cpu 1, access
# log off. Proofs are minted before each B round (load-tests/mint_dpop.py), never reused: a round
# with a non-2xx answer is reported as such. Also measures one P-256 verify on cpu 0 (openssl speed).
# Target: CPU per B request <= (CPU per A request + 2 P-256 verifies) x 1.15.
#   load-tests/dpop_bench.sh                    # BIN=<authgate> ROUNDS=5 SECONDS_PER_ROUND=4 PROOFS=60000
# Loopback only (ports 18601-18603); needs nginx, wrk, openssl, python3-cryptography.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$here/../build/gateway/authgate}
ROUNDS=${ROUNDS:-5}
SECS=${SECONDS_PER_ROUND:-4}
PROOFS=${PROOFS:-60000}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null; rm -rf "$dir"' EXIT
cd "$dir"
cat >up.conf <<CONF
daemon off; master_process off; worker_processes 1; pid $dir/up.pid; error_log $dir/up.err warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:18601; location / { return 200 "hello from upstream\\n"; } } }
CONF
url=http://127.0.0.1:18602
python3 "$here/mint_dpop.py" --out keys --htu "$url/dpop" --count 10 >/dev/null
cat >gw.yaml <<CONF
listen: {address: "127.0.0.1:18602"}
admin: {address: "127.0.0.1:18603"}
workers: 1
issuers: [{name: bench, issuer: https://idp.bench.test, audiences: [bench-api], algorithms: [ES256], jwks_file: $dir/keys/jwks.json}]
dpop: {algs: [ES256], iat_window: 10m, replay_cache_entries: 2000000, public_url: "$url"}
upstreams: [{name: bench, url: "http://127.0.0.1:18601", max_idle: 64}]
routes:
  - {name: none, match: {path: {prefix: /none}}, upstream: bench, auth: none}
  - {name: dpop, match: {path: {prefix: /dpop}}, upstream: bench, auth: bearer, dpop: required}
log: {level: warn, access: "off"}
CONF
taskset -c 1 nginx -p "$dir" -c "$dir/up.conf" &
taskset -c 0 "$BIN" --config gw.yaml >gw.out 2>&1 & A=$!
sleep 1.5
ticks() { awk '{print $14+$15}' /proc/$A/stat; }
warm_token() { curl -s -o /dev/null -w "%{http_code}" -H "Authorization: DPoP $(cat keys/token)" -H "DPoP: $(sed -n 1p keys/proofs)" "$url/dpop"; }
[[ $(warm_token) == 200 ]] || { echo "dpop_bench: the first DPoP request was refused: $(cat gw.out)" >&2; exit 1; }
taskset -c 1 wrk -t1 -c32 -d2s "$url/none" >/dev/null
verify_us=$(taskset -c 0 openssl speed -seconds 2 ecdsap256 2>/dev/null | awk '/nistp256\)/ {printf "%.2f", 1e6 / $NF}')
for r in $(seq "$ROUNDS"); do
  t0=$(ticks); out=$(taskset -c 1 wrk -t1 -c32 -d"${SECS}s" "$url/none"); t1=$(ticks)
  n=$(awk '/requests in/ {print $1}' <<<"$out"); rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  echo "A round $r: $rps req/s, $(awk -v t=$((t1 - t0)) -v n="$n" 'BEGIN{printf "%.2f", t*10000/n}') us/req"
  python3 "$here/mint_dpop.py" --out "r$r" --htu "$url/dpop" --count "$PROOFS" --reuse-keys keys >/dev/null
  t0=$(ticks); out=$(taskset -c 1 wrk -t1 -c32 -d"${SECS}s" -s "$here/dpop_pool.lua" "$url/dpop" -- "$dir/r$r/proofs" "$(cat keys/token)"); t1=$(ticks)
  n=$(awk '/requests in/ {print $1}' <<<"$out"); rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  bad=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  echo "B round $r: $rps req/s, $(awk -v t=$((t1 - t0)) -v n="$n" 'BEGIN{printf "%.2f", t*10000/n}') us/req${bad:+, NON-2xx $bad (proofs ran out or were refused)}"
  rm -rf "r$r"
done | tee rounds.txt
awk -v v="$verify_us" '{c[$1]=c[$1]" "$6}
  function med(s,  a,n,i,j,t){n=split(s,a," ");for(i=1;i<=n;i++)for(j=i+1;j<=n;j++)if(a[j]<a[i]){t=a[i];a[i]=a[j];a[j]=t};return n%2?a[(n+1)/2]:(a[n/2]+a[n/2+1])/2}
  END{a=med(c["A"]);b=med(c["B"]);bound=(a+2*v)*1.15;
      printf "median CPU: hop (A) %.2f us/req, DPoP (B) %.2f us/req; one P-256 verify %.2f us; target (A + 2 verifies) x 1.15 = %.2f us: %s\n",a,b,v,bound,(b<=bound?"met":"missed")}' rounds.txt
