#!/usr/bin/env python3
"""Turn run.sh's results.tsv (+ raw wrk --latency outputs) into a markdown report.

    report.py RESULTS_TSV CLK_TCK            # markdown to stdout
    report.py --parse WRK_OUTPUT             # one wrk output as JSON (debugging)

results.tsv columns: target, round, wrk_output_file (relative to the tsv's directory), cpu_ticks (utime+stime delta
of the proxy over the run, all its processes), log_bytes (access-log growth).

Bearer mode (targets authgate-<alg>-one, authgate-<alg>-distinct, haproxy-<alg>, alg rs256|es256): the cost of
one signature verification is read from openssl-speed-<alg>.txt next to the tsv (`openssl speed -seconds 1
rsa2048` / `ecdsap256` output, measured by run.sh on the proxy cpu), and the bearer ratios are printed.
"""
import json
import os
import re
import statistics
import sys

UNIT_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}
# Targets from load-tests/README.md: (metric, limit, higher_is_better)
TARGETS = {"rps": (0.9, True), "cpu_us": (1.1, False), "p99_us": (1.5, False)}


def to_us(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"unrecognised wrk time {text!r}")
    return float(m.group(1)) * UNIT_US[m.group(2)]


def parse_wrk(text):
    out = {}
    dist = dict(re.findall(r"^\s+(50|75|90|99)(?:\.0+)?%\s+(\S+)\s*$", text, re.M))
    if "50" not in dist or "99" not in dist:
        raise ValueError("no latency distribution (was --latency passed?)")
    out["p50_us"] = to_us(dist["50"])
    out["p99_us"] = to_us(dist["99"])
    m = re.search(r"^\s*(\d+) requests in ([0-9.]+\w+),", text, re.M)
    if not m:
        raise ValueError("no 'N requests in T' line")
    out["requests"] = int(m.group(1))
    out["seconds"] = to_us(m.group(2)) / 1e6
    m = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    if not m:
        raise ValueError("no 'Requests/sec:' line")
    out["rps"] = float(m.group(1))
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errors += int(m.group(1))
    out["errors"] = errors
    return out


# openssl speed: "rsa 2048 bits 0.000244s 0.000015s   4098.9  68017.2"
#                " 256 bits ecdsa (nistp256)   0.0000s   0.0000s  61202.0  20811.2"
SPEED_LINES = {
    "rs256": ("rsa2048", r"^\s*rsa 2048 bits\s+\S+\s+\S+\s+([0-9.]+)\s+([0-9.]+)\s*$"),
    "es256": ("ecdsap256", r"^\s*256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([0-9.]+)\s+([0-9.]+)\s*$"),
}
ALGS = ("rs256", "es256")


def parse_speed(alg, text):
    """verify/s and sign/s from one `openssl speed` output, or None."""
    m = re.search(SPEED_LINES[alg][1], text, re.M)
    if not m:
        return None
    return {"sign_s": float(m.group(1)), "verify_s": float(m.group(2))}


def fmt(v, nd=0):
    if v is None:
        return "n/a"
    return f"{v:,.{nd}f}"


def main(argv):
    if len(argv) == 3 and argv[1] == "--parse":
        with open(argv[2]) as f:
            print(json.dumps(parse_wrk(f.read()), indent=2))
        return 0
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    tsv, clk_tck = argv[1], int(argv[2])
    rows = []
    with open(tsv) as f:
        next(f)  # header
        for line in f:
            if not line.strip():
                continue
            target, rnd, path, ticks, log_bytes = line.rstrip("\n").split("\t")
            path = os.path.join(os.path.dirname(os.path.abspath(tsv)), path)
            with open(path) as w:
                try:
                    r = parse_wrk(w.read())
                except ValueError as e:
                    raise SystemExit(f"report.py: {path}: {e}")
            r.update(target=target, round=int(rnd), ticks=int(ticks), log_bytes=int(log_bytes))
            n = r["requests"]
            r["cpu_us"] = r["ticks"] * 1e6 / clk_tck / n if n else None
            r["log_b"] = r["log_bytes"] / n if n else None
            # share of one core the proxy used during the run
            r["cpu_pct"] = 100.0 * r["ticks"] / clk_tck / r["seconds"] if r["seconds"] else None
            rows.append(r)

    order = []
    for r in rows:
        if r["target"] not in order:
            order.append(r["target"])

    p = print
    p("| round | target | req/s | p50 µs | p99 µs | CPU µs/req | proxy CPU % | requests | errors | log B/req |")
    p("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        p(f"| {r['round']} | {r['target']} | {fmt(r['rps'])} | {fmt(r['p50_us'])} | {fmt(r['p99_us'])} "
          f"| {fmt(r['cpu_us'], 2)} | {fmt(r['cpu_pct'])} | {r['requests']:,} | {r['errors']} | {fmt(r['log_b'])} |")

    med = {}
    for t in order:
        rs = [r for r in rows if r["target"] == t]
        med[t] = {}
        for k in ("rps", "p50_us", "p99_us", "cpu_us", "cpu_pct"):
            vals = [r[k] for r in rs if r[k] is not None]
            med[t][k] = statistics.median(vals) if vals else None
        med[t]["errors"] = sum(r["errors"] for r in rs)
        med[t]["n"] = len(rs)
        rps = [r["rps"] for r in rs]
        med[t]["spread"] = (max(rps) - min(rps)) / statistics.median(rps) * 100 if min(rps) > 0 else None

    p()
    p("**Medians**")
    p()
    p("| target | rounds | req/s | p50 µs | p99 µs | CPU µs/req | proxy CPU % | req/s spread (max-min)/median | errors (total) |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in order:
        m = med[t]
        p(f"| {t} | {m['n']} | {fmt(m['rps'])} | {fmt(m['p50_us'])} | {fmt(m['p99_us'])} | {fmt(m['cpu_us'], 2)} "
          f"| {fmt(m['cpu_pct'])} | {fmt(m['spread'], 1)}% | {m['errors']} |")

    plain = "authgate" in med and "nginx" in med
    bearer = any(t.startswith(("authgate-", "haproxy-")) for t in order)
    if plain:
        a, n = med["authgate"], med["nginx"]
        p()
        p("**Ratios authgate / nginx (medians)**")
        p()
        p("| metric | ratio | target | verdict |")
        p("|---|---:|---|---|")
        for key, label in (("rps", "req/s"), ("p50_us", "p50"), ("p99_us", "p99"), ("cpu_us", "CPU µs/req")):
            ratio = a[key] / n[key] if a[key] is not None and n[key] else None
            target, verdict = "", ""
            if key in TARGETS and ratio is not None:
                limit, higher = TARGETS[key]
                target = f"{'≥' if higher else '≤'} {limit}×"
                ok = ratio >= limit if higher else ratio <= limit
                verdict = "PASS" if ok else "FAIL"
            p(f"| {label} | {fmt(ratio, 3)}× | {target} | {verdict} |")
        if a["errors"] or n["errors"]:
            p()
            p(f"**Warning:** errors seen (authgate {a['errors']}, nginx {n['errors']}); "
              "the ratios above are not trustworthy.")
    if bearer:
        bearer_report(p, med, os.path.dirname(os.path.abspath(tsv)))
    elif not plain and any(med[t]["errors"] for t in order):
        p()
        p("**Warning:** errors seen; see the errors column.")
    return 0


def ratio(a, b):
    return a / b if a is not None and b else None


def bearer_report(p, med, raw_dir):
    speed = {}
    for alg in ALGS:
        path = os.path.join(raw_dir, f"openssl-speed-{alg}.txt")
        if os.path.exists(path):
            with open(path) as f:
                speed[alg] = parse_speed(alg, f.read())
    verify_us = {a: 1e6 / v["verify_s"] for a, v in speed.items() if v and v["verify_s"]}

    p()
    p("**One signature verification on the proxy cpu** (`openssl speed -seconds 1`, before the proxies start)")
    p()
    p("| alg | openssl speed | verify/s | µs per verify |")
    p("|---|---|---:|---:|")
    for alg in ALGS:
        v = speed.get(alg)
        p(f"| {alg.upper()} | {SPEED_LINES[alg][0]} | {fmt(v['verify_s'] if v else None)} "
          f"| {fmt(verify_us.get(alg), 1)} |")

    def row(label, a, b):
        return (f"| {label} | {fmt(ratio(a['rps'], b['rps']), 3)}× | {fmt(ratio(a['p99_us'], b['p99_us']), 3)}× "
                f"| {fmt(ratio(a['cpu_us'], b['cpu_us']), 3)}× |")

    nginx = med.get("nginx")
    ones = [f"authgate-{a}-one" for a in ALGS if f"authgate-{a}-one" in med]
    if ones and nginx:
        p()
        p("**Same token on every request (verified-token cache hits) vs plain nginx (medians)**")
        p()
        p("| authgate / nginx | req/s | p99 | CPU µs/req |")
        p("|---|---:|---:|---:|")
        for t in ones:
            p(row(t, med[t], nginx))

    pairs = [(a, f"authgate-{a}-distinct", f"haproxy-{a}") for a in ALGS]
    pairs = [x for x in pairs if x[1] in med and x[2] in med]
    if pairs:
        p()
        p("**Distinct tokens (token cache off) vs HAProxy `jwt_verify`, same alg (medians)**")
        p()
        p("| authgate / haproxy | req/s | p99 | CPU µs/req |")
        p("|---|---:|---:|---:|")
        for a, t, h in pairs:
            p(row(f"{t} / {h}", med[t], med[h]))

    budget_rows = [t for a in ALGS for t in (f"authgate-{a}-distinct", f"haproxy-{a}") if t in med]
    if budget_rows and nginx:
        p()
        p("**CPU per request vs plain proxying + one verify** (budget = nginx CPU µs/req + µs per verify of the alg)")
        p()
        p("| target | CPU µs/req | nginx CPU µs/req | + verify µs | = budget | CPU / budget |")
        p("|---|---:|---:|---:|---:|---:|")
        for t in budget_rows:
            v = verify_us.get(t.split("-")[1])
            budget = nginx["cpu_us"] + v if nginx["cpu_us"] is not None and v is not None else None
            p(f"| {t} | {fmt(med[t]['cpu_us'], 2)} | {fmt(nginx['cpu_us'], 2)} | {fmt(v, 2)} | {fmt(budget, 2)} "
              f"| {fmt(ratio(med[t]['cpu_us'], budget), 3)}× |")

    errs = {t: m["errors"] for t, m in med.items() if m["errors"]}
    if errs:
        p()
        p("**Warning:** errors seen (" + ", ".join(f"{t} {n}" for t, n in errs.items()) +
          "); a 401 under load counts as an error. The ratios above are not trustworthy.")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
