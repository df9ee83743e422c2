"""A worker killed with SIGKILL in the middle of an import: real `kefu worker` processes on the test's
database (a migrated SQLite file, or the PostgreSQL test database). Another worker takes the task over
once the lease expires and the import resumes after the rows it committed — or, after the last attempt,
the job ends as failed and says what was written."""

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

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROOT = Path(__file__).resolve().parents[3]
ROWS = 600
LEASE = "1.5"


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


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "kefu.settings",
        "KEFU_DATA_DIR": str(tmp_path),
        "KEFU_TASK_LEASE_SECONDS": LEASE,
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


def queue_import(database: Database) -> int:
    """A lead uploads a valid_rows import of ROWS customers; returns the job's id."""
    return int(
        database.django(f"""
            from django.core.files.uploadedfile import SimpleUploadedFile
            from kefu.accounts.enums import Role
            from kefu.accounts.services import user_create
            from kefu.customers.importing import import_job_create
            lead = user_create(actor=None, username="lead", password="x-Passw0rd-long", role=Role.LEAD)
            lines = ["客户编号,客户名称,电话"] + [f"KH{{i:06d}},客户{{i}},1381{{i:07d}}" for i in range({ROWS})]
            upload = SimpleUploadedFile("customers.csv", "\\r\\n".join(lines).encode())
            print(import_job_create(actor=lead, upload=upload, mode="valid_rows").pk)
        """)
    )


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


def customers(database: Database) -> int:
    return int(database.scalar("SELECT COUNT(*) FROM customers_customer"))


def import_task(database: Database) -> dict[str, Any]:
    return database.row(
        "SELECT status, exception_class_path FROM django_tasks_database_dbtaskresult"
        " WHERE task_path = 'kefu.customers.tasks.run_import_job'"
    )


def job(database: Database, job_id: int) -> dict[str, Any]:
    return database.row(
        "SELECT status, created_count, unchanged_count, message FROM customers_importjob WHERE id = %s",
        job_id,
    )


def kill_mid_import(database: Database, **worker_env: str) -> None:
    """Start a worker and SIGKILL it once the import has committed its first rows."""
    first = database.worker(**worker_env)
    try:
        wait_for(lambda: customers(database) > 0, timeout=60, what="the first rows")
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    assert 0 < customers(database) < ROWS
    assert import_task(database)["status"] == "RUNNING"  # where it used to stay forever


def test_another_worker_takes_over_and_the_import_resumes(database):
    job_id = queue_import(database)
    kill_mid_import(database)

    second = database.worker()
    try:
        wait_for(lambda: job(database, job_id)["status"] == "done", timeout=300, what="the job to finish")
    finally:
        stop(second)

    assert customers(database) == ROWS
    # Resumed after the committed rows: every customer counted once as created, none as "unchanged".
    outcome = job(database, job_id)
    assert (outcome["created_count"], outcome["unchanged_count"]) == (ROWS, 0)
    assert outcome["message"] == f"新建 {ROWS}，更新 0，未变化 0，错误 0 行，跳过空行 0"
    assert import_task(database)["status"] == "SUCCESSFUL"
    assert database.scalar("SELECT COUNT(*) FROM core_tasklease") == 0


def test_after_the_last_attempt_the_job_fails_and_says_what_was_written(database):
    job_id = queue_import(database)
    kill_mid_import(database, KEFU_TASK_MAX_ATTEMPTS="1")

    second = database.worker(KEFU_TASK_MAX_ATTEMPTS="1")
    try:
        wait_for(lambda: job(database, job_id)["status"] == "failed", timeout=120, what="the job to fail")
    finally:
        stop(second)

    written = customers(database)
    outcome = job(database, job_id)
    assert outcome["created_count"] == written
    assert outcome["message"] == (
        f"导入被中断（后台进程多次退出）；已写入的行保留：新建 {written}，更新 0，未变化 0"
        f"（共 {ROWS} 行中的前 {written} 个有效行）；重新上传同一文件即可补齐，已写入的按客户编号更新，不会重复"
    )
    assert import_task(database) == {
        "status": "FAILED",
        "exception_class_path": "kefu.core.worker.LeaseExpired",
    }
    time.sleep(float(LEASE))  # nobody runs it again
    assert customers(database) == written
