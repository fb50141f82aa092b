#!/usr/bin/env bash
# Checks that the Dockerfile's runtime stage installs a Debian package for every
# shared library the authgate binary links, in seconds and without an engine, with a
# message naming the package (scripts/test-image.sh then runs the image for real).
# Libraries of the base image (libc6, libstdc++6, libgcc-s1, ...) need no line.
# Usage: scripts/check_docker_runtime.sh [path/to/authgate]   (default build/gateway/authgate)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-${BUILD_DIR:-build}/gateway/authgate}
[[ -x $binary ]] || { echo "check_docker_runtime: no binary at $binary" >&2; exit 2; }

# Packages of debian:bookworm-slim that every image already has.
base='^(libc6|libstdc\+\+6|libgcc-s1|zlib1g|libzstd1|liblzma5|libcrypt1)$'

# The runtime stage's apt-get install line(s): from "FROM ... AS runtime" to the next FROM.
# Comments are dropped first, so a package named only in a comment does not count.
listed=$(awk '/^FROM .* AS runtime/{r=1; next} /^FROM /{r=0} r' Dockerfile | sed 's/#.*//' |
  tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort -u)

missing=()
while read -r lib path; do
  [[ -n $path ]] || continue
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n1 | cut -d: -f1) ||
    pkg=$(dpkg -S "$path" 2>/dev/null | head -n1 | cut -d: -f1) || true
  if [[ -z $pkg ]]; then
    echo "check_docker_runtime: $lib ($path) belongs to no Debian package" >&2
    missing+=("$lib")
    continue
  fi
  [[ $pkg =~ $base ]] && continue
  grep -qx -- "$pkg" <<<"$listed" || missing+=("$pkg (for $lib)")
done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}')

if ((${#missing[@]})); then
  echo "check_docker_runtime: the Dockerfile's runtime stage does not install:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi
echo "check_docker_runtime: every shared library of $binary has its package in the runtime stage"
