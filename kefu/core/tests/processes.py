"""Real `kefu worker` processes on the test's database, for tests that kill one mid-task."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parents[3]


class Database:
    """The database the worker subprocesses share with this test, and a way to read it from here."""

    def __init__(self, env: dict[str, str], cursor: Callable[[], Any]) -> None:
        self.env = env
        self.cursor = cursor

    def row(self, sql: str, *params: Any) -> dict[str, Any]:
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            names = [c[0] for c in cursor.description]
            return dict(zip(names, cursor.fetchone(), strict=True))

    def scalar(self, sql: str) -> Any:
        return next(iter(self.row(sql).values()))

    def django(self, code: str, **extra_env: str) -> str:
        """Run Django code in a fresh process on this database; returns what it printed."""
        script = "import django; django.setup()\n" + textwrap.dedent(code)
        result = subprocess.run(  # noqa: S603 - the test's own code
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**self.env, **extra_env},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def worker(self, **extra_env: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "kefu.cli", "worker", "--interval", "0.2"],
            cwd=ROOT,
            env={**self.env, **extra_env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


@contextlib.contextmanager
def subprocess_database(tmp_path: Path, **extra_env: str) -> Iterator[Database]:
    """The test's database, reachable from worker subprocesses: the PostgreSQL test database itself, or on
    SQLite (whose test database lives in this process's memory) a migrated file."""
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "kefu.settings",
        "KEFU_DATA_DIR": str(tmp_path),
        **extra_env,
    }
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        env["DATABASE_URL"] = f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
        yield Database(env, connection.cursor)
        return
    # The SQLite test database lives in this process's memory: the workers get a migrated file instead.
    path = tmp_path / "kefu.sqlite3"
    env["DATABASE_URL"] = f"sqlite:///{path}"
    subprocess.run(
        [sys.executable, "-m", "kefu.cli", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True
    )

    @contextlib.contextmanager
    def sqlite_cursor() -> Iterator[_QmarkCursor]:
        with contextlib.closing(sqlite3.connect(path, timeout=20)) as db:
            yield _QmarkCursor(db.cursor())

    yield Database(env, sqlite_cursor)


class _QmarkCursor:
    """sqlite3 with Django's %s placeholders."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Any) -> None:
        self._cursor.execute(sql.replace("%s", "?"), params)

    @property
    def description(self) -> Any:
        return self._cursor.description

    def fetchone(self) -> Any:
        return self._cursor.fetchone()


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def stop(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)  # finishes the task it runs, then exits
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
