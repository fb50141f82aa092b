#!/usr/bin/env bash
# Builds the fuzz targets (tests/fuzz/*_fuzz.cpp) with clang++ and libFuzzer,
# ASan and UBSan, into build-fuzz/, then fuzzes each one for a bounded time,
# starting from its seed corpus (tests/fuzz/corpus/<name>/). Exit status 1 when a
# target crashed or broke an invariant; the reproducer is in
# build-fuzz/artifacts/<target>/ (replay it: build-fuzz/<target> FILE).
#
#   tests/fuzz/run.sh                              # every target, 60 s each (scripts/test.sh: 27 s)
#   FUZZ_SECONDS=600 FUZZ_TARGETS=jwt_fuzz tests/fuzz/run.sh
#   FUZZ_SECONDS=0 tests/fuzz/run.sh               # build only
#
# | variable             | default                | meaning |
# | FUZZ_SECONDS         | 60                     | -max_total_time per target (0: build only) |
# | FUZZ_TARGETS         | all ten                | jwt_fuzz jwt_claims_fuzz json_fuzz base64url_fuzz config_fuzz request_fuzz cookie_fuzz token_response_fuzz dpop_fuzz h2_fuzz |
# | FUZZ_BUILD_DIR       | build-fuzz             | CMake build dir (standalone tests/fuzz/CMakeLists.txt) |
# | FUZZ_CXX             | clang++-14 or clang++  | the compiler (needs libFuzzer: Debian libclang-rt-14-dev) |
# | FUZZ_FLAGS           | -                      | extra libFuzzer flags, e.g. "-jobs=2 -workers=2" |
# | FUZZ_INPUT_TIMEOUT   | 5                      | libFuzzer -timeout: wall seconds one input may take |
# | FUZZ_HANG_CPU_SECONDS| 5                      | a timeout input that replays alone in less CPU than this is no hang |
# | AUTHGATE_BUILD_LOCK  | -                      | a lock file; the build step runs under flock on it |
# | JOBS                 | 2                      | ninja -j |
# New inputs that libFuzzer finds go to build-fuzz/corpus/<name>/ (kept between
# runs, never committed); the seed corpus in the repository is only read.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/ccache_stats.sh

seconds=${FUZZ_SECONDS:-60}
targets=(${FUZZ_TARGETS:-jwt_fuzz jwt_claims_fuzz json_fuzz base64url_fuzz config_fuzz request_fuzz cookie_fuzz token_response_fuzz dpop_fuzz h2_fuzz})
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
cxx=${FUZZ_CXX:-}
if [[ -z $cxx ]]; then
  cxx=$(command -v clang++-14 || command -v clang++ || true)
fi
if [[ -z $cxx ]] || ! "$cxx" --version >/dev/null 2>&1; then
  echo "fuzz: no clang++ (Debian: clang-14 libclang-rt-14-dev; scripts/install-deps.sh test)" >&2
  exit 2
fi
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
    "$cxx" -x c++ -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
  echo "fuzz: $cxx cannot link libFuzzer (Debian: libclang-rt-14-dev)" >&2
  exit 2
fi

# --- build -----------------------------------------------------------------
build() {
  if [[ ! -f $build_dir/build.ninja ]]; then
    cmake -S tests/fuzz -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=None >/dev/null
  fi
  ccache_snapshot
  ninja -C "$build_dir" -j "${JOBS:-2}" "${targets[@]}"
  ccache_report "fuzz build"
}
if [[ -n ${AUTHGATE_BUILD_LOCK:-} ]]; then
  exec 9>"$AUTHGATE_BUILD_LOCK"
  flock 9
  build
  flock -u 9
  exec 9>&-
else
  build
fi
[[ $seconds == 0 ]] && exit 0

# --- fuzz ------------------------------------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
hang_cpu=${FUZZ_HANG_CPU_SECONDS:-5}

# libFuzzer's -timeout is wall-clock time. Beside the tests, at nice 19, an input can wait
# tens of seconds for a core (one 0.16 s input hit the timeout, tests/fuzz/README.md). So a
# failed run whose only findings are timeouts replays each of them alone and measures its CPU
# time: under FUZZ_HANG_CPU_SECONDS it was starved, not hung, and the run stays green (it
# says so); over it, or if the replay crashes or runs past 120 s, it is a hang and fails.
# Crashes, leaks and out-of-memory findings always fail.
only_starved_timeouts() {  # TARGET FINDING...
  local t=$1 f cpu rc
  shift
  for f in "$@"; do
    [[ $(basename "$f") == timeout-* ]] || return 1
    rc=0
    { TIMEFORMAT='%U %S'; time timeout 120 "$build_dir/$t" -timeout=0 "$f" >/dev/null 2>&1 || rc=$?; } 2>"$build_dir/replay.time"
    cpu=$(awk '{ print $1 + $2 }' "$build_dir/replay.time")
    if ((rc != 0)) || awk -v c="$cpu" -v l="$hang_cpu" 'BEGIN { exit !(c >= l) }'; then
      echo "fuzz: $t: $f replays alone in ${cpu} s of CPU (exit $rc): a hang" >&2
      return 1
    fi
    echo "fuzz: $t: $f hit the wall-clock timeout, and replays alone in ${cpu} s of CPU (limit ${hang_cpu} s, exit 0): starved by the load beside it, not a hang"
  done
}

failed=()
for t in "${targets[@]}"; do
  name=${t%_fuzz}
  seeds=tests/fuzz/corpus/$name
  work=$build_dir/corpus/$name
  artifacts=$build_dir/artifacts/$t
  mkdir -p "$work" "$artifacts"
  dict=()
  case $t in
    json_fuzz | jwt_claims_fuzz) dict=(-dict=tests/fuzz/json.dict) ;;
    config_fuzz) dict=(-dict=tests/fuzz/config.dict) ;;
    request_fuzz) dict=(-dict=tests/fuzz/http.dict) ;;
    token_response_fuzz) dict=(-dict=tests/fuzz/token_response.dict) ;;
  esac
  log=$build_dir/$t.log
  started=$build_dir/$t.started
  touch "$started"
  echo "fuzz: $t for ${seconds}s (log: $log)"
  # shellcheck disable=SC2086  # FUZZ_FLAGS is a list of flags
  if "$build_dir/$t" -max_total_time="$seconds" -timeout="${FUZZ_INPUT_TIMEOUT:-5}" -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "${dict[@]}" ${FUZZ_FLAGS:-} "$work" "$seeds" >"$log" 2>&1; then
    { grep -E ' cov: ' "$log" | tail -n 1
      grep -E '^Done [0-9]+ runs|stat::(average_exec_per_sec|new_units_added|peak_rss_mb)' "$log"
    } | sed "s/^/  /" || true
  else
    mapfile -t findings < <(find "$artifacts" -type f -newer "$started")
    if ((${#findings[@]})) && only_starved_timeouts "$t" "${findings[@]}"; then
      continue
    fi
    echo "fuzz: $t FAILED; last lines of $log:" >&2
    tail -n 60 "$log" >&2
    printf '  reproducer: %s\n' "${findings[@]}" >&2
    failed+=("$t")
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: crashes in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no crash in ${targets[*]} (${seconds}s each)"
