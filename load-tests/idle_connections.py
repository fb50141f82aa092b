#!/usr/bin/env python3
"""Holds N concurrent idle keep-alive connections open against authgate and
reports authgate's RSS per idle connection.

Run it through load-tests/idle_connections.sh (it raises the fd limit first):

    load-tests/idle_connections.sh                # 10000 connections
    CONNS=2000 load-tests/idle_connections.sh     # smaller
    TLS=1 load-tests/idle_connections.sh          # the same over TLS (a self-signed P-256 cert)
    PROXY=nginx load-tests/idle_connections.sh    # Debian's nginx instead, for comparison
    H2C=1 CONNS=1000 load-tests/idle_connections.sh   # HTTP/2 with prior knowledge (listen.h2c;
                                                      # nginx: listen ... http2)

MAX_SILENT_KIB / MAX_IDLE_KIB: fail when the per-connection figure is above the bound.
PROXY=nginx runs nginx (2 workers, keepalive 64 to the upstream, access log off) with
the same listener, upstream and timeouts; its RSS is the master's plus its workers'.
Its connection counts come from `ss` instead of authgate's metrics.

Everything is on 127.0.0.1. The script starts its own upstream (asyncio, in this
process) and its own authgate (workers: 2, limits.max_connections above N,
keepalive_idle long enough to hold the connections), then:

  1. RSS of the idle gateway (after a short warm-up of 200 requests);
  2. opens N connections, each completes the TCP handshake and stays silent
     (authgate waits for the first byte): RSS, authgate_connections_active;
  3. sends one GET on every connection (proxied to the upstream, 200 + a small
     body) and reads the response, so each connection is a used keep-alive
     connection, idle again: RSS, authgate_connections_active. With H2C=1 the
     GET is the client connection preface, an empty SETTINGS and one HEADERS
     frame (stream 1), and the connection is an idle HTTP/2 session afterwards;
  4. checks that every connection is still open (a second GET on a sample);
  5. closes them all and waits for authgate_connections_active to return to 0: RSS.

RSS per idle connection = (RSS at step 3 - RSS at step 1) / N, and the same for
step 2. Each step is bounded in time; the whole run is bounded by MAX_SECONDS.
"""
import asyncio
import os
import re
import shutil
import socket
import signal
import ssl
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
PROXY = os.environ.get("PROXY", "authgate")
TLS = os.environ.get("TLS", "0") == "1"
H2C = os.environ.get("H2C", "0") == "1"
NGINX = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")
BATCH = int(os.environ.get("BATCH", "500"))  # connections opened (and requests sent) concurrently per batch

# The upstream's response body; BODY_BYTES makes it that many bytes instead (at most 65,535
# with H2C=1, the initial stream window), for the buffers a connection keeps after it.
BODY = b"x" * int(os.environ["BODY_BYTES"]) if os.environ.get("BODY_BYTES") else b"hello from upstream\n"


def log(msg):
    print(f"[idle_connections] {msg}", file=sys.stderr, flush=True)


def own_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def children(pid):
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return kids


def rss_kib(pid):
    """The process's RSS plus its children's (nginx: master + workers)."""
    return own_rss_kib(pid) + sum(own_rss_kib(c) for c in children(pid))


def established():
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{PORT} )"],
                         capture_output=True, text=True, check=True).stdout
    return sum(1 for line in out.splitlines() if line.strip())


def active_connections():
    if PROXY == "authgate":
        return metric("authgate_connections_active")
    return established()


def client_tls():
    if not TLS:
        return None
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


CLIENT_TLS = client_tls()


async def connect():
    return await asyncio.open_connection("127.0.0.1", PORT, ssl=CLIENT_TLS)


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


# ---- HTTP/2 with prior knowledge (H2C=1): just enough of RFC 9113 and RFC 7541 ----
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_DATA, H2_HEADERS, H2_SETTINGS, H2_PING, H2_GOAWAY, H2_WINDOW_UPDATE = 0, 1, 4, 6, 7, 8
H2_END_STREAM, H2_END_HEADERS, H2_ACK = 0x1, 0x4, 0x1
# :status values of the HPACK static table (RFC 7541 Appendix A), indexes 8-14.
H2_STATIC_STATUS = {8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500}
h2_next_stream = {}  # writer -> the next client stream id (no entry: the preface is still to send)


def h2_frame(ftype, flags, sid, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + sid.to_bytes(4, "big") + payload


def h2_literal(name, value):  # literal without indexing, new name, no Huffman (lengths < 127)
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def h2_status(block):
    """The :status of a response header block that starts with it (indexed, or literal with an indexed name)."""
    if block[0] & 0x80:
        return H2_STATIC_STATUS.get(block[0] & 0x7F, -1)
    if block[0] & 0x0F == 8 and not block[1] & 0x80:  # name index 8 (:status), value not Huffman-coded
        return int(block[2:2 + block[1]])
    return -1


async def h2_get(reader, writer):
    out = b""
    sid = h2_next_stream.get(writer)
    if sid is None:
        out, sid = H2_PREFACE + h2_frame(H2_SETTINGS, 0, 0), 1
    h2_next_stream[writer] = sid + 2
    block = b"".join(h2_literal(n, v) for n, v in ((b":method", b"GET"), (b":scheme", b"http"),
                                                   (b":authority", b"127.0.0.1"), (b":path", b"/idle")))
    writer.write(out + h2_frame(H2_HEADERS, H2_END_STREAM | H2_END_HEADERS, sid, block))
    await writer.drain()
    status, body = None, b""
    while True:
        head = await reader.readexactly(9)
        length, ftype, flags = int.from_bytes(head[:3], "big"), head[3], head[4]
        fsid = int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
        payload = await reader.readexactly(length)
        if ftype in (H2_SETTINGS, H2_PING) and not flags & H2_ACK:
            writer.write(h2_frame(ftype, H2_ACK, 0, payload if ftype == H2_PING else b""))
        elif ftype == H2_GOAWAY:
            raise RuntimeError(f"GOAWAY {payload.hex()}")
        elif fsid == sid and ftype == H2_HEADERS and status is None:
            status = h2_status(payload)
        elif fsid == sid and ftype == H2_DATA:
            body += payload
            if length:  # the connection's window back (each stream gets only one response)
                writer.write(h2_frame(H2_WINDOW_UPDATE, 0, 0, length.to_bytes(4, "big")))
        if fsid == sid and ftype in (H2_HEADERS, H2_DATA) and flags & H2_END_STREAM:
            return status, body


async def get(reader, writer):
    if H2C:
        return await asyncio.wait_for(h2_get(reader, writer), 20)
    writer.write(REQUEST)
    await writer.drain()
    return await asyncio.wait_for(read_response(reader), 20)


def make_cert(tmp):
    key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=127.0.0.1", "-days", "1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def listen_tls_text(tmp):
    if not TLS:
        return ""
    cert, key = make_cert(tmp)
    return f"""
  tls:
    cert_file: {cert}
    key_file: {key}"""


def nginx_config_text(tmp):
    ssl_lines = ""
    if TLS:
        cert, key = make_cert(tmp)
        ssl_lines = f"ssl_certificate {cert}; ssl_certificate_key {key};"
    return f"""daemon off;
master_process on;
worker_processes 2;
worker_rlimit_nofile {CONNS + 4000};
pid {tmp}/nginx.pid;
error_log {tmp}/nginx.err warn;
events {{ worker_connections {CONNS + 2000}; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  upstream up {{ server 127.0.0.1:{UPSTREAM_PORT}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{PORT}{" ssl" if TLS else ""}{" http2" if H2C else ""};
    {ssl_lines}
    keepalive_timeout 10m;
    keepalive_requests 100000;
    location / {{ proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
}}
"""


H2C_LISTEN = """
  h2c: true"""


def config_text(tmp):
    return f"""listen:
  address: 127.0.0.1:{PORT}{listen_tls_text(tmp)}{H2C_LISTEN if H2C else ""}
admin:
  address: 127.0.0.1:{ADMIN_PORT}
workers: 2
limits:
  max_connections: {CONNS + 1000}
timeouts:
  keepalive_idle: 10m
http2:
  idle_timeout: 10m
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
    if PROXY not in ("authgate", "nginx"):
        raise SystemExit(f"PROXY must be authgate or nginx, not {PROXY}")
    binary = AUTHGATE if PROXY == "authgate" else NGINX
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"{binary} is not there (authgate: ninja authgate; nginx: the nginx package)")
    server = await asyncio.start_server(upstream_conn, "127.0.0.1", UPSTREAM_PORT, backlog=1024)
    tmp = tempfile.mkdtemp(prefix="authgate-idle.")
    err = open(os.path.join(tmp, "authgate.err"), "w")
    if PROXY == "authgate":
        cfg = os.path.join(tmp, "gateway.yaml")
        with open(cfg, "w") as f:
            f.write(config_text(tmp))
        gw = subprocess.Popen([AUTHGATE, "--config", cfg], stdout=err, stderr=err)
    else:
        cfg = os.path.join(tmp, "nginx.conf")
        with open(cfg, "w") as f:
            f.write(nginx_config_text(tmp))
        gw = subprocess.Popen([NGINX, "-p", tmp, "-c", cfg], stdout=err, stderr=err)
    conns = []
    results = {}
    ok = False
    try:
        def ready():
            try:
                if PROXY == "nginx":
                    socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
                    return True
                with urllib.request.urlopen(f"http://127.0.0.1:{ADMIN_PORT}/readyz", timeout=1) as r:
                    return r.status == 200
            except Exception:
                return False
        await wait_for(ready, 10, f"{PROXY} ready")
        pid = gw.pid

        # 1. warm-up: 200 requests on 20 connections, closed again.
        for _ in range(20):
            r, w = await connect()
            for _ in range(10):
                st, _ = await get(r, w)
                assert st == 200, st
            w.close()
        await wait_for(lambda: active_connections() == 0, 10, "warm-up connections closed")
        await asyncio.sleep(1)
        results["idle"] = (rss_kib(pid), fd_count(pid))
        log(f"idle gateway: RSS {results['idle'][0]} KiB, {results['idle'][1]} fds")

        # 2. N silent connections.
        t0 = time.monotonic()
        for start in range(0, CONNS, BATCH):
            batch = await asyncio.gather(*[connect()
                                           for _ in range(min(BATCH, CONNS - start))])
            conns.extend(batch)
        await wait_for(lambda: active_connections() == CONNS, 30,
                       f"{CONNS} connections active")
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
        active = active_connections()
        if active != CONNS:
            raise RuntimeError(f"{active} connections active after the requests, expected {CONNS}")
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
        await wait_for(lambda: active_connections() == 0, 30, "all connections closed")
        await asyncio.sleep(1)
        results["closed"] = (rss_kib(pid), fd_count(pid))
        log(f"all closed: RSS {results['closed'][0]} KiB, {results['closed'][1]} fds")
        rejected = metric("authgate_connections_rejected_total") if PROXY == "authgate" else 0

        idle, opened, used, closed = (results[k][0] for k in ("idle", "open", "used", "closed"))
        print(f"| proxy | {PROXY}{' (TLS)' if TLS else ''}{' (h2c)' if H2C else ''} |")
        print(f"| connections | {CONNS} |")
        print(f"| RSS idle gateway (KiB) | {idle} |")
        print(f"| RSS with {CONNS} silent connections (KiB) | {opened} |")
        print(f"| RSS with {CONNS} used idle keep-alive connections (KiB) | {used} |")
        print(f"| RSS after closing them all (KiB) | {closed} |")
        print(f"| RSS per silent connection (KiB) | {(opened - idle) / CONNS:.2f} |")
        print(f"| RSS per idle keep-alive connection (KiB) | {(used - idle) / CONNS:.2f} |")
        print(f"| fds: idle / open / after close | {results['idle'][1]} / {results['used'][1]} / {results['closed'][1]} |")
        print(f"| connections rejected | {rejected:g} |")
        # Bounds (the ctest IdleConnections.*): the run fails when a figure is over its bound.
        over = []
        for name, value, bound in (("silent", (opened - idle) / CONNS, os.environ.get("MAX_SILENT_KIB")),
                                   ("idle keep-alive", (used - idle) / CONNS, os.environ.get("MAX_IDLE_KIB"))):
            if bound is not None and value > float(bound):
                over.append(f"RSS per {name} connection {value:.2f} KiB > bound {bound} KiB")
        if over:
            raise RuntimeError("; ".join(over))
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
