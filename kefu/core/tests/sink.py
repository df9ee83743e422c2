"""A real HTTP receiver for webhook tests: it records every request and applies each ``Idempotency-Key``
once, as a receiver must; it can answer errors or hold a request (a delivery in flight)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Sink:
    def __init__(self) -> None:
        self.received: list[str] = []  # every request's key, repeats included
        self.applied: dict[str, dict[str, Any]] = {}  # each key once: what the receiver acted on
        self.headers: list[dict[str, str]] = []
        self.fail_next = 0  # answer 503 to this many requests
        self.hold_at: int | None = None  # hold the request with this number (1-based) until released
        self.held = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.url = ""

    def keys(self) -> list[str]:
        with self.lock:
            return list(self.applied)


@contextmanager
def running_sink() -> Iterator[Sink]:
    sink = Sink()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            key = self.headers["Idempotency-Key"]
            with sink.lock:
                sink.received.append(key)
                sink.headers.append(dict(self.headers))
                number = len(sink.received)
                failing = sink.fail_next > 0
                if failing:
                    sink.fail_next -= 1
                elif key not in sink.applied:
                    sink.applied[key] = json.loads(body)
            if number == sink.hold_at:
                sink.held.set()
                sink.release.wait(timeout=60)
            self.send_response(503 if failing else 204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    sink.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        sink.release.set()
        server.shutdown()
        server.server_close()
