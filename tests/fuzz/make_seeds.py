#!/usr/bin/env python3
"""Writes the seed corpora of config_fuzz, request_fuzz, cookie_fuzz,
token_response_fuzz and h2_fuzz (tests/fuzz/corpus/<name>/), from the unit
tests' inputs and a few hand-written documents. Run by hand when the seeds
should change (the corpus is committed):

    python3 tests/fuzz/make_seeds.py            # all five
    python3 tests/fuzz/make_seeds.py h2         # one

- The string literals of the unit tests (adjacent literals joined, C++ escapes
  decoded) that look like the target's input: YAML documents from
  tests/unit/config/loader_test.cpp, paths from tests/unit/routing/*_test.cpp
  (wrapped in a request head), Cookie headers from
  tests/unit/session/cookie_codec_test.cpp, JSON documents from the token
  response, introspection and discovery tests. Files: t-<sha1 prefix>.
- The shipped config files (config/*.yaml) for config_fuzz.
- h2: HTTP/2 client byte streams built here (frames, and HPACK literals without
  Huffman coding): requests (the connection preface, SETTINGS, HEADERS, DATA),
  a header block split over CONTINUATION frames, and the floods of h2_fuzz's
  bounds (rapid reset, CONTINUATION, HPACK bomb, PING).
- Hand-written seeds named valid-* that the target must accept (the replay test
  checks it) and a few named bad-*; the signed cookies are computed here with
  Python's hmac, independently of cookie_codec.cpp, with cookie_fuzz's secret.
The jwt/json/base64url corpora come from make_seeds.cpp instead.
"""
import base64
import hashlib
import hmac
import pathlib
import re
import shutil
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"

TOKEN_RE = re.compile(
    r'(?P<raw>R"(?P<delim>[^(\s]{0,16})\((?P<rawbody>.*?)\)(?P=delim)")'
    r'|(?P<str>"(?:[^"\\\n]|\\.)*")'
    r"|(?P<chr>'(?:[^'\\\n]|\\.)+')"
    r"|(?P<lc>//[^\n]*)"
    r"|(?P<bc>/\*.*?\*/)"
    r"|(?P<ws>\s+)"
    r"|(?P<other>.)",
    re.S,
)


def unescape(body: str) -> bytes:
    out = bytearray()
    i = 0
    simple = {"n": 10, "t": 9, "r": 13, '"': 34, "\\": 92, "'": 39, "0": 0, "a": 7, "b": 8, "f": 12, "v": 11, "?": 63}
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        n = body[i + 1]
        if n == "x":
            m = re.match(r"[0-9a-fA-F]+", body[i + 2 :])
            out.append(int(m.group(0), 16) & 0xFF)
            i += 2 + len(m.group(0))
        elif n == "u":
            out += chr(int(body[i + 2 : i + 6], 16)).encode("utf-8", "surrogatepass")
            i += 6
        elif n in "01234567" and n != "0" or (n == "0" and i + 2 < len(body) and body[i + 2] in "01234567"):
            m = re.match(r"[0-7]{1,3}", body[i + 1 :])
            out.append(int(m.group(0), 8) & 0xFF)
            i += 1 + len(m.group(0))
        else:
            out.append(simple[n])
            i += 2
    return bytes(out)


def literal_runs(path: pathlib.Path):
    """(text before the run, bytes of the run) for each run of adjacent literals."""
    src = path.read_text()
    runs = []
    cur = None
    before = ""
    last_other = ""
    for m in TOKEN_RE.finditer(src):
        kind = m.lastgroup if m.lastgroup not in ("delim", "rawbody") else "raw"
        if m.group("raw"):
            piece = m.group("rawbody").encode()
        elif m.group("str"):
            piece = unescape(m.group("str")[1:-1])
        else:
            piece = None
        if piece is not None:
            if cur is None:
                cur = bytearray()
                before = last_other
            cur += piece
        elif m.group("ws") or m.group("lc") or m.group("bc"):
            continue
        else:
            if cur is not None:
                runs.append((before, bytes(cur)))
                cur = None
            last_other = (last_other + m.group(0))[-40:]
    if cur is not None:
        runs.append((before, bytes(cur)))
    return runs


def reset(name: str) -> pathlib.Path:
    d = CORPUS / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


def put(d: pathlib.Path, name: str, data: bytes) -> None:
    (d / name).write_bytes(data)


def put_test(d: pathlib.Path, data: bytes) -> None:
    put(d, "t-" + hashlib.sha1(data).hexdigest()[:12], data)


# --- config_fuzz -------------------------------------------------------------
ORDERS_UPSTREAM = b"upstreams:\n  - name: orders\n    url: http://127.0.0.1:9000\n"


def config_seeds() -> None:
    d = reset("config")
    for before, text in literal_runs(ROOT / "tests/unit/config/loader_test.cpp"):
        if b"\n" not in text or b":" not in text:
            continue
        if before.rstrip().endswith("with_orders("):
            text = ORDERS_UPSTREAM + text
        put_test(d, text)
    for f in sorted((ROOT / "config").glob("*.yaml")):
        put(d, "shipped-" + f.name, f.read_bytes())
    put(d, "valid-minimal", b"upstreams:\n  - name: api\n    url: http://127.0.0.1:9000\nroutes:\n"
        b"  - name: all\n    match: {path: {prefix: /}}\n    upstream: api\n")
    put(d, "valid-routes", (ROOT / "tests/fuzz/request_fuzz.cpp").read_text()
        .split('R"(', 1)[1].split(')"', 1)[0].encode())
    put(d, "valid-flow-style", b'{upstreams: [{name: a, url: "http://127.0.0.1:1"}], routes: '
        b'[{name: r, match: {host: "*.example.com", path: {regex: "/x[0-9]+"}, methods: [GET]}, upstream: a}]}\n')
    put(d, "bad-tab-indent", b"routes:\n\t- name: x\n")
    put(d, "bad-anchor-alias", b"a: &x [*x]\nroutes: *x\n")


# --- request_fuzz ------------------------------------------------------------
def head(method: str, target: bytes, host: bytes = b"api.example.com", extra: bytes = b"") -> bytes:
    return method.encode() + b" " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\n" + extra + b"\r\n"


def request_seeds() -> None:
    d = reset("request")
    for test in ("path_test.cpp", "route_table_test.cpp"):
        for _, text in literal_runs(ROOT / "tests/unit/routing" / test):
            if text.startswith(b"/") and len(text) < 512:
                put_test(d, head("GET", text))
    # Host values of the Host validation tests (routing/host.hpp), on a routed path.
    for _, text in literal_runs(ROOT / "tests/unit/routing/host_test.cpp"):
        if text and not text.startswith(b"/") and b"\r" not in text and b"\n" not in text and len(text) < 300:
            put_test(d, head("GET", b"/v2/items", text))
    scopes = b"X-Fuzz-Scope: orders:read orders:write admin items:read\r\nX-Fuzz-Verified: true\r\n" \
             b"X-Fuzz-Groups: staff,ops\r\n"
    put(d, "valid-admin", head("GET", b"/admin", b"admin.example.com:8443", scopes))
    put(d, "valid-orders-write", head("POST", b"/orders/7", extra=scopes + b"Content-Length: 2\r\n") + b"{}")
    put(d, "valid-orders-dots", head("GET", b"/public/../orders//7/./x?q=1&r=%2F", extra=b"X-Fuzz-Scope: orders:admin\r\n"))
    put(d, "valid-items", head("PUT", b"/v2/items/%7Eabc", b"shop.example.com.", scopes))
    put(d, "valid-ipv6", head("DELETE", b"/v6/x", b"[::1]:8080"))
    put(d, "valid-public-escapes", head("GET", b"/public/%41%62%25%e2%82%ac", extra=b"X-Fuzz-Groups: \r\n"))
    put(d, "valid-chunked", head("POST", b"/orders", extra=b"Transfer-Encoding: chunked\r\nX-Fuzz-Scope: \r\n"))
    put(d, "bad-cl-te", head("POST", b"/orders", extra=b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"))
    put(d, "bad-obs-fold", head("GET", b"/orders", extra=b"X-A: 1\r\n 2\r\n"))
    put(d, "bad-two-hosts", head("GET", b"/orders", extra=b"Host: other\r\n"))
    put(d, "bad-above-root", head("GET", b"/a/../../etc/passwd"))
    put(d, "bad-encoded-slash", head("GET", b"/orders%2F..%2Fadmin"))
    put(d, "bad-semicolon", head("GET", b"/admin;x=1"))
    put(d, "bad-absolute-form", head("GET", b"http://api.example.com/orders"))
    put(d, "valid-utf8-escaped", head("GET", b"/public/caf%C3%A9/%F0%9F%98%80/%F4%8F%BF%BF"))
    put(d, "valid-utf8-raw", head("GET", b"/public/caf\xc3\xa9/\xe2\x82\xac"))
    put(d, "valid-host-ipv6-v4-tail", head("GET", b"/public", b"[::ffff:192.0.2.1]:443"))
    put(d, "bad-utf8-overlong-dot", head("GET", b"/public/%C0%AE%C0%AE/admin"))
    put(d, "bad-utf8-surrogate", head("GET", b"/public/%ED%A0%80"))
    put(d, "bad-utf8-above-max", head("GET", b"/public/%F4%90%80%80"))
    put(d, "bad-utf8-truncated", head("GET", b"/public/caf%C3/x"))
    put(d, "bad-utf8-raw-ff", head("GET", b"/public/\xff\xc0\xae"))
    put(d, "bad-host-userinfo", head("GET", b"/admin", b"admin.example.com:@evil.com"))
    put(d, "bad-host-query", head("GET", b"/v2/items", b"evil.com?.example.com"))
    put(d, "bad-host-ip-future", head("GET", b"/v6/x", b"[v1.fe80::1]"))
    put(d, "bad-huge-cl", head("POST", b"/orders", extra=b"Content-Length: 99999999999\r\n"))
    put(d, "bad-big-header", head("GET", b"/orders", extra=b"X-Pad: " + b"a" * 2100 + b"\r\n"))
    # Request line and fields each under 2KiB, together over it (Beast limits them separately).
    put(d, "bad-long-line-and-fields", head("GET", b"/orders/" + b"p" * 1500, extra=b"X-Pad: " + b"a" * 1000 + b"\r\n"))


# --- cookie_fuzz -------------------------------------------------------------
COOKIE_SECRET = b"fuzz-only-cookie-secret-0123456789abcdef"  # cookie_fuzz.cpp kSecret


def sign(label: bytes, ident: bytes) -> bytes:
    mac = hmac.new(COOKIE_SECRET, label + ident, hashlib.sha256).digest()
    return ident + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")


def cookie_seeds() -> None:
    d = reset("cookie")
    for _, text in literal_runs(ROOT / "tests/unit/session/cookie_codec_test.cpp"):
        if b"=" in text and b"Path=/" not in text:
            put_test(d, text)
    session = sign(b"authgate-session-v1:", b"Qm9vaF9zZXNzaW9uX2lkXzEyMzQ1Njc4OTBhYmNkZWY")
    login = sign(b"authgate-login-v1:", b"c3RhdGUtMTIz")
    put(d, "valid-session", b"authgate=" + session)
    put(d, "valid-session-among-others", b"theme=dark; authgate=planted.AAAA; authgate=" + session + b"; b=2")
    put(d, "valid-spaces", b" \tauthgate = " + session + b" ;;")
    put(d, "login", b"authgate_login=" + login + b"; __Host-authgate=" + session)
    put(d, "bad-tampered", b"authgate=" + session[:-1] + (b"B" if session[-1:] != b"B" else b"C"))
    put(d, "bad-quoted", b'authgate="' + session + b'"')
    put(d, "bad-no-eq", b"authgate; authgate")


# --- token_response_fuzz -----------------------------------------------------
def token_response_seeds() -> None:
    d = reset("token_response")
    for test in ("session/token_response_test.cpp", "idp/introspection_test.cpp", "idp/discovery_test.cpp"):
        for _, text in literal_runs(ROOT / "tests/unit" / test):
            if text.lstrip().startswith((b"{", b"[")) or b"max-age" in text:
                put_test(d, text)
    put(d, "valid-token-response", b'{"access_token":"at-1","token_type":"bearer","expires_in":3600,'
        b'"refresh_token":"rt-1","scope":"openid profile","id_token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}')
    put(d, "valid-token-response-real", b'{"access_token":"at","token_type":"Bearer","expires_in":3.6e3}')
    put(d, "valid-token-error", b'{"error":"invalid_grant","error_description":"refresh token \\"rt\\" revoked\\u0000"}')
    put(d, "valid-introspection", b'{"active":true,"sub":"u1","scope":"a b","exp":1800003600,"nbf":1799999000,'
        b'"token_type":"Bearer","aud":["api"],"iss":"https://idp.example.com/"}')
    put(d, "valid-introspection-minimal", b'{"active":true}')
    put(d, "valid-discovery", b'{"issuer":"https://idp.example.com","jwks_uri":"https://idp.example.com/jwks",'
        b'"token_endpoint":"https://idp.example.com/token","introspection_endpoint":"https://idp.example.com/i",'
        b'"authorization_endpoint":"https://idp.example.com/auth","revocation_endpoint":"https://idp.example.com/r",'
        b'"end_session_endpoint":"https://idp.example.com/logout"}')
    put(d, "valid-discovery-http", b'{"issuer":"http://127.0.0.1:8080/realms/test",'
        b'"jwks_uri":"http://127.0.0.1:8080/realms/test/certs"}')
    put(d, "inactive", b'{"active":false}')
    put(d, "cache-control", b"public, max-age=86400, must-revalidate")
    put(d, "token-type-mac", b'{"access_token":"at","token_type":"mac"}')
    put(d, "expires-in-huge", b'{"access_token":"at","token_type":"Bearer","expires_in":1e300}')


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, CONTINUATION = 0, 1, 3, 4, 6, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


def frame(ftype: int, flags: int, sid: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def hpack_int(value: int, prefix_bits: int, first: int = 0) -> bytes:
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    return bytes(out + [value])


def hpack(fields, indexing: bool = False) -> bytes:
    """Literal fields with a new name (RFC 7541 6.2.1/6.2.2), no Huffman coding."""
    out = b""
    for name, value in fields:
        out += b"\x40" if indexing else b"\x00"
        out += hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value
    return out


def get(path: bytes = b"/public", authority: bytes = b"api.example.com", method: bytes = b"GET", extra=()):
    return hpack([(b":method", method), (b":scheme", b"http"), (b":authority", authority), (b":path", path),
                  *extra])


def h2_seeds() -> None:
    d = reset("h2")
    start = PREFACE + frame(SETTINGS, 0, 0) + frame(SETTINGS, ACK, 0)
    put(d, "valid-get", start + frame(HEADERS, END_STREAM | END_HEADERS, 1, get()))
    put(d, "valid-get-no-preface", frame(SETTINGS, 0, 0) + frame(HEADERS, END_STREAM | END_HEADERS, 1, get()))
    put(d, "valid-post-body", start + frame(HEADERS, END_HEADERS, 1, get(b"/upload", method=b"POST", extra=[
        (b"content-length", b"5"), (b"content-type", b"text/plain")])) + frame(DATA, END_STREAM, 1, b"hello"))
    put(d, "valid-grpc", start + frame(HEADERS, END_HEADERS, 1, get(b"/pkg.Svc/Call", method=b"POST", extra=[
        (b"content-type", b"application/grpc"), (b"te", b"trailers")])) +
        frame(DATA, END_STREAM, 1, b"\x00\x00\x00\x00\x02hi"))
    # h2_fuzz's first finding was in its own check: "te" is a case-insensitive token (RFC 9110 10.1.4).
    put(d, "valid-te-mixed-case", start + frame(HEADERS, END_STREAM | END_HEADERS, 1, get(extra=[
        (b"te", b"TraIlers")])))
    block = get(extra=[(b"x-pad", b"p" * 40), (b"cookie", b"a=1"), (b"cookie", b"b=2")])
    put(d, "valid-continuation", start + frame(HEADERS, END_STREAM, 1, block[:20]) +
        frame(CONTINUATION, 0, 1, block[20:50]) + frame(CONTINUATION, END_HEADERS, 1, block[50:]))
    put(d, "valid-streams", start + b"".join(frame(HEADERS, END_STREAM | END_HEADERS, sid, get(b"/p%d" % sid))
                                             for sid in range(1, 13, 2)))
    put(d, "bearer-missing", start + frame(HEADERS, END_STREAM | END_HEADERS, 1, get(b"/orders/1")))
    put(d, "bearer-bad", start + frame(HEADERS, END_STREAM | END_HEADERS, 1, get(b"/orders/1", extra=[
        (b"authorization", b"Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln")])))
    put(d, "bad-uppercase", start + frame(HEADERS, END_STREAM | END_HEADERS, 1, get(extra=[(b"X-Up", b"1")])))
    put(d, "bad-connection", start + frame(HEADERS, END_STREAM | END_HEADERS, 1, get(extra=[
        (b"connection", b"keep-alive")])))
    put(d, "bad-content-length", start + frame(HEADERS, END_HEADERS, 1, get(b"/u", method=b"POST", extra=[
        (b"content-length", b"10")])) + frame(DATA, END_STREAM, 1, b"hello"))
    put(d, "bad-host-differs", start + frame(HEADERS, END_STREAM | END_HEADERS, 1, get(extra=[
        (b"host", b"other.example.com")])))
    put(d, "bad-path", start + frame(HEADERS, END_STREAM | END_HEADERS, 1, get(b"/a/../../etc")))
    put(d, "big-body", start + frame(HEADERS, END_HEADERS, 1, get(b"/u", method=b"POST")) +
        b"".join(frame(DATA, 0, 1, b"x" * 1000) for _ in range(5)) + frame(DATA, END_STREAM, 1))
    put(d, "continuation-flood", start + frame(HEADERS, 0, 1, get()[:8]) +
        b"".join(frame(CONTINUATION, 0, 1, b"") for _ in range(10)))
    put(d, "rapid-reset", start + b"".join(
        frame(HEADERS, END_STREAM | END_HEADERS, sid, get()) + frame(RST_STREAM, 0, sid, struct.pack(">I", 8))
        for sid in range(1, 41, 2)))
    put(d, "hpack-bomb", start + frame(HEADERS, END_STREAM | END_HEADERS, 1,
                                       get() + hpack([(b"x-big", b"a" * 900)], indexing=True) + b"\xbe" * 30))
    put(d, "ping-flood", start + b"".join(frame(PING, 0, 0, b"%08d" % i) for i in range(40)))


if __name__ == "__main__":
    seeds = {"config": config_seeds, "request": request_seeds, "cookie": cookie_seeds,
             "token_response": token_response_seeds, "h2": h2_seeds}
    for name in sys.argv[1:] or seeds:
        seeds[name]()
        print(name, len(list((CORPUS / name).iterdir())), "files")
