#!/usr/bin/python3
"""A gRPC client for tests/integration/h2_upstream_test.cpp (Debian python3-grpcio, raw
bytes). Prints "status OK" and what came back, or "status <CODE> <details>".
Usage: client.py TARGET unary|bidi|slow|hold [TOKEN] [extra metadata name=value ...]
  bidi sends one message, waits for its echo, then sends the next (3 in all): it
  passes only when both directions stream.
  slow cancels its call after 0.5 s (no deadline is sent: only the cancellation ends it);
  hold makes a call the server answers after 2 s."""
import time
import queue
import sys

import grpc

target, mode = sys.argv[1], sys.argv[2]
token = sys.argv[3] if len(sys.argv) > 3 else ""
metadata = [("authorization", "Bearer " + token)] if token else []
metadata += [tuple(kv.split("=", 1)) for kv in sys.argv[4:]]
channel = grpc.insecure_channel(target)
try:
    if mode == "unary":
        call = channel.unary_unary("/echo.Echo/Unary")
        response, c = call.with_call(b"hello", timeout=10, metadata=metadata)
        print("status OK")
        print("body " + response.decode())
        print("trailers " + repr(sorted(c.trailing_metadata())))
    elif mode == "bidi":
        outbox = queue.Queue()
        outbox.put(b"one")

        def messages():
            while True:
                m = outbox.get()
                if m is None:
                    return
                yield m

        received = []
        for r in channel.stream_stream("/echo.Echo/Bidi")(messages(), timeout=10, metadata=metadata):
            received.append(r.decode())
            outbox.put(None if len(received) == 3 else b"msg%d" % len(received))
        print("status OK " + ",".join(received))
    elif mode == "slow":
        future = channel.unary_unary("/echo.Echo/Slow").future(b"", metadata=metadata)
        time.sleep(0.5)
        future.cancel()
        print("cancelled")
    elif mode == "hold":
        print("status OK " + channel.unary_unary("/echo.Echo/Slow")(b"2", timeout=10, metadata=metadata).decode())
except grpc.RpcError as e:
    print("status", e.code().name, e.details())
