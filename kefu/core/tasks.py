"""Housekeeping the worker runs on its own: the hourly maintenance task.

django-tasks has no periodic schedule, so the task keeps itself scheduled: each run enqueues the next
one an interval later (``run_after``), and ``kefu worker`` calls :func:`schedule_maintenance` when it
starts, so a chain broken by a crash or a wiped task table is restarted. At most one run is kept
waiting: a run that finds another one already scheduled does not add its own, so chains started by
workers that came up at the same moment merge into one.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import TaskResultStatus, task

from kefu.core import idempotency

MAINTENANCE_INTERVAL = dt.timedelta(hours=1)


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
    """Prune expired idempotency keys, then schedule the next run (also when pruning failed)."""
    try:
        return {"idempotency_keys_pruned": idempotency.prune_expired()}
    finally:
        schedule_maintenance(delay=MAINTENANCE_INTERVAL)
