"""A worker killed with SIGKILL in the middle of an import: real `kefu worker` processes on the test's
database (a migrated SQLite file, or the PostgreSQL test database). Another worker takes the task over
once the lease expires and the import resumes after the rows it committed — or, after the last attempt,
the job ends as failed and says what was written."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kefu.core.tests.processes import Database, stop, subprocess_database, wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROWS = 600
LEASE = "1.5"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    with subprocess_database(tmp_path, KEFU_TASK_LEASE_SECONDS=LEASE) as db:
        yield db


def queue_import(database: Database) -> int:
    """A lead uploads a valid_rows import of ROWS customers; returns the job's id."""
    return int(
        database.django(f"""
            from django.core.files.uploadedfile import SimpleUploadedFile
            from kefu.accounts.enums import Role
            from kefu.accounts.services import user_create
            from kefu.core.actors import SYSTEM
            from kefu.customers.import_jobs import import_job_create
            lead = user_create(actor=SYSTEM, username="lead", password="x-Passw0rd-long", role=Role.LEAD)
            lines = ["客户编号,客户名称,电话"] + [f"KH{{i:06d}},客户{{i}},1381{{i:07d}}" for i in range({ROWS})]
            upload = SimpleUploadedFile("customers.csv", "\\r\\n".join(lines).encode())
            print(import_job_create(actor=lead, upload=upload, mode="valid_rows").pk)
        """)
    )


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
