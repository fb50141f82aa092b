#!/usr/bin/env bash
# Configures (once) and builds authgate into build/ (or $BUILD_DIR).
# Usage: scripts/build.sh [ninja targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
if [[ ! -f $build_dir/build.ninja ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}"
fi
source scripts/lib/ccache_stats.sh
ccache_snapshot
# 2 jobs: Beast translation units need 1-2.5 GiB each and the machine has 2 cores.
ninja -C "$build_dir" -j "${JOBS:-2}" "$@"
ccache_report "build ($build_dir)"
