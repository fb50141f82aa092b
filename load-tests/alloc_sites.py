#!/usr/bin/env python3
"""Aggregates load-tests/alloc_sites.c output by call site.

  alloc_sites.py RECORD REQUESTS [--depth N] [--stacks]

RECORD is the file alloc_sites.so wrote ($ALLOC_SITES_OUT; RECORD.maps beside it). Each
allocation is attributed to its first frame in authgate's own sources (gateway/), shown with
the frames above it up to the first library frame (Beast, Asio, libstdc++...) so the line says
both who asked and what allocated. Prints allocations and bytes per request per site, largest
first. --stacks prints the whole symbolised stack of each distinct site instead.
"""
import argparse
import bisect
import collections
import os
import subprocess


def load_maps(path):
    """[(start, end, file, base)]: base is the lowest start of that file (its load address)."""
    rows, bases = [], {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 6 or not parts[5].startswith("/"):
                continue
            start, end = (int(x, 16) for x in parts[0].split("-"))
            rows.append((start, end, parts[5]))
            bases[parts[5]] = min(bases.get(parts[5], start), start)
    rows.sort()
    return [(s, e, f, bases[f]) for s, e, f in rows]


def locate(maps, starts, addr):
    i = bisect.bisect_right(starts, addr) - 1
    if i >= 0 and maps[i][0] <= addr < maps[i][1]:
        return maps[i][2], addr - maps[i][3]
    return None, addr


def symbolise(by_file):
    """{file: set(offsets)} -> {(file, offset): [(function, file:line) innermost first]}"""
    out = {}
    for path, offsets in by_file.items():
        offs = sorted(offsets)
        # a return address points after the call: look up the call instruction itself
        res = subprocess.run(["addr2line", "-f", "-C", "-i", "-a", "-e", path] + ["%x" % (o - 1) for o in offs],
                             capture_output=True, text=True).stdout.splitlines()
        cur, frames = None, []
        i = 0
        while i < len(res):
            line = res[i]
            if line.startswith("0x") and all(c in "0123456789abcdefx" for c in line):
                if cur is not None:
                    out[(path, cur)] = frames
                cur, frames = int(line, 16) + 1, []
                i += 1
                continue
            frames.append((line, res[i + 1] if i + 1 < len(res) else "?"))
            i += 2
        if cur is not None:
            out[(path, cur)] = frames
    return out


def short(fn):
    fn = fn.split("(")[0]
    return fn if len(fn) < 90 else fn[:87] + "..."


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("record")
    ap.add_argument("requests", type=int)
    ap.add_argument("--stacks", action="store_true")
    args = ap.parse_args()
    maps = load_maps(args.record + ".maps")
    starts = [m[0] for m in maps]
    allocs = []
    by_file = collections.defaultdict(set)
    with open(args.record) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            frames = [locate(maps, starts, int(a, 16)) for a in parts[2:]]
            for path, off in frames:
                if path:
                    by_file[path].add(off)
            allocs.append((parts[0], int(parts[1]), frames))
    syms = symbolise(by_file)
    sites = collections.defaultdict(lambda: [0, 0])
    for kind, size, frames in allocs:
        chain = []  # (function, location) outermost-last, inlined frames expanded
        for path, off in frames:
            chain.extend(syms.get((path, off), [("??", os.path.basename(path or "?"))]))
        if args.stacks:
            key = "\n    ".join("%s  %s" % (short(fn), loc.split("/gateway/")[-1]) for fn, loc in chain[:16])
        else:
            own = next((i for i, (_, loc) in enumerate(chain) if "/gateway/" in loc), None)
            if own is None:
                key = " <- ".join(short(fn) for fn, _ in chain[:4])
            else:
                fn, loc = chain[own]
                callee = chain[own - 1][0] if own > 0 else "(direct)"
                key = "%s [%s] -> %s" % (short(fn), loc.split("/gateway/")[-1].split(" ")[0], short(callee))
        key = "%s %s" % ("aligned" if kind == "a" else "malloc ", key)
        sites[key][0] += 1
        sites[key][1] += size
    total = sum(v[0] for v in sites.values())
    total_bytes = sum(v[1] for v in sites.values())
    print("%.2f allocations, %.0f bytes per request (%d requests)" % (total / args.requests, total_bytes / args.requests, args.requests))
    for key, (n, b) in sorted(sites.items(), key=lambda kv: -kv[1][0]):
        if n / args.requests < 0.01:
            continue
        print("%6.2f %7.0f B  %s" % (n / args.requests, b / args.requests, key))


if __name__ == "__main__":
    main()
