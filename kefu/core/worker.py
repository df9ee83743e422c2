"""The worker behind ``kefu worker``: django-tasks-db's worker, with leases.

django-tasks-db claims a task by marking it RUNNING and never looks at it again, so a worker killed
with ``kill -9`` (or a machine that lost power) leaves its task RUNNING forever. Here every claimed task
carries a lease (``core.TaskLease``, kefu's own table: the task table is django-tasks-db's):

- the worker writes the lease as it starts the task, and a thread of the worker renews it every third of
  ``KEFU_TASK_LEASE_SECONDS`` while the task runs; the lease is deleted when the task ends;
- the same thread, in every worker, looks for RUNNING tasks whose lease has expired (or that have none
  and started more than a lease ago: the worker died between the claim and the lease) and puts them
  back in the queue, where any worker claims them again — or, after ``KEFU_TASK_MAX_ATTEMPTS`` claims,
  marks them FAILED and calls the task's abandon handler (:func:`on_abandon`), so that what the task
  was doing (an import job) ends as failed and says what it had written.

A task may therefore run more than once: tasks must be idempotent or resume from what they committed
(the customer import resumes after the rows it committed, see ``kefu.customers.importing``). On SQLite a
transaction that holds the write lock longer than the lease also holds back the renewal: keep the lease
longer than the longest transaction a task runs.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks.base import Task
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from kefu.core.models import TaskLease

logger = logging.getLogger(__name__)

AbandonHandler = Callable[..., None]
_ABANDON_HANDLERS: dict[str, AbandonHandler] = {}


def on_abandon(task: Task[Any, Any]) -> Callable[[AbandonHandler], AbandonHandler]:
    """Register what to do when ``task`` is given up after its lease expired on every attempt. The
    handler gets the task's keyword arguments and runs in the transaction that marks the task FAILED."""

    def register(handler: AbandonHandler) -> AbandonHandler:
        _ABANDON_HANDLERS[task.module_path] = handler
        return handler

    return register


class LeaseExpired(Exception):
    """Recorded as the error of a task given up because its worker stopped renewing the lease."""


def lease_seconds() -> float:
    return float(settings.KEFU_TASK_LEASE_SECONDS)


def lease_take(*, task_id: uuid.UUID, worker_id: str) -> None:
    TaskLease.objects.update_or_create(
        task_id=task_id,
        defaults={
            "worker_id": worker_id,
            "expires_at": timezone.now() + dt.timedelta(seconds=lease_seconds()),
        },
    )


def lease_renew(*, task_id: uuid.UUID, worker_id: str) -> bool:
    """Extend the lease; False when it is no longer this worker's (another worker re-queued the task)."""
    expires_at = timezone.now() + dt.timedelta(seconds=lease_seconds())
    return bool(TaskLease.objects.filter(task_id=task_id, worker_id=worker_id).update(expires_at=expires_at))


def lease_release(*, task_id: uuid.UUID, worker_id: str) -> None:
    TaskLease.objects.filter(task_id=task_id, worker_id=worker_id).delete()


def _give_up(task_result: DBTaskResult[Any, Any]) -> None:
    error = LeaseExpired(
        f"lease expired on each of {len(task_result.worker_ids)} attempts (workers: "
        f"{', '.join(task_result.worker_ids)}); given up"
    )
    task_result.set_failed(error)
    try:
        task = task_result.task  # imports the task's module, which registers its abandon handler
    except Exception:
        logger.exception(
            "task %s (%s) given up; its task cannot be loaded", task_result.id, task_result.task_path
        )
        return
    handler = _ABANDON_HANDLERS.get(task.module_path)
    if handler is not None:
        handler(**task_result.args_kwargs["kwargs"])


def requeue_expired() -> dict[str, int]:
    """Put RUNNING tasks whose lease expired back in the queue, or give them up after
    ``KEFU_TASK_MAX_ATTEMPTS`` claims. Returns how many were re-queued and given up."""
    now = timezone.now()
    live_lease = TaskLease.objects.filter(task_id=OuterRef("pk"), expires_at__gt=now)
    any_lease = TaskLease.objects.filter(task_id=OuterRef("pk"))
    stale = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).filter(
        ~Exists(live_lease)
        & (Exists(any_lease) | Q(started_at__lt=now - dt.timedelta(seconds=lease_seconds())))
    )
    counts = {"requeued": 0, "given_up": 0}
    if not stale.exists():  # the usual case: no write lock taken (SQLite has one for the database)
        return counts
    with transaction.atomic():
        for task_result in stale.order_by("started_at").select_for_update(skip_locked=True):
            TaskLease.objects.filter(task_id=task_result.pk).delete()
            if len(task_result.worker_ids) >= settings.KEFU_TASK_MAX_ATTEMPTS:
                logger.error("task %s (%s): lease expired, given up", task_result.id, task_result.task_path)
                _give_up(task_result)
                counts["given_up"] += 1
            else:
                logger.warning(
                    "task %s (%s): lease of worker %s expired, queued again",
                    task_result.id,
                    task_result.task_path,
                    task_result.worker_ids[-1] if task_result.worker_ids else "?",
                )
                task_result.status = TaskResultStatus.READY
                task_result.save(update_fields=["status"])
                counts["requeued"] += 1
    return counts


class _LeaseKeeper(threading.Thread):
    """Renews the running task's lease and re-queues other workers' expired tasks, every third of a
    lease. Runs beside the task, on its own database connection."""

    def __init__(self, worker_id: str) -> None:
        super().__init__(name="kefu-lease-keeper", daemon=True)
        self.worker_id = worker_id
        self.current: uuid.UUID | None = None
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def run(self) -> None:
        try:
            while not self._stopped.wait(lease_seconds() / 3):
                self.tick()
        finally:
            connection.close()

    def tick(self) -> None:
        try:
            current = self.current
            if current is not None and not lease_renew(task_id=current, worker_id=self.worker_id):
                logger.error("task %s: lease lost to another worker while still running", current)
            requeue_expired()
        except DatabaseError:
            # The database is away or locked: try again at the next tick (the lease outlives a few).
            logger.warning("lease keeper: database unavailable", exc_info=True)
            connection.close()


class LeasedWorker(Worker):
    """django-tasks-db's worker; each task runs under a lease that :class:`_LeaseKeeper` keeps alive."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keeper = _LeaseKeeper(self.worker_id)

    def run(self) -> None:
        requeue_expired()
        self.keeper.start()
        try:
            super().run()
        finally:
            self.keeper.stop()

    def run_task(self, db_task_result: DBTaskResult[Any, Any]) -> None:
        task_id = db_task_result.pk
        lease_take(task_id=task_id, worker_id=self.worker_id)
        self.keeper.current = task_id
        try:
            super().run_task(db_task_result)
        finally:
            self.keeper.current = None
            lease_release(task_id=task_id, worker_id=self.worker_id)


def worker_id() -> str:
    """Host and process id: unique in a pool, and tells an operator where a task ran."""
    return f"{socket.gethostname()[:48]}:{os.getpid()}"


def run_worker(*, interval: float) -> None:
    """Run a worker on every queue of the default backend until SIGINT/SIGTERM."""
    worker = LeasedWorker(
        queue_names=["*"],
        interval=interval,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id(),
        excluded_queue_names=[],
    )
    worker.configure_signals()
    worker.run()
