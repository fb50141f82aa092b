#!/usr/bin/env bash
# Sanitizer builds: configures the project with AUTHGATE_SANITIZE (top-level
# CMakeLists.txt) in its own build dir, builds it and runs the tests in it.
#
#   scripts/sanitize.sh asan    # ASan + UBSan in build-asan/ (every test by default)
#   scripts/sanitize.sh tsan    # TSan in build-tsan/ (the subset that runs threads, see below)
#   SANITIZE_INTEGRATION='^Bearer\.' scripts/sanitize.sh tsan   # one suite
#   scripts/sanitize.sh asan --repeat until-fail:3                # extra arguments go to ctest
#
# | variable            | default                 | meaning |
# | SANITIZE_UNIT       | per mode (below)        | ctest -E regex of non-integration tests left out ("": none; unit.<executable>, Docs*) |
# | SANITIZE_INTEGRATION| per mode (below)        | ctest -R regex of the integration tests to run (".": all, "-": none) |
# | SANITIZE_INTEGRATION_EXCLUDE | InBoundedMemory | ctest -E regex of integration tests left out |
# | SANITIZE_BUILD_ONLY | 0                       | 1: configure and build, run nothing |
# | SANITIZE_BUILD      | 1                       | 0: no build step, run the tests of the existing build dir |
# | AUTHGATE_BUILD_LOCK | -                       | a lock file; the build runs under flock on it |
# | JOBS                | 2                       | ninja -j |
# | CTEST_JOBS          | 2                       | ctest -j |
#
# Every report of the sanitizer runtimes, from the test binaries and from the
# authgate processes the integration tests start (they inherit the environment),
# is written under <build dir>/sanitizer-reports/ instead of stderr, so a report in
# a child process cannot go unnoticed when the test itself passes: the script
# fails when that directory is not empty after the run, and prints the reports.
# Suppressions: tests/sanitizers/{asan,lsan,ubsan,tsan}.supp, each entry with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
source scripts/lib/ccache_stats.sh

mode=${1:-}
shift || true
# Integration tests carry the ctest label "integration"; unit tests do not. The
# fuzz replays are not built here (AUTHGATE_BUILD_FUZZ_REPLAY=OFF): tests/fuzz/run.sh
# runs the targets under ASan+UBSan. Both modes run every unit test; the
# integration subset differs.
case $mode in
  asan)
    sanitize=address
    build_dir=build-asan
    # Everything: ASan+UBSan costs about 2-3x, which the suite absorbs.
    default_unit_exclude=''
    default_integration='.'
    ;;
  tsan)
    sanitize=thread
    build_dir=build-tsan
    # Integration: the
    # tests that run several worker threads, the control thread and IdP fetches
    # against shared caches, key sets and config snapshots: bearer tokens, JWKS
    # refresh/rotation, token cache, introspection, sessions, reload, keep-alive,
    # shutdown/drain, fleet mode (the Redis client's own thread, the deny-list), the
    # fault tests (SIGHUP under load from 4 threads) and HTTP/2 (H2, H2Tls: many
    # streams' coroutines on one connection, sharing the upstream pools, the token
    # verification and the metrics with the other worker). TSan costs 5-15x; the rest of the integration suite (limits,
    # smuggling, streaming, websocket, TLS, forwarding, CLI, harness self-tests)
    # exercises one connection's coroutine on one thread and is left out.
    default_unit_exclude=''
    default_integration='^(Bearer|Jwks|JwksLimits|JwksTls|TokenCache|Introspection|Session|Reload|KeepAlive|Shutdown|Oidc|Fleet|Revocation|FailureBehaviour|H2|H2Tls)\.'
    ;;
  *)
    echo "usage: $0 asan|tsan [ctest arguments]" >&2
    exit 2
    ;;
esac
# Tests that measure the process's memory (RSS bounds) mean nothing under a
# sanitizer's shadow memory and quarantine (ASan: 176 MiB against a 64 MiB bound).
integration_exclude=${SANITIZE_INTEGRATION_EXCLUDE-InBoundedMemory}
unit_exclude=${SANITIZE_UNIT-$default_unit_exclude}
integration=${SANITIZE_INTEGRATION-$default_integration}

# --- build ----------------------------------------------------------------------
locked() {
  if [[ -n ${AUTHGATE_BUILD_LOCK:-} ]]; then
    flock "$AUTHGATE_BUILD_LOCK" "$@"
  else
    "$@"
  fi
}
start=$(date +%s)
if [[ ${SANITIZE_BUILD:-1} == 0 ]]; then
  : # the existing build
elif [[ ! -f $build_dir/build.ninja ]]; then
  # None: no -O2/-DNDEBUG from a build type; the sanitizer options set -O1 -g, and asserts stay on.
  locked cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=None -DAUTHGATE_SANITIZE="$sanitize" \
    -DAUTHGATE_BUILD_TESTS=ON -DAUTHGATE_BUILD_BENCHMARKS=OFF -DAUTHGATE_BUILD_FUZZ_REPLAY=OFF >/dev/null
fi
if [[ ${SANITIZE_BUILD:-1} != 0 ]]; then
  ccache_snapshot
  # One ninja run over the whole tree: the long Beast translation units overlap with the rest.
  locked ninja -C "$build_dir" -j "${JOBS:-2}" || { echo "sanitize: build failed" >&2; exit 1; }
  ccache_report "sanitize($mode) build"
fi
built=$(date +%s)
echo "sanitize($mode): build $((built - start)) s"
[[ ${SANITIZE_BUILD_ONLY:-0} == 1 ]] && exit 0

# --- run ----------------------------------------------------------------------
reports=$repo/$build_dir/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
supp=$repo/tests/sanitizers
common="log_path=$reports/report:print_stacktrace=1"
if [[ $mode == asan ]]; then
  export ASAN_OPTIONS="$common:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0:suppressions=$supp/asan.supp"
  export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="$common:halt_on_error=1:suppressions=$supp/ubsan.supp"
else
  # halt_on_error=0: a race is reported and the test goes on, so one run lists every race.
  export TSAN_OPTIONS="$common:halt_on_error=0:second_deadlock_stack=1:suppressions=$supp/tsan.supp"
fi

# A test that fails is run once more: the sanitizers slow the gateway 2-15x, which can push
# a timing-bound integration test over its bound (two did in one CI run, without a report).
# A sanitizer report still fails the run whatever the test's result (the check below).
args=(--output-on-failure --timeout 900 -j "${CTEST_JOBS:-2}" --repeat until-pass:2)
status=0
unit_args=(-LE integration)
[[ -n $unit_exclude ]] && unit_args+=(-E "$unit_exclude")
(cd "$build_dir" && ctest "${args[@]}" "${unit_args[@]}" "$@") || status=$?
if [[ $integration != - ]]; then
  integration_args=(-L integration -R "$integration")
  [[ -n $integration_exclude ]] && integration_args+=(-E "$integration_exclude")
  (cd "$build_dir" && ctest "${args[@]}" "${integration_args[@]}" "$@") || status=$?
fi
ran=$(date +%s)
echo "sanitize($mode): tests $((ran - built)) s (ctest exit $status)"

if compgen -G "$reports/report*" >/dev/null; then
  echo "sanitize($mode): sanitizer reports (in $reports):" >&2
  for f in "$reports"/report*; do
    echo "---- $f" >&2
    head -n 80 "$f" >&2
  done
  status=1
fi
exit $status
