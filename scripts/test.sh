#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then ctest (unit and
# end-to-end integration tests through the real binary over loopback), then the
# docker-compose checks and the container image test (podman), then a
# bounded libFuzzer run of the fuzz targets (FUZZ_SECONDS=0 skips it), then the
# test suite again under ASan+UBSan and under TSan (SANITIZE="" skips them).
# Prints each phase's time and each build's ccache hit rate, and a table of the
# phases at the end (load-tests/RESULTS.md, "CI budget").
#
#   scripts/test.sh                                   # everything (.ci/run)
#   SANITIZE="" FUZZ_SECONDS=0 scripts/test.sh        # the quick local loop: build + ctest
#   scripts/test.sh -R '^Session\.'                   # extra arguments go to the plain ctest
#
# | variable     | default     | meaning |
# | CTEST_JOBS   | 2           | ctest -j of the plain and sanitizer runs (the harness takes ports race-free) |
# | FUZZ_SECONDS | 30          | libFuzzer time per target (0: none) |
# | FUZZ_OVERLAP | 1           | 1: fuzz at nice 19 beside the plain ctest; 0: after it |
# | SANITIZE     | "asan tsan" | the sanitizer runs (scripts/sanitize.sh) |
# | BUILD_DIR    | build       | the plain build tree |
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export CTEST_JOBS=${CTEST_JOBS:-2}

phases=()
status=0
# run_phase NAME COMMAND...: runs one phase, records its time and result; a failing
# phase fails the run at the end but does not stop the phases after it.
run_phase() {
  local name=$1 start=$SECONDS rc=0
  shift
  echo "=== $name"
  "$@" || rc=$?
  phases+=("$(printf '%-22s %5d s  %s' "$name" $((SECONDS - start)) "$([[ $rc == 0 ]] && echo ok || echo "FAILED ($rc)")")")
  echo "=== $name: $((SECONDS - start)) s, exit $rc"
  ((rc == 0)) || status=1
}

run_phase deps scripts/install-deps.sh test
source scripts/lib/ccache_stats.sh
ccache_ensure_size 8
run_phase build scripts/build.sh
if [[ ${phases[-1]} == *FAILED* ]]; then
  printf '%s\n' "${phases[@]}"
  exit 1
fi
# --- fuzzing (tests/fuzz/run.sh): clang++ + libFuzzer + ASan/UBSan, 27 s per target
# (10 targets, 270 s as when 9 ran 30 s each; the longer local runs are in tests/fuzz/README.md). Exits non-zero on a
# crash; the reproducer is under build-fuzz/artifacts/. FUZZ_SECONDS=0 skips it.
# It runs beside the plain ctest, at nice 19: the tests wait on sockets, timers and
# child processes most of the time (ctest -j2 keeps about 1.2 of the 2 cores busy),
# and the fuzzers take what is left without slowing the tests. Its output is
# printed when it ends. FUZZ_OVERLAP=0 runs it after the ctest instead.
fuzz_log=$repo/${BUILD_DIR:-build}/fuzz-phase.log
fuzz_pid=
if [[ ${FUZZ_SECONDS:-27} != 0 && ${FUZZ_OVERLAP:-1} == 1 ]]; then
  # At nice 19 an input can wait seconds for the CPU while two tests hold both cores:
  # a hang is an input that takes 20 s, not libFuzzer's default 5 s (one niced run
  # stopped on the 5 s timeout with a 0.16 s input, tests/fuzz/README.md).
  FUZZ_SECONDS=${FUZZ_SECONDS:-27} FUZZ_INPUT_TIMEOUT=${FUZZ_INPUT_TIMEOUT:-20} nice -n 19 tests/fuzz/run.sh >"$fuzz_log" 2>&1 &
  fuzz_pid=$!
  fuzz_start=$SECONDS
fi

run_phase ctest bash -c 'cd "${BUILD_DIR:-build}" && ctest --output-on-failure --timeout 600 -j "$CTEST_JOBS" "$@"' ctest "$@"

# --- the docker-compose stack: the file is valid and every file it mounts exists
# (no Docker engine runs here; the metric names are checked by the Observability test).
# Before the image is built and run (the image phase): check that its runtime stage has a
# package for every shared library, and that the config it mounts loads with the environment
# the stack gives it (quick, and they name the missing package or key).
compose_checks() {
  docker-compose -f docker-compose.yml config -q &&
    python3 scripts/check_observability.py --compose-only &&
    BUILD_DIR="${BUILD_DIR:-build}" scripts/check_docker_runtime.sh &&
    BUILD_DIR="${BUILD_DIR:-build}" python3 scripts/check_compose_config.py
}
run_phase compose compose_checks

# --- the container image, built and run (scripts/test-image.sh): podman builds the Dockerfile's
# runtime stage around the binary built above (the local Debian base made once and cached by
# scripts/image.sh), starts docker-compose.yml's core services (authgate, demo API, OpenID
# Provider, Redis) and checks the image, the running gateway, a browser login and the SIGTERM
# drain. It runs beside the overlapped fuzz run (it waits on containers most of the time).
# Without podman it fails under CI (.ci/run) and skips elsewhere. Bounded: 10 minutes.
run_phase image timeout 600 env BUILD_DIR="${BUILD_DIR:-build}" scripts/test-image.sh

if [[ -n $fuzz_pid ]]; then
  # The overlapped fuzz run: its time is what it added after the ctest, compose and image phases.
  wait_fuzz() {
    local rc=0
    wait "$fuzz_pid" || rc=$?
    cat "$fuzz_log"
    echo "(fuzz ran beside the ctest, compose and image phases: $((SECONDS - fuzz_start)) s in all)"
    return $rc
  }
  run_phase "fuzz (overlapped)" wait_fuzz
elif [[ ${FUZZ_SECONDS:-30} != 0 ]]; then
  run_phase fuzz env FUZZ_SECONDS="${FUZZ_SECONDS:-30}" tests/fuzz/run.sh
fi

# --- sanitizers (scripts/sanitize.sh): the project again under ASan+UBSan (build-asan/:
# every unit and integration test) and under TSan (build-tsan/: every unit test and the
# integration suites that share caches, key sets, config snapshots and the Redis client
# between threads). SANITIZE="asan" (or "tsan", or "") runs fewer. Both run even when
# the first fails.
[[ ${SANITIZE-} == 0 ]] && SANITIZE=""   # the old spelling of "none"
for mode in ${SANITIZE-asan tsan}; do
  run_phase "$mode" scripts/sanitize.sh "$mode"
done

echo "=== phases (total $SECONDS s)"
printf '%s\n' "${phases[@]}"
# Why a phase failed, repeated here so that the end of the output (all a CI summary may keep)
# names it: the failed tests (and test cases) of each ctest run, and the fuzz run's verdict lines.
phase_failed() {  # NAME: the phase of that name (or starting with it) failed
  local p
  for p in "${phases[@]}"; do
    [[ $p == "$1"* && $p == *FAILED* ]] && return 0
  done
  return 1
}
if ((status)); then
  echo "=== what failed"
  for entry in "ctest:${BUILD_DIR:-build}" "asan:build-asan" "tsan:build-tsan"; do
    list=${entry#*:}/Testing/Temporary/LastTestsFailed.log
    if phase_failed "${entry%%:*} " && [[ -s $list ]]; then
      sed "s/^/${entry%%:*}: failed test /" "$list"
      # A unit executable is one ctest test: the failed cases inside it, from GoogleTest's output.
      grep -ho '^\[  FAILED  \] [A-Za-z0-9_/]*\.[A-Za-z0-9_/.]*' "${list%/*}/LastTest.log" 2>/dev/null |
        sort -u | sed "s/^\[  FAILED  \] /${entry%%:*}:   failed case /" || true
    fi
  done
  if phase_failed fuzz; then
    grep -E '^fuzz: |reproducer:|^SUMMARY|ERROR: libFuzzer' "$fuzz_log" 2>/dev/null | tail -n 30 || true
  fi
fi
exit $status
