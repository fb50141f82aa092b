#!/usr/bin/env python3
"""Starts docker-compose.yml (authgate, demo-api, oidc-provider, redis, prometheus) with plain
podman commands derived from the resolved compose file (`docker-compose config`): no Docker
engine runs here; podman-compose would use the compose file's registry images, and podman 4.3's
CNI networks resolve service names only with the dnsname plugin (not installed).

Every service runs in one podman pod (one network namespace): each service name is an
/etc/hosts entry for 127.0.0.1, so "redis:6379", "demo-api:9080" and "http://oidc-provider:4100"
in config/compose.yaml reach the service listening in the pod, and the pod publishes the
compose file's ports on the host's loopback. Taken from the compose file unchanged: the
environment, the mounted files, the commands, the working directories and the published ports.
Replaced: the registry images, by the local images of scripts/image.sh (authgate:dev, and
`scripts/image.sh stack` for the others); the provider's `npm ci` line is dropped because its
local image already holds the installed packages (docker/oidc-provider.Containerfile).
Not started: grafana (its image cannot be pulled here and Debian 12 has no grafana package).

Usage:
  scripts/image_stack.py up   --pod NAME [--image authgate:dev]   # prints the podman commands
  scripts/image_stack.py down --pod NAME
Exit status: 0 when every container started, 1 when a podman command failed, 2 on a usage
or compose-file problem.
"""
import argparse
import os
import shlex
import subprocess
import sys

import yaml

# Start order: authgate depends on the first three, prometheus on authgate.
CORE = ["redis", "demo-api", "oidc-provider", "authgate", "prometheus"]
LOCAL_IMAGES = {
    "demo-api": "authgate-demo-api:dev",
    "oidc-provider": "authgate-oidc-provider:dev",
    "redis": "authgate-redis:dev",
    "prometheus": "authgate-prometheus:dev",
}


def run(cmd, check=True):
    print("+ " + shlex.join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, timeout=120)
    if check and r.returncode != 0:
        raise SystemExit(1)
    return r.returncode


def env_items(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return [(k, "" if v is None else str(v)) for k, v in sorted(env.items())]


def volume_args(service):
    out = []
    for v in service.get("volumes") or []:
        if isinstance(v, str):
            out.append(v)
        else:
            spec = f"{v['source']}:{v['target']}"
            if v.get("read_only"):
                spec += ":ro"
            out.append(spec)
    return out


def port_args(service):
    out = []
    for p in service.get("ports") or []:
        if isinstance(p, dict):
            ip = p.get("host_ip", "")
            spec = f"{ip + ':' if ip else ''}{p['published']}:{p['target']}/{p.get('protocol', 'tcp')}"
        else:
            spec = str(p)
        out.append(spec)
    return out


def command_of(name, service):
    cmd = service.get("command")
    if cmd is None:
        return []
    if isinstance(cmd, str):
        cmd = shlex.split(cmd)
    if name == "oidc-provider":
        # The local image has the packages installed; `npm ci` would need the npm registry.
        cmd = [("\n".join(line for line in c.splitlines() if not line.strip().startswith("npm ci")) + "\n")
               if "npm ci" in c else c for c in cmd]
    return list(cmd)


def up(args, services):
    missing = [s for s in CORE if s not in services]
    if missing:
        print(f"image_stack: docker-compose.yml has no service {', '.join(missing)}", file=sys.stderr)
        return 2
    pod = ["podman", "pod", "create", "--name", args.pod]
    for name in CORE:
        pod += ["--add-host", f"{name}:127.0.0.1"]
        for p in port_args(services[name]):
            pod += ["-p", p]
    run(pod)
    for name in CORE:
        s = services[name]
        image = args.image if name == "authgate" else LOCAL_IMAGES[name]
        cmd = ["podman", "run", "-d", "--pod", args.pod, "--name", f"{args.pod}-{name}"]
        for k, v in env_items(s):
            cmd += ["-e", f"{k}={v}"]
        for v in volume_args(s):
            cmd += ["-v", v]
        if s.get("working_dir"):
            cmd += ["-w", s["working_dir"]]
        cmd.append(image)
        cmd += command_of(name, s)
        run(cmd)
    return 0


def down(args):
    # Stops at once (the image test has checked the drain before) and removes every container.
    run(["podman", "pod", "rm", "-f", "-t", "0", args.pod], check=False)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("action", choices=["up", "down"])
    ap.add_argument("--pod", required=True)
    ap.add_argument("--image", default=None, help="authgate's image (default: the compose file's)")
    ap.add_argument("--repo", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    args = ap.parse_args()
    if args.action == "down":
        return down(args)
    repo = os.path.abspath(args.repo)
    resolved = subprocess.run(["docker-compose", "-f", os.path.join(repo, "docker-compose.yml"), "config"],
                              capture_output=True, text=True, cwd=repo)
    if resolved.returncode != 0:
        print("image_stack: docker-compose config failed:\n" + resolved.stderr, file=sys.stderr)
        return 2
    services = yaml.safe_load(resolved.stdout).get("services") or {}
    args.image = args.image or services.get("authgate", {}).get("image", "authgate:dev")
    return up(args, services)


if __name__ == "__main__":
    sys.exit(main())
