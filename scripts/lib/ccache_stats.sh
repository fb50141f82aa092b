# Sourced by the build scripts: the compiler cache's hit rate of one build.
#   ccache_snapshot            # before the build
#   ccache_report "plain build" # after it: "plain build: ccache 181/186 hits (97 %)"
# Counts are deltas of ccache's global statistics, so a build running beside this
# one on the same cache is counted too. Silent when ccache is not installed.
ccache_stats_now() {
  ccache --print-stats 2>/dev/null | awk -F'\t' '
    $1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { hit += $2 }
    $1 == "cache_miss" { miss += $2 }
    END { print hit + 0, miss + 0 }'
}
ccache_snapshot() {
  command -v ccache >/dev/null || return 0
  read -r _ccache_hit0 _ccache_miss0 < <(ccache_stats_now)
}
ccache_report() {
  command -v ccache >/dev/null || return 0
  local hit miss total
  read -r hit miss < <(ccache_stats_now)
  hit=$((hit - ${_ccache_hit0:-0}))
  miss=$((miss - ${_ccache_miss0:-0}))
  total=$((hit + miss))
  if ((total == 0)); then
    echo "$1: ccache: nothing compiled"
  else
    echo "$1: ccache $hit/$total hits ($((100 * hit / total)) %)"
  fi
}

# ccache_ensure_size GB: raises ccache's max_size to GB gigabytes when it is smaller
# (the plain, ASan, TSan and fuzz trees together need about 4 GB; load-tests/RESULTS.md,
# "CI budget"). A larger setting is left alone.
ccache_ensure_size() {
  command -v ccache >/dev/null || return 0
  local have_gb
  # max_size is printed as e.g. 5.0G, 500.0M or 20Gi (0: no limit).
  have_gb=$(ccache --get-config max_size 2>/dev/null | awk '{
    n = $0 + 0; u = $0; sub(/^[0-9.]+/, "", u); u = substr(u, 1, 1)
    f = (u == "T") ? 1000 : (u == "G") ? 1 : (u == "M") ? 0.001 : (u == "K") ? 0.000001 : 0
    print (n == 0) ? 1000000 : int(n * f) }')
  if [[ -n $have_gb ]] && ((have_gb < $1)); then
    ccache --max-size "${1}G" >/dev/null && echo "ccache: max_size raised to ${1} GB (was ${have_gb} GB)"
  fi
}
