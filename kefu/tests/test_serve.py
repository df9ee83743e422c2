"""`kefu serve` as production runs it: a real server process on a real socket, answering over keep-alive;
every entry point settles the heap; bad flags and environment are refused naming what is wrong."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[2]

needs_postgres = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="the connection checks are PostgreSQL's",
)


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "LOG_LEVEL": "WARNING", **extra}


def _kefu(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter, the kefu command
        [sys.executable, "-m", "kefu.cli", *args],
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path, request) -> Iterator[int]:
    """`kefu serve --workers 2` (with the fixture's parameters appended) on a free port, on a SQLite file."""
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "kefu.cli", "serve", "--workers", "2", "--port", str(port), *request.param],
        env=_env(DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
                assert time.monotonic() < deadline, "kefu serve did not listen within 30 s"
                time.sleep(0.2)
        yield port
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()


@pytest.mark.parametrize("served", [[], ["--asgi"]], indirect=True, ids=["wsgi", "asgi"])
def test_kefu_serve_runs_granian_and_answers_over_keep_alive(served):
    conn = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    ports = set()
    for _ in range(5):
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, body
        assert response.getheader("server") == "granian"
        assert response.getheader("connection") != "close"
        ports.add(conn.sock.getsockname()[1])  # one TCP connection for all five: it was kept alive
    conn.close()
    assert len(ports) == 1
    assert b'"database": "ok"' in body


@pytest.mark.parametrize("module", ["kefu.wsgi", "kefu.asgi"])
def test_every_entry_point_settles_the_heap(tmp_path, module):
    probe = f"import gc, {module}; print(gc.get_freeze_count() > 0, gc.get_threshold())"
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe],
        env=_env(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "True (700, 10, 1000)"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--threads", "0"], {}, "--threads must be a whole number from 1 to 64 (got '0')"),
        (["--threads", "four"], {}, "--threads must be a whole number from 1 to 64 (got 'four')"),
        ([], {"KEFU_WEB_THREADS": "65"}, "KEFU_WEB_THREADS must be a whole number from 1 to 64 (got '65')"),
        (["--workers", "0"], {}, "--workers must be at least 1 (got 0)"),
    ],
)
def test_bad_server_settings_are_refused_naming_them(tmp_path, args, env, message):
    result = _kefu("serve", *args, DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}", **env)
    assert result.returncode == 1
    assert result.stderr.strip() == f"kefu: {message}"


@needs_postgres
def test_more_threads_than_pooled_connections_is_refused():
    url = os.environ["DATABASE_URL"]
    result = _kefu("serve", "--threads", "6", DATABASE_URL=url, KEFU_DB_POOL_SIZE="5")
    assert result.returncode == 1
    assert "--threads 6 is more than KEFU_DB_POOL_SIZE=5" in result.stderr


@needs_postgres
def test_more_connections_than_postgresql_accepts_is_refused():
    result = _kefu("serve", "--workers", "200", "--threads", "4", DATABASE_URL=os.environ["DATABASE_URL"])
    assert result.returncode == 1
    assert "--workers 200 × (--threads 4 + 1 for /healthz) = 1000 database connections" in result.stderr
    assert "max_connections" in result.stderr
