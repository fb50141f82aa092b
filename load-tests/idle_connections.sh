#!/usr/bin/env bash
# 10,000 concurrent idle keep-alive connections against authgate; reports RSS per
# idle connection (load-tests/idle_connections.py does the work, see its header).
#   load-tests/idle_connections.sh               # CONNS=10000
#   CONNS=2000 load-tests/idle_connections.sh
# Loopback only. Needs build/gateway/authgate (or AUTHGATE_BIN) and python3.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONNS=${CONNS:-10000}
export CONNS
need=$((CONNS + 2000))
# Both this client (which is also the upstream) and authgate (its child) hold one fd per connection.
if (( $(ulimit -n) < need )); then
  ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
(( $(ulimit -n) >= need )) || { echo "cannot raise the fd limit to $need (hard limit $(ulimit -Hn))" >&2; exit 1; }
exec timeout --kill-after=10 "${MAX_SECONDS:-300}" python3 "$HERE/idle_connections.py"
