#!/usr/bin/python3
"""A gRPC server for tests/integration/h2_upstream_test.cpp (Debian python3-grpcio, no
protoc: generic handlers with raw bytes). Listens on 127.0.0.1 (port 0), writes the port
to PORT_FILE once it serves. Service echo.Echo:
  Unary  - answers JSON {"body": the request, "md": the metadata it received}, with the
           trailing metadata x-echo-trailer: done
  Bidi   - answers each message with b"echo:" + message, as it comes
  Slow   - waits as many seconds as the request says (10 when empty), then answers
           b"late"; records "cancelled" in EVENTS_FILE when the call is cancelled first
Every call is recorded in EVENTS_FILE ("call <method>").
Usage: echo_server.py PORT_FILE EVENTS_FILE [--tls CERT KEY] [--max-streams N]"""
import json
import os
import sys
import threading
import time
from concurrent import futures

import grpc

port_file, events_file = sys.argv[1], sys.argv[2]
args = sys.argv[3:]
lock = threading.Lock()


def record(line):
    with lock, open(events_file, "a") as f:
        f.write(line + "\n")


def unary(request, context):
    record("call Unary")
    md = [[k, v] for k, v in context.invocation_metadata() if isinstance(v, str)]
    context.set_trailing_metadata((("x-echo-trailer", "done"),))
    return json.dumps({"body": request.decode("latin-1"), "md": md}).encode()


def bidi(requests, context):
    record("call Bidi")
    for message in requests:
        yield b"echo:" + message


def slow(request, context):
    record("call Slow")
    done = threading.Event()
    context.add_callback(done.set)
    if done.wait(float(request or b"10")) and not context.is_active():
        record("cancelled")
    return b"late"


handlers = {
    "Unary": grpc.unary_unary_rpc_method_handler(unary),
    "Bidi": grpc.stream_stream_rpc_method_handler(bidi),
    "Slow": grpc.unary_unary_rpc_method_handler(slow),
}
options = []
if "--max-streams" in args:
    options.append(("grpc.max_concurrent_streams", int(args[args.index("--max-streams") + 1])))
server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=options)
server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("echo.Echo", handlers),))
if "--tls" in args:
    i = args.index("--tls")
    with open(args[i + 1], "rb") as c, open(args[i + 2], "rb") as k:
        creds = grpc.ssl_server_credentials([(k.read(), c.read())])
    port = server.add_secure_port("127.0.0.1:0", creds)
else:
    port = server.add_insecure_port("127.0.0.1:0")
server.start()
with open(port_file + ".tmp", "w") as f:
    f.write(str(port))
os.rename(port_file + ".tmp", port_file)
server.wait_for_termination()
