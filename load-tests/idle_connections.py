#!/usr/bin/env python3
"""Holds N concurrent idle keep-alive connections open against authgate and
reports authgate's RSS per idle connection.

Run it through load-tests/idle_connections.sh (it raises the fd limit first):

    load-tests/idle_connections.sh                # 10000 connections
    CONNS=2000 load-tests/idle_connections.sh     # smaller

Everything is on 127.0.0.1. The script starts its own upstream (asyncio, in this
process) and its own authgate (workers: 2, limits.max_connections above N,
keepalive_idle long enough to hold the connections), then:

  1. RSS of the idle gateway (after a short warm-up of 200 requests);
  2. opens N connections, each completes the TCP handshake and stays silent
     (authgate waits for the first byte): RSS, authgate_connections_active;
  3. sends one GET on every connection (proxied to the upstream, 200 + a small
     body) and reads the response, so each connection is a used keep-alive
     connection, idle again: RSS, authgate_connections_active;
  4. checks that every connection is still open (a second GET on a sample);
  5. closes them all and waits for authgate_connections_active to return to 0: RSS.

RSS per idle connection = (RSS at step 3 - RSS at step 1) / N, and the same for
step 2. Each step is bounded in time; the whole run is bounded by MAX_SECONDS.
"""
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUTHGATE = os.environ.get("AUTHGATE_BIN", os.path.join(ROOT, "build", "gateway", "authgate"))
CONNS = int(os.environ.get("CONNS", "10000"))
PORT = int(os.environ.get("PORT", "18280"))
ADMIN_PORT = int(os.environ.get("ADMIN_PORT", "18911"))
UPSTREAM_PORT = int(os.environ.get("UPSTREAM_PORT", "18281"))
MAX_SECONDS = float(os.environ.get("MAX_SECONDS", "300"))
BATCH = int(os.environ.get("BATCH", "500"))  # connections opened (and requests sent) concurrently per batch

BODY = b"hello from upstream\n"


def log(msg):
    print(f"[idle_connections] {msg}", file=sys.stderr, flush=True)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def metric(name):
    with urllib.request.urlopen(f"http://127.0.0.1:{ADMIN_PORT}/metrics", timeout=5) as r:
        text = r.read().decode()
    m = re.search(r"^" + re.escape(name) + r"(?:\{\})? ([0-9.e+]+)$", text, re.M)
    return float(m.group(1)) if m else None


async def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


# ---- the upstream: HTTP/1.1 keep-alive, 200 + BODY for every request ----
async def upstream_conn(reader, writer):
    resp = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
            + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            if m and int(m.group(1)):
                await reader.readexactly(int(m.group(1)))
            writer.write(resp)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    body = await reader.readexactly(int(m.group(1))) if m else b""
    return status, body


REQUEST = b"GET /idle HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


async def get(reader, writer):
    writer.write(REQUEST)
    await writer.drain()
    return await asyncio.wait_for(read_response(reader), 20)


def config_text(tmp):
    return f"""listen:
  address: 127.0.0.1:{PORT}
admin:
  address: 127.0.0.1:{ADMIN_PORT}
workers: 2
limits:
  max_connections: {CONNS + 1000}
timeouts:
  keepalive_idle: 10m
upstreams:
  - name: up
    url: http://127.0.0.1:{UPSTREAM_PORT}
    max_connections: 1024   # per worker; the requests of step 3 come in batches of {BATCH}
routes:
  - name: all
    match: {{path: {{prefix: /}}}}
    upstream: up
    auth: none
log:
  level: warn
  access: off
"""


async def main():
    soft, hard = __import__("resource").getrlimit(__import__("resource").RLIMIT_NOFILE)
    if soft < CONNS + 2 * BATCH + 200:
        raise SystemExit(f"fd limit {soft} < {CONNS + 2 * BATCH + 200}: run load-tests/idle_connections.sh "
                         f"(it raises it with ulimit -n)")
    if not os.access(AUTHGATE, os.X_OK):
        raise SystemExit(f"{AUTHGATE} is not built (ninja authgate)")
    server = await asyncio.start_server(upstream_conn, "127.0.0.1", UPSTREAM_PORT, backlog=1024)
    tmp = tempfile.mkdtemp(prefix="authgate-idle.")
    cfg = os.path.join(tmp, "gateway.yaml")
    with open(cfg, "w") as f:
        f.write(config_text(tmp))
    err = open(os.path.join(tmp, "authgate.err"), "w")
    gw = subprocess.Popen([AUTHGATE, "--config", cfg], stdout=err, stderr=err)
    conns = []
    results = {}
    ok = False
    try:
        def ready():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ADMIN_PORT}/readyz", timeout=1) as r:
                    return r.status == 200
            except Exception:
                return False
        await wait_for(ready, 10, "authgate /readyz")
        pid = gw.pid

        # 1. warm-up: 200 requests on 20 connections, closed again.
        for _ in range(20):
            r, w = await asyncio.open_connection("127.0.0.1", PORT)
            for _ in range(10):
                st, _ = await get(r, w)
                assert st == 200, st
            w.close()
        await wait_for(lambda: metric("authgate_connections_active") == 0, 10, "warm-up connections closed")
        await asyncio.sleep(1)
        results["idle"] = (rss_kib(pid), fd_count(pid))
        log(f"idle gateway: RSS {results['idle'][0]} KiB, {results['idle'][1]} fds")

        # 2. N silent connections.
        t0 = time.monotonic()
        for start in range(0, CONNS, BATCH):
            batch = await asyncio.gather(*[asyncio.open_connection("127.0.0.1", PORT)
                                           for _ in range(min(BATCH, CONNS - start))])
            conns.extend(batch)
        await wait_for(lambda: metric("authgate_connections_active") == CONNS, 30,
                       f"authgate_connections_active == {CONNS}")
        await asyncio.sleep(1)
        results["open"] = (rss_kib(pid), fd_count(pid))
        log(f"{CONNS} silent connections open in {time.monotonic() - t0:.1f} s: "
            f"RSS {results['open'][0]} KiB, {results['open'][1]} fds")

        # 3. one request on each, then idle keep-alive.
        t0 = time.monotonic()
        statuses = {}
        for start in range(0, CONNS, BATCH):
            got = await asyncio.gather(*[get(r, w) for r, w in conns[start:start + BATCH]])
            for st, body in got:
                statuses[st] = statuses.get(st, 0) + 1
                assert body == BODY or st != 200
        if statuses != {200: CONNS}:
            raise RuntimeError(f"statuses of the first requests: {statuses}")
        await asyncio.sleep(1)
        active = metric("authgate_connections_active")
        if active != CONNS:
            raise RuntimeError(f"authgate_connections_active {active} after the requests, expected {CONNS}")
        results["used"] = (rss_kib(pid), fd_count(pid))
        log(f"one request on each ({time.monotonic() - t0:.1f} s), {CONNS} idle keep-alive connections: "
            f"RSS {results['used'][0]} KiB, {results['used'][1]} fds")

        # 4. they are all still usable: a second request on every 100th.
        sample = conns[::100]
        got = await asyncio.gather(*[get(r, w) for r, w in sample])
        bad = [st for st, _ in got if st != 200]
        if bad:
            raise RuntimeError(f"second request failed on {len(bad)} of {len(sample)} sampled connections")
        log(f"second request OK on {len(sample)} sampled connections")

        # 5. close all.
        for _, w in conns:
            w.close()
        conns = []
        await wait_for(lambda: metric("authgate_connections_active") == 0, 30, "all connections closed")
        await asyncio.sleep(1)
        results["closed"] = (rss_kib(pid), fd_count(pid))
        log(f"all closed: RSS {results['closed'][0]} KiB, {results['closed'][1]} fds")
        rejected = metric("authgate_connections_rejected_total")

        idle, opened, used, closed = (results[k][0] for k in ("idle", "open", "used", "closed"))
        print(f"| connections | {CONNS} |")
        print(f"| RSS idle gateway (KiB) | {idle} |")
        print(f"| RSS with {CONNS} silent connections (KiB) | {opened} |")
        print(f"| RSS with {CONNS} used idle keep-alive connections (KiB) | {used} |")
        print(f"| RSS after closing them all (KiB) | {closed} |")
        print(f"| RSS per silent connection (KiB) | {(opened - idle) / CONNS:.2f} |")
        print(f"| RSS per idle keep-alive connection (KiB) | {(used - idle) / CONNS:.2f} |")
        print(f"| fds: idle / open / after close | {results['idle'][1]} / {results['used'][1]} / {results['closed'][1]} |")
        print(f"| connections rejected | {rejected:g} |")
        ok = True
    finally:
        for _, w in conns:
            w.close()
        if gw.poll() is None:
            gw.send_signal(signal.SIGTERM)
            try:
                gw.wait(10)
            except subprocess.TimeoutExpired:
                gw.kill()
        server.close()
        err.close()
        if ok and os.environ.get("KEEP_TMP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"authgate output kept: {tmp}/authgate.err")


if __name__ == "__main__":
    try:
        asyncio.run(asyncio.wait_for(main(), MAX_SECONDS))
    except asyncio.TimeoutError:
        raise SystemExit(f"aborted after MAX_SECONDS={MAX_SECONDS}")
