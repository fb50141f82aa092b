#!/usr/bin/env python3
"""Checks the observability files against what authgate really exports (issue 6 §1, §2).

Usage:
  scripts/check_observability.py --metrics FILE|URL [--strict] [--repo DIR]
  scripts/check_observability.py --compose-only [--repo DIR]

1. Metric names. Every PromQL expression in config/grafana/dashboards/*.json (each "expr",
   and the "query"/"definition" of query-type template variables) and in
   config/prometheus/alerts.yml ("expr" of every rule) is reduced to the metric names it
   selects. Histogram series names (_bucket, _sum, _count) are reduced to their family.
   Each name must be a metric family of the given /metrics text (Prometheus text format,
   read from a file, "-" for stdin, or an http(s) URL; this script starts nothing).

   Fallback: prometheus-cpp prints a family (HELP/TYPE lines) only once it has at least
   one series, and several authgate families only get series on first use
   (authgate_auth_decisions_total, authgate_jwks_*, authgate_refresh_grants_total, ...):
   a scrape of an idle gateway lacks them. So a name that is not in the scrape is
   accepted when gateway/metrics/metrics.cpp registers it (`.Name("...")`), and reported as
   "registered, no series in this scrape". --strict turns that fallback off.

2. Mounts. Every bind mount of docker-compose.yml (short "- ./src:/dst[:ro]" and long
   "source: ./src" volume syntax), every build context and env_file must exist in the
   repository, and none may point outside it.

The YAML files are read with small line-based extractors (python3 stdlib only): block
scalars ("expr: |") and one-line values are understood; flow-style lists of volumes are
not. Exit status: 0 when everything checks, 1 with one line per problem otherwise, 2 on
usage errors.
"""
import argparse
import glob
import json
import os
import re
import sys
import urllib.request

HIST_SUFFIXES = ("_bucket", "_sum", "_count")
PROMQL_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
    "and", "or", "unless", "offset", "atan2", "inf", "nan",
}
# Grafana template variables: $var, ${var}, ${var:fmt}, [[var]]
GRAFANA_VAR = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[^\]]*\]\]")
IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def strip_strings(expr):
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)


def metric_names(expr):
    """The metric names an expression selects (a set)."""
    names = set()
    for m in re.finditer(r'__name__\s*=~?\s*"([^"]*)"', expr):
        names.add(m.group(1))
    # label_values(metric{...}, label) / label_values(label): only the metric counts.
    expr = re.sub(r"label_values\(\s*([^,()]*?)\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\)",
                  r"\1", expr)
    expr = re.sub(r"label_values\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)", "", expr)
    expr = GRAFANA_VAR.sub("1m", strip_strings(expr))
    expr = re.sub(r"\{[^}]*\}", " ", expr)          # label matchers
    expr = re.sub(r"\[[^\]]*\]", " ", expr)         # ranges and subqueries
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    for m in IDENT.finditer(expr):
        word = m.group(0)
        rest = expr[m.end():].lstrip()
        if rest.startswith("("):
            continue                                 # a function
        if word.lower() in PROMQL_KEYWORDS:
            continue
        start = m.start()
        if start and (expr[start - 1].isdigit() or expr[start - 1] == "."):
            continue                                 # 1e3, 0.5, 5m
        names.add(word)
    return names


def dashboard_exprs(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    out = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "expr" and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc.get("panels", []))
    for var in doc.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        q = var.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        for text in (q, var.get("definition")):
            if isinstance(text, str) and text:
                out.append(text)
    return out


def yaml_values(path, key):
    """Values of `key:` in a YAML file, one-line or block scalars (| or >)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    out = []
    pat = re.compile(r"^(\s*)(?:-\s+)?" + re.escape(key) + r":\s*(.*?)\s*$")
    i = 0
    while i < len(lines):
        m = pat.match(lines[i])
        i += 1
        if not m:
            continue
        indent = len(m.group(1))
        value = m.group(2)
        if re.fullmatch(r"[|>][-+0-9]*", value):
            block = []
            while i < len(lines) and (not lines[i].strip() or
                                      len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i].strip())
                i += 1
            out.append(" ".join(block))
        else:
            if value[:1] in "\"'" and value[-1:] == value[:1]:
                value = value[1:-1]
            out.append(value)
    return out


def read_metrics(source):
    if re.match(r"https?://", source):
        with urllib.request.urlopen(source, timeout=10) as r:
            return r.read().decode("utf-8", "replace")
    if source == "-":
        return sys.stdin.read()
    with open(source, encoding="utf-8") as f:
        return f.read()


def scrape_families(text):
    families = set()
    for line in text.splitlines():
        m = re.match(r"#\s+(?:HELP|TYPE)\s+(\S+)", line)
        if m:
            families.add(m.group(1))
            continue
        m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(?:\{|\s)", line)
        if m:
            name = m.group(1)
            families.add(name)
            for s in HIST_SUFFIXES:
                if name.endswith(s):
                    families.add(name[: -len(s)])
    return families


def registered_families(repo):
    path = os.path.join(repo, "gateway", "metrics", "metrics.cpp")
    with open(path, encoding="utf-8") as f:
        return set(re.findall(r'\.Name\(\s*"([A-Za-z_:][A-Za-z0-9_:]*)"\s*\)', f.read()))


def family_of(name, known):
    if name in known:
        return name
    for s in HIST_SUFFIXES:
        if name.endswith(s) and name[: -len(s)] in known:
            return name[: -len(s)]
    return None


def check_metrics(repo, metrics_source, strict):
    problems, notes = [], []
    used = {}  # name -> files
    dashboards = sorted(glob.glob(os.path.join(repo, "config", "grafana", "dashboards", "*.json")))
    alerts = os.path.join(repo, "config", "prometheus", "alerts.yml")
    sources = [(p, dashboard_exprs(p)) for p in dashboards]
    sources.append((alerts, yaml_values(alerts, "expr")))
    for path, exprs in sources:
        rel = os.path.relpath(path, repo)
        if not exprs:
            problems.append(f"{rel}: no expressions found")
        for e in exprs:
            for n in metric_names(e):
                used.setdefault(n, set()).add(rel)
    if not dashboards:
        problems.append("config/grafana/dashboards: no dashboard JSON")

    scraped = scrape_families(read_metrics(metrics_source))
    if not any(f.startswith("authgate_") for f in scraped):
        problems.append(f"{metrics_source}: no authgate_ metric family: not an authgate /metrics text")
    registered = registered_families(repo)
    for name in sorted(used):
        where = ", ".join(sorted(used[name]))
        if family_of(name, scraped):
            continue
        fam = family_of(name, registered)
        if fam and not strict:
            notes.append(f"note: {fam}: registered in gateway/metrics/metrics.cpp, no series in this scrape ({where})")
            continue
        problems.append(f"{name}: not a metric family of {metrics_source} ({where})")
    return problems, notes, used


def compose_paths(path):
    """(kind, host path) of every bind mount, build context and env_file in a compose file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    out = []
    section, section_indent = None, -1
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        text = line.strip()
        if section and indent <= section_indent and not (text.startswith("- ") and indent == section_indent):
            section = None
        m = re.match(r"(volumes|env_file|build):\s*(.*)$", text)
        if m and indent > 0:
            key, value = m.group(1), m.group(2).strip().strip("\"'")
            if value and key == "build":
                out.append(("build context", value))
            elif value and key == "env_file":
                out.append(("env_file", value))
            else:
                section, section_indent = key, indent
            continue
        if not section:
            continue
        item = text[2:].strip() if text.startswith("- ") else text
        item = item.strip("\"'")
        if section == "volumes":
            m = re.match(r"source:\s*(.*)$", item)
            if m:
                src = m.group(1).strip().strip("\"'")
                if src[:1] in "./~":
                    out.append(("mount", src))
            elif text.startswith("- ") and ":" in item and not re.match(r"\w+:\s", item):
                src = item.split(":", 1)[0]
                if src[:1] in "./~":
                    out.append(("mount", src))
        elif section == "env_file" and text.startswith("- "):
            out.append(("env_file", item))
        elif section == "build":
            m = re.match(r"context:\s*(.*)$", item)
            if m:
                out.append(("build context", m.group(1).strip().strip("\"'")))
    return out


def check_compose(repo):
    problems = []
    path = os.path.join(repo, "docker-compose.yml")
    if not os.path.isfile(path):
        return [f"{path}: missing"], []
    entries = compose_paths(path)
    if not entries:
        problems.append("docker-compose.yml: no mounts or build contexts found")
    root = os.path.realpath(repo)
    for kind, src in entries:
        full = os.path.realpath(os.path.join(repo, os.path.expanduser(src)))
        if full != root and not full.startswith(root + os.sep):
            problems.append(f"docker-compose.yml: {kind} {src} is outside the repository")
        elif not os.path.exists(full):
            problems.append(f"docker-compose.yml: {kind} {src} does not exist")
        elif kind == "build context" and not os.path.isfile(os.path.join(full, "Dockerfile")):
            problems.append(f"docker-compose.yml: build context {src} has no Dockerfile")
    return problems, entries


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--metrics", help="a /metrics text: file, '-' or http(s) URL")
    ap.add_argument("--strict", action="store_true",
                    help="every name must be in the scrape (no metrics.cpp fallback)")
    ap.add_argument("--compose-only", action="store_true", help="check docker-compose.yml mounts only")
    ap.add_argument("--repo", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("-v", "--verbose", action="store_true", help="list the names and mounts checked")
    args = ap.parse_args()
    if not args.compose_only and not args.metrics:
        ap.error("--metrics FILE|URL is required (or --compose-only)")
    repo = os.path.abspath(args.repo)

    problems, entries = check_compose(repo)
    if args.verbose:
        for kind, src in entries:
            print(f"compose {kind}: {src}")
    if not args.compose_only:
        try:
            p, notes, used = check_metrics(repo, args.metrics, args.strict)
        except (OSError, ValueError) as e:
            print(f"check_observability: {e}", file=sys.stderr)
            return 1
        problems += p
        for n in notes:
            print(n)
        if args.verbose:
            for name in sorted(used):
                print(f"metric {name}: {', '.join(sorted(used[name]))}")
        print(f"check_observability: {len(used)} metric names checked, {len(entries)} compose paths")
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
