#!/usr/bin/env python3
"""Keeps the README's reference tables honest (run by ctest: DocsConfigReference,
DocsMetricsReference).

config:  the key paths of config/gateway.yaml (every key, including the commented-out
         example blocks) == the keys of the README's config reference table, and every
         key name is one the loader accepts (gateway/config/loader.cpp, expect_map lists)
         and every name the loader accepts appears in config/gateway.yaml.
metrics: the metric families registered in gateway/metrics/metrics.cpp (name and type)
         == the rows of the README's metrics reference table.
quickstart: the YAML of "Put authgate in front of your API in 5 minutes" passes
         `authgate --check-config` (needs --authgate BINARY).

Key paths: `limits.max_body_bytes`, list items as `[]` (`routes[].match.host`). In
config/gateway.yaml a commented-out key is written as `# key: value` with the `#` where the
key would start, and its children as `#   child: value` (two more spaces per level); a
trailing `# or other_key: ...` names an alternative key at the same level. Flow mappings
(`path: {prefix: /x}`) give their keys too, except where the keys are the user's own
(claim names, header names).

Usage: scripts/check_docs.py [config|metrics|quickstart|all] [--root DIR]
       [--yaml F] [--readme F] [--loader F] [--metrics F] [--authgate BINARY]
Exit 0 when everything matches; 1 with a list of what is missing where.
"""
import argparse
import re
import sys
from pathlib import Path

# Mappings whose keys are the user's data (claim names, header names), not config keys.
FREE_FORM = {"routes[].require.claims", "routes[].forward.headers"}

KEY_LINE = re.compile(r"^( *)(- +)?([A-Za-z_][A-Za-z0-9_]*):(?:\s|$)(.*)$")
OR_KEY = re.compile(r"\bor\s+([a-z_][a-z0-9_]*):(?:\s|$)")
FLOW_KEY = re.compile(r"(?:^|[{,])\s*([A-Za-z_][A-Za-z0-9_-]*)\s*:")


def split_comment(value):
    """`value  # comment` -> (value, comment); a '#' inside quotes is not a comment."""
    quote = None
    for i, c in enumerate(value):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or value[i - 1] in " \t"):
            return value[:i].strip(), value[i + 1:]
    return value.strip(), ""


def yaml_key_paths(text):
    """Every key path of the reference file, with the line it is on."""
    paths = {}
    stack = []  # (indent, path) of keys and list items that may have children
    skip_deeper_than = None  # inside a FREE_FORM block mapping
    seen_real_key = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        stripped = line.lstrip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            if not seen_real_key:
                continue  # the file's header prose
            col = line.index("#")
            rest = line[col + 1:]
            if rest.startswith(" "):
                rest = rest[1:]
            line = " " * col + rest
        else:
            seen_real_key = True
        m = KEY_LINE.match(line)
        if not m:
            continue
        indent, dash, key, value = len(m.group(1)), m.group(2), m.group(3), m.group(4)
        if skip_deeper_than is not None:
            if indent > skip_deeper_than:
                continue
            skip_deeper_than = None

        def parent(at):
            while stack and stack[-1][0] >= at:
                stack.pop()
            return stack[-1][1] if stack else ""

        if dash:
            base = parent(indent) + "[]"
            stack.append((indent, base))
            key_indent = indent + len(dash)
        else:
            key_indent = indent
            base = parent(indent)
        path = f"{base}.{key}" if base else key
        paths.setdefault(path, lineno)
        stack.append((key_indent, path))

        value, comment = split_comment(value)
        for alt in OR_KEY.findall(comment):
            paths.setdefault(f"{base}.{alt}" if base else alt, lineno)
        if path in FREE_FORM:
            if not value:
                skip_deeper_than = key_indent
            continue
        if value.startswith("{"):
            for child in FLOW_KEY.findall(value):
                paths.setdefault(f"{path}.{child}", lineno)
    return paths


def readme_table(text, name, cells):
    """Rows of the table between <!-- NAME:begin --> and <!-- NAME:end -->:
    {first-cell code span: (line, [further cells])}."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin not in text or end not in text:
        raise SystemExit(f"README: markers {begin} ... {end} not found")
    start_line = text[: text.index(begin)].count("\n") + 1
    body = text[text.index(begin): text.index(end)]
    rows = {}
    for offset, line in enumerate(body.splitlines()):
        if not line.startswith("| `"):
            continue
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        m = re.fullmatch(r"`([^`]+)`", parts[0])
        if not m:
            raise SystemExit(f"README:{start_line + offset}: first cell must be one `key`: {parts[0]}")
        if len(parts) < cells:
            raise SystemExit(f"README:{start_line + offset}: expected {cells} cells: {line}")
        if m.group(1) in rows:
            raise SystemExit(f"README:{start_line + offset}: {m.group(1)} listed twice")
        rows[m.group(1)] = (start_line + offset, parts[1:])
    return rows


def loader_key_names(text):
    """Every key name the loader accepts (the expect_map allowed lists)."""
    names = set()
    for m in re.finditer(r"expect_map\((.*?)\{([^{}]*)\}\s*\)", text, re.S):
        names.update(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"', m.group(2)))
    return names


def report(problems, what):
    if problems:
        print(f"{what}: FAILED")
        for p in problems:
            print("  " + p)
        return 1
    print(f"{what}: ok")
    return 0


def check_config(yaml_path, readme_path, loader_path):
    yaml_keys = yaml_key_paths(Path(yaml_path).read_text())
    readme_rows = readme_table(Path(readme_path).read_text(), "config-reference", 3)
    loader_names = loader_key_names(Path(loader_path).read_text())
    problems = []
    for key in sorted(set(yaml_keys) - set(readme_rows)):
        problems.append(f"{key} ({yaml_path}:{yaml_keys[key]}) is missing from the README config "
                        f"reference table: add a row | `{key}` | default | meaning |")
    for key in sorted(set(readme_rows) - set(yaml_keys)):
        problems.append(f"{key} (README:{readme_rows[key][0]}) is not in {yaml_path}: document it there "
                        "(commented out if it cannot have a working example), or drop the row")
    for key in sorted(readme_rows):
        if not readme_rows[key][1][0]:
            problems.append(f"{key} (README:{readme_rows[key][0]}): the default cell is empty")
    yaml_names = {k.rsplit(".", 1)[-1] for k in yaml_keys}
    for key in sorted(yaml_keys):
        name = key.rsplit(".", 1)[-1]
        if name not in loader_names:
            problems.append(f"{key} ({yaml_path}:{yaml_keys[key]}): the loader ({loader_path}) accepts no key "
                            f"named {name}")
    for name in sorted(loader_names - yaml_names):
        problems.append(f"{name}: the loader ({loader_path}) accepts it but {yaml_path} does not document it")
    print(f"config reference: {len(yaml_keys)} keys in {yaml_path}, {len(readme_rows)} README rows, "
          f"{len(loader_names)} key names in the loader")
    return report(problems, "config reference")


def check_metrics(metrics_path, readme_path):
    src = Path(metrics_path).read_text()
    families = {m.group(2): m.group(1).lower() for m in re.finditer(
        r'Build(Counter|Gauge|Histogram|Summary)\(\)\s*\.Name\("(authgate_[a-z0-9_]+)"\)', src)}
    rows = readme_table(Path(readme_path).read_text(), "metrics-reference", 4)
    problems = []
    for name in sorted(set(families) - set(rows)):
        problems.append(f"{name} ({families[name]}, {metrics_path}) is missing from the README metrics "
                        f"reference table: add a row | `{name}` | {families[name]} | labels | meaning |")
    for name in sorted(set(rows) - set(families)):
        problems.append(f"{name} (README:{rows[name][0]}) is not registered in {metrics_path}")
    for name in sorted(set(rows) & set(families)):
        if rows[name][1][0] != families[name]:
            problems.append(f"{name} (README:{rows[name][0]}): type {rows[name][1][0]!r}, but {metrics_path} "
                            f"registers a {families[name]}")
    print(f"metrics reference: {len(families)} families in {metrics_path}, {len(rows)} README rows")
    return report(problems, "metrics reference")


def check_quickstart(readme_path, authgate):
    import subprocess
    import tempfile
    text = Path(readme_path).read_text()
    start = text.index("## Put authgate in front of your API in 5 minutes")
    m = re.search(r"```yaml\n(.*?)```", text[start:], re.S)
    if not m:
        return report(["README: no ```yaml block in the 5-minute section"], "quickstart config")
    lines = m.group(1).splitlines()
    indent = min(len(l) - len(l.lstrip()) for l in lines if l.strip())
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write("\n".join(l[indent:] for l in lines) + "\n")
        f.flush()
        r = subprocess.run([str(authgate), "--check-config", f.name], capture_output=True, text=True, timeout=30)
    problems = [] if r.returncode == 0 else [f"authgate --check-config exit {r.returncode}: {r.stdout}{r.stderr}"]
    return report(problems, "quickstart config")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", nargs="?", default="all", choices=["config", "metrics", "quickstart", "all"])
    ap.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    ap.add_argument("--yaml")
    ap.add_argument("--readme")
    ap.add_argument("--loader")
    ap.add_argument("--metrics")
    ap.add_argument("--authgate", help="the binary, for the quickstart check")
    a = ap.parse_args()
    root = Path(a.root)
    readme = a.readme or root / "README.md"
    status = 0
    if a.what in ("config", "all"):
        status |= check_config(a.yaml or root / "config/gateway.yaml", readme,
                               a.loader or root / "gateway/config/loader.cpp")
    if a.what in ("metrics", "all"):
        status |= check_metrics(a.metrics or root / "gateway/metrics/metrics.cpp", readme)
    if a.what == "quickstart" or (a.what == "all" and a.authgate):
        if not a.authgate:
            ap.error("quickstart needs --authgate BINARY")
        status |= check_quickstart(readme, a.authgate)
    return status


if __name__ == "__main__":
    sys.exit(main())
