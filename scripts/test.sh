#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then ctest (unit and
# end-to-end integration tests through the real binary over loopback), then a
# bounded libFuzzer run of the fuzz targets (FUZZ_SECONDS=0 skips it), then the
# test suite again under ASan+UBSan and under TSan (SANITIZE="" skips them).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
scripts/build.sh
repo=$PWD
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600 -j 1 "$@"

# --- the docker-compose stack: the file is valid and every file it mounts exists
# (no Docker engine runs here; the metric names are checked by the Observability test).
(cd "$repo" && docker-compose -f docker-compose.yml config -q && python3 scripts/check_observability.py --compose-only)
# The image is never run here: check that its runtime stage has a package for every shared library.
# ... and that the config it mounts loads with the environment the stack gives it.
(cd "$repo" && BUILD_DIR="${BUILD_DIR:-build}" scripts/check_docker_runtime.sh &&
  BUILD_DIR="${BUILD_DIR:-build}" python3 scripts/check_compose_config.py)

# --- fuzzing (tests/fuzz/run.sh): clang++ + libFuzzer + ASan/UBSan, 30 s per target
# (8 targets: 4 minutes, about 6 with the build; the longer local runs are in
# tests/fuzz/README.md). Exits non-zero on a crash; the reproducer is under
# build-fuzz/artifacts/. FUZZ_SECONDS=0 skips it.
if [[ ${FUZZ_SECONDS:-30} != 0 ]]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-30} "$repo/tests/fuzz/run.sh"
fi

# --- sanitizers (scripts/sanitize.sh): the project again under ASan+UBSan (build-asan/:
# every unit and integration test) and under TSan (build-tsan/: every unit test and the
# integration suites that share caches, key sets, config snapshots and the Redis client
# between threads). Measured on this 2-core machine (load-tests/RESULTS.md, "CI budget"). SANITIZE="asan" (or "tsan",
# or "") runs fewer. Both run even when the first fails.
sanitize_status=0
[[ ${SANITIZE-} == 0 ]] && SANITIZE=""   # the old spelling of "none"
for mode in ${SANITIZE-asan tsan}; do
  "$repo/scripts/sanitize.sh" "$mode" || sanitize_status=1
done
exit $sanitize_status
