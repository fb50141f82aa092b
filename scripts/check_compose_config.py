#!/usr/bin/env python3
"""Checks the configuration the docker-compose stack gives authgate, without an engine.

Reads `docker-compose config` (the resolved file), takes the authgate service's environment
and the host file it mounts at the path of the image's --config (/etc/authgate/gateway.yaml),
and runs `authgate --check-config` on that file with exactly that environment. So a key the
loader refuses, or a *_env variable the stack does not set, fails CI with the loader's
message, before scripts/test-image.sh starts the image with that file.

Usage: scripts/check_compose_config.py [--authgate build/gateway/authgate] [--repo DIR]
Exit status: 0 when the config loads, 1 when it does not (authgate's errors are printed),
2 on a usage or compose-file problem.
"""
import argparse
import os
import subprocess
import sys

import yaml

CONFIG_IN_IMAGE = "/etc/authgate/gateway.yaml"  # Dockerfile: ENTRYPOINT ... --config <this>


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--authgate", default=None)
    ap.add_argument("--service", default="authgate")
    args = ap.parse_args()
    repo = os.path.abspath(args.repo)
    binary = args.authgate or os.path.join(repo, os.environ.get("BUILD_DIR", "build"), "gateway", "authgate")

    resolved = subprocess.run(["docker-compose", "-f", os.path.join(repo, "docker-compose.yml"), "config"],
                              capture_output=True, text=True, cwd=repo)
    if resolved.returncode != 0:
        print("check_compose_config: docker-compose config failed:\n" + resolved.stderr, file=sys.stderr)
        return 2
    service = (yaml.safe_load(resolved.stdout).get("services") or {}).get(args.service)
    if not service:
        print(f"check_compose_config: no service {args.service!r} in docker-compose.yml", file=sys.stderr)
        return 2

    env = service.get("environment") or {}
    if isinstance(env, list):  # KEY=VALUE form
        env = dict(item.split("=", 1) for item in env)
    source = None
    for v in service.get("volumes") or []:
        if isinstance(v, str):
            parts = v.split(":")
            src, dst = parts[0], parts[1] if len(parts) > 1 else ""
        else:
            src, dst = v.get("source"), v.get("target")
        if dst == CONFIG_IN_IMAGE:
            source = src if os.path.isabs(src) else os.path.join(repo, src)
    if not source:
        print(f"check_compose_config: service {args.service!r} mounts nothing at {CONFIG_IN_IMAGE}; the image "
              "would run its built-in config/gateway.yaml", file=sys.stderr)
        return 2

    run_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    run_env.update({k: "" if v is None else str(v) for k, v in env.items()})
    check = subprocess.run([binary, "--check-config", source], capture_output=True, text=True, env=run_env)
    if check.returncode != 0:
        print(f"check_compose_config: {os.path.relpath(source, repo)} with the {args.service!r} service's "
              "environment does not load:\n" + check.stdout + check.stderr, file=sys.stderr)
        return 1
    print(f"check_compose_config: {os.path.relpath(source, repo)} loads with the stack's environment")
    return 0


if __name__ == "__main__":
    sys.exit(main())
