# Sourced by scripts/image.sh and scripts/test-image.sh: podman set up for this kind of host,
# and the local Debian base image the Dockerfile's FROM lines name.
#
#   source scripts/lib/podman.sh
#   podman_setup "$build_dir/podman"      # writes containers.conf, exports CONTAINERS_CONF
#   apt_mirror bookworm                   # the host's Debian mirror URL for that suite
#
# Two settings every container needs on this VM (measured, issue 17), kept in a containers.conf
# of our own rather than on every command line, so `podman build`, `podman run` and
# podman-compose all get them:
#   runtime runc   crun refuses a cgroup v1 / hybrid host ("cgroups in hybrid mode not supported");
#   ulimits        without explicit ones runc fails with "error setting rlimit type 7:
#                  operation not permitted" (the container's default RLIMIT_NOFILE is above
#                  what this host lets it set). 1024 descriptors bound the gateway to about
#                  500 proxied connections per container: raise both for a real deployment.
# CONTAINERS_CONF replaces the system's containers.conf for these commands only; image storage
# stays podman's default (/var/lib/containers as root), so the cached base survives a fresh clone.

podman_setup() {
  local dir
  dir=$(realpath -m "$1")   # podman resolves CONTAINERS_CONF from other directories too
  mkdir -p "$dir"
  cat >"$dir/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
CONF
  export CONTAINERS_CONF=$dir/containers.conf
}

# apt_mirror SUITE: the URI of the first enabled "deb" source for SUITE in the machine's apt
# configuration (sources.list, sources.list.d/*.list and deb822 *.sources), so the base image
# comes from the mirror this host already trusts; no host name is written into the repo.
apt_mirror() {
  local suite=$1 f
  {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [[ -f $f ]] || continue
      # deb [options] URI SUITE COMPONENTS...
      sed -E 's/#.*//; s/\[[^]]*\]//' "$f" | awk -v s="$suite" '$1 == "deb" && $3 == s {print $2}'
    done
    for f in /etc/apt/sources.list.d/*.sources; do
      [[ -f $f ]] || continue
      # deb822 stanzas, blank-line separated: Types, URIs, Suites (Enabled: no skips one).
      awk -v s="$suite" '
        function flush() { if (deb && on && has) print uri; deb = 0; on = 1; has = 0; uri = "" }
        BEGIN { on = 1 }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        tolower($1) == "types:"   { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
        tolower($1) == "uris:"    { uri = $2 }
        tolower($1) == "suites:"  { for (i = 2; i <= NF; i++) if ($i == s) has = 1 }
        tolower($1) == "enabled:" { on = (tolower($2) != "no") }
        END { flush() }' "$f"
    done
  } | head -n1
}
