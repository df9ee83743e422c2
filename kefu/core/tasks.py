"""Housekeeping the worker runs on its own: the hourly maintenance task.

django-tasks has no periodic schedule, so the task keeps itself scheduled: each run enqueues the next
one an interval later (``run_after``), and ``kefu worker`` calls :func:`schedule_maintenance` when it
starts, so a chain broken by a crash or a wiped task table is restarted. At most one run is kept
waiting: a run that finds another one already scheduled does not add its own, so chains started by
workers that came up at the same moment merge into one.

What a run does is a list of jobs: core's own, plus those an app registers with
:func:`register_maintenance` in its ``AppConfig.ready`` (core imports no app above it). Each job
returns how many things it removed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.utils import timezone
from django_tasks import TaskResultStatus, task

from kefu.core import idempotency

logger = logging.getLogger(__name__)

MAINTENANCE_INTERVAL = dt.timedelta(hours=1)

MaintenanceJob = Callable[[], int]
_JOBS: dict[str, MaintenanceJob] = {"idempotency_keys_pruned": idempotency.prune_expired}
# What each count means, for people (``kefu prune``).
JOB_LABELS: dict[str, str] = {"idempotency_keys_pruned": "expired idempotency keys deleted"}


def register_maintenance(name: str, job: MaintenanceJob, *, label: str) -> None:
    """Run ``job`` in every maintenance run; its count is reported under ``name`` (``label`` says what
    was counted, e.g. "abandoned reply drafts deleted")."""
    _JOBS[name] = job
    JOB_LABELS[name] = label


def maintain() -> dict[str, int]:
    """Run every maintenance job. A job that fails does not stop the others; the first failure is
    raised once all have run (the task is then marked failed, with the error)."""
    counts: dict[str, int] = {}
    failure: Exception | None = None
    for name, job in _JOBS.items():
        try:
            counts[name] = job()
        except Exception as exc:
            logger.exception("maintenance job %s failed", name)
            failure = failure or exc
    if failure is not None:
        raise failure
    return counts


def _next_run_waiting() -> bool:
    """Whether a maintenance run is already enqueued (database task backend; others: never known)."""
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - django-tasks-db is a dependency
        return False
    return DBTaskResult.objects.filter(
        task_path=run_maintenance.module_path, status=TaskResultStatus.READY
    ).exists()


def schedule_maintenance(*, delay: dt.timedelta = dt.timedelta(0)) -> bool:
    """Enqueue the maintenance task to run after ``delay`` unless a run is already waiting; return
    whether one was enqueued."""
    if _next_run_waiting():
        return False
    run_maintenance.using(run_after=timezone.now() + delay).enqueue()
    return True


@task()
def run_maintenance() -> dict[str, int]:
    """Run the maintenance jobs, then schedule the next run (also when a job failed)."""
    try:
        return maintain()
    finally:
        schedule_maintenance(delay=MAINTENANCE_INTERVAL)
