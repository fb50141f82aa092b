#!/usr/bin/env bash
# Builds the authgate container image with podman (no Docker engine here), idempotently:
#   1. installs what is missing (scripts/install-deps.sh test: podman, runc, debootstrap, ...);
#   2. makes the Debian 12 base image the Dockerfile's FROM lines name, once: debootstrap
#      --variant=minbase from the mirror the machine's apt sources name, imported as
#      debian:bookworm and debian:bookworm-slim (registry images cannot be pulled here; a user
#      with a Docker engine gets the real ones from the registry, the Dockerfile is unchanged).
#      Skipped while both tags exist in podman's storage (root: /var/lib/containers, which a
#      fresh clone reuses); BASE_REBUILD=1 makes it again;
#   3. builds the image and prints its size (and its size over the base).
#
#   scripts/image.sh             # full: the Dockerfile's multi-stage build (compiles authgate
#                                #   inside the build stage, 2 cores: 10-20 minutes)
#   scripts/image.sh prebuilt    # CI: the Dockerfile's runtime-deps stage plus the plain build's
#                                #   binary (build/gateway/authgate, stripped) (docker/prebuilt.Containerfile)
#   scripts/image.sh base        # only step 2
#   scripts/image.sh stack       # the base, then the images of docker-compose.yml's demo-api,
#                                #   oidc-provider, redis and prometheus services (docker/*.Containerfile;
#                                #   scripts/image_stack.py runs them with authgate's image)
#
# | variable    | default      | meaning |
# | IMAGE       | authgate:dev | the tag of the built image (docker-compose.yml's authgate image) |
# | BUILD_DIR   | build        | the plain build tree (prebuilt: its gateway/authgate) |
# | BASE_REBUILD| 0            | 1: debootstrap the base again even when it exists |
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
mode=${1:-full}
case $mode in full | prebuilt | base | stack) ;; *) echo "usage: $0 [full|prebuilt|base|stack]" >&2; exit 2 ;; esac
image=${IMAGE:-authgate:dev}
build_dir=${BUILD_DIR:-build}
suite=bookworm

scripts/install-deps.sh test >/dev/null
source scripts/lib/podman.sh
podman_setup "$(cd "$repo" && realpath -m "$build_dir/podman")"   # BUILD_DIR may be absolute

# The commit the image is built from ("-dirty" when the tree has uncommitted changes): the
# build stage has no .git (.dockerignore), so it comes in as a build argument.
git_commit() {
  local c
  c=$(git -C "$repo" rev-parse HEAD 2>/dev/null) || { echo unknown; return; }
  git -C "$repo" diff --quiet HEAD -- 2>/dev/null || c+=-dirty
  echo "$c"
}

image_bytes() { podman image inspect --format '{{.Size}}' "$1"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }

make_base() {
  if [[ ${BASE_REBUILD:-0} != 1 ]] && podman image exists debian:$suite && podman image exists debian:$suite-slim; then
    echo "image: base debian:$suite (cached, $(mb "$(image_bytes debian:$suite)"))"
    return
  fi
  local mirror security updates rootfs start=$SECONDS
  mirror=$(apt_mirror $suite)
  [[ -n $mirror ]] || { echo "image: no 'deb ... $suite' source in /etc/apt: cannot debootstrap" >&2; return 1; }
  security=$(apt_mirror $suite-security)
  updates=$(apt_mirror $suite-updates)
  rootfs=$(mktemp -d /var/tmp/authgate-base.XXXXXX)
  # Removed on every exit path (a half-made rootfs is never imported).
  trap 'rm -rf "$rootfs"' EXIT
  echo "image: debootstrap --variant=minbase $suite from $mirror"
  timeout 900 debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 ||
    { tail -n 20 "$rootfs.log" >&2; rm -f "$rootfs.log"; return 1; }
  rm -f "$rootfs.log"
  # The same sources as the host (updates and security included), so the image's packages are
  # the versions the host's binary was built and checked against (scripts/check_docker_runtime.sh).
  {
    echo "deb $mirror $suite main"
    [[ -z $updates ]] || echo "deb $updates $suite-updates main"
    [[ -z $security ]] || echo "deb $security $suite-security main"
  } >"$rootfs/etc/apt/sources.list"
  # As Debian's official slim images: packages installed later leave out documentation, man
  # pages and translations; apt keeps no downloaded .deb files.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/authgate-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CFG
  echo 'APT::Keep-Downloaded-Packages "false";' >"$rootfs/etc/apt/apt.conf.d/authgate-clean"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
  tar --numeric-owner -C "$rootfs" -c . |
    podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' - debian:$suite >/dev/null
  podman tag debian:$suite debian:$suite-slim
  rm -rf "$rootfs"
  trap - EXIT
  echo "image: base debian:$suite and debian:$suite-slim made in $((SECONDS - start)) s ($(mb "$(image_bytes debian:$suite)"))"
}

# The compose stack's other core services, from the local base (their registry images cannot
# be pulled here). Tags: authgate-<service>:dev (scripts/image_stack.py maps the services to them).
make_stack() {
  local start=$SECONDS ctx node
  podman build --format docker --network host --pull=never -t authgate-demo-api:dev -f docker/demo-api.Containerfile docker
  podman build --format docker --network host --pull=never -t authgate-redis:dev -f docker/redis.Containerfile docker
  podman build --format docker --network host --pull=never -t authgate-prometheus:dev -f docker/prometheus.Containerfile docker
  # The provider: the host's Node.js and tests/oidc with its installed packages (install-deps.sh
  # test made both), so the container starts without the npm registry.
  node=$(readlink -f "$(command -v node)")
  [[ -d tests/oidc/node_modules/oidc-provider ]] || { echo "image: tests/oidc/node_modules missing (scripts/install-deps.sh test)" >&2; return 1; }
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  cp "$node" "$ctx/node"
  mkdir "$ctx/oidc"
  cp -r tests/oidc/package.json tests/oidc/package-lock.json tests/oidc/provider.mjs tests/oidc/node_modules "$ctx/oidc/"
  podman build --format docker --network host --pull=never -t authgate-oidc-provider:dev -f docker/oidc-provider.Containerfile "$ctx"
  rm -rf "$ctx"
  trap - EXIT
  echo "image: stack images authgate-demo-api:dev authgate-redis:dev authgate-prometheus:dev authgate-oidc-provider:dev in $((SECONDS - start)) s"
}

make_base
[[ $mode == base ]] && exit 0
if [[ $mode == stack ]]; then make_stack; exit 0; fi

start=$SECONDS
commit=$(git_commit)
# The image this build replaces, removed after it (every CI run would otherwise leave one
# untagged image behind); kept when a container still uses it.
previous=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
# --network host: the build stages' apt-get reach the mirror exactly as the host does (no
# bridge or NAT is set up for a build). --pull=never: the base is local, never a registry's.
# --format docker: the OCI image format has no HEALTHCHECK (podman would drop it with a warning).
build=(podman build --format docker --network host --pull=never --build-arg "AUTHGATE_GIT_COMMIT=$commit")
if [[ $mode == full ]]; then
  "${build[@]}" -t "$image" -f Dockerfile .
else
  binary=$build_dir/gateway/authgate
  [[ -x $binary ]] || { echo "image: no $binary (run scripts/build.sh first)" >&2; exit 1; }
  "${build[@]}" --target runtime-deps -t authgate-runtime-deps:dev -f Dockerfile .
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  # The plain build's binary, without debug info (as the Dockerfile's build stage does).
  strip --strip-debug -o "$ctx/authgate" "$binary"
  "${build[@]}" --build-arg RUNTIME_DEPS=authgate-runtime-deps:dev -t "$image" \
    -f docker/prebuilt.Containerfile "$ctx"
fi
current=$(podman image inspect --format '{{.Id}}' "$image")
if [[ -n $previous && $previous != "$current" ]]; then podman rmi "$previous" >/dev/null 2>&1 || true; fi
bytes=$(image_bytes "$image")
base=$(image_bytes debian:$suite-slim)
echo "image: $image ($mode) built in $((SECONDS - start)) s: $(mb "$bytes"), $(mb $((bytes - base))) over the base debian:$suite-slim ($(mb "$base"))"
podman run --rm --no-healthcheck --entrypoint /usr/local/bin/authgate "$image" --version
