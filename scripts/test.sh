#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then ctest (unit and
# end-to-end integration tests through the real binary over loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600 -j 1 "$@"
