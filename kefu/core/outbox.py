"""The transactional outbox: effects outside the database, written with the change, delivered after commit.

A subscriber (``kefu.core.events``) that must reach something outside the database — an HTTP endpoint,
later e-mail, SMS, chat pushes — does not call it. It writes a :class:`Delivery` with :func:`enqueue`,
inside the transaction of the change::

    outbox.enqueue(Delivery(handler="webhook", key=f"webhook:{event.event_id}:{n}", payload={...}))

``enqueue`` inserts the messages (``core.OutboxMessage``, one bulk insert) and one task of the worker
(:func:`deliver`, django-tasks' database backend: one more insert) in that same transaction. Hence:

- **a rolled-back change sends nothing** — its outbox rows and its task were never committed;
- **a committed change is never lost** — its rows and task are committed together; the worker claims the
  task (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, the IMMEDIATE write lock on SQLite) and runs
  it under a lease (``kefu.core.worker``): when the worker dies mid-delivery, the lease expires and
  another worker runs the task again;
- **a retried delivery is never duplicated** — every attempt of a message carries the same ``key``
  (``Idempotency-Key`` for webhooks) and the receiver drops a key it has seen. The outbox cannot know
  whether a worker killed between sending and recording the result was heard, so it sends again: at
  least once on the wire, exactly once by key.

A delivery handler (registered with :func:`handler`) gets ``(key, payload)`` and raises when the
delivery failed. A failed attempt is recorded on the row (``attempts``, ``last_error``,
``next_attempt_at``) and retried by a new task run after ``KEFU_OUTBOX_RETRY_SECONDS · 2^(attempts-1)``;
after ``KEFU_OUTBOX_MAX_ATTEMPTS`` attempts (or when the worker was killed on every claim of the task,
``KEFU_TASK_MAX_ATTEMPTS``) the message is marked failed. The admin lists messages by status and
queues failed ones again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from kefu.core.models import OutboxMessage, OutboxStatus
from kefu.core.worker import on_abandon

logger = logging.getLogger(__name__)

DeliveryHandler = Callable[[str, dict[str, Any]], None]
_HANDLERS: dict[str, DeliveryHandler] = {}
KEY_LENGTH = OutboxMessage._meta.get_field("key").max_length or 200


class OutboxError(Exception):
    """A delivery that cannot be written: unknown handler, a key too long, a payload JSON cannot hold,
    or no transaction to write it in."""


@dataclasses.dataclass(frozen=True)
class Delivery:
    handler: str
    key: str
    payload: dict[str, Any]


def handler(name: str) -> Callable[[DeliveryHandler], DeliveryHandler]:
    """Register the function that delivers messages of ``name``: ``fn(key, payload)``, raising on failure.
    It must pass ``key`` to the receiver, which drops a key it has already seen."""

    def register(fn: DeliveryHandler) -> DeliveryHandler:
        _HANDLERS[name] = fn
        return fn

    return register


def _checked(delivery: Delivery) -> OutboxMessage:
    if delivery.handler not in _HANDLERS:
        raise OutboxError(f"unknown delivery handler {delivery.handler!r}")
    if not delivery.key or len(delivery.key) > KEY_LENGTH:
        raise OutboxError(f"{delivery.handler}: the key must have 1 to {KEY_LENGTH} characters")
    try:
        json.dumps(delivery.payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise OutboxError(
            f"{delivery.handler} {delivery.key}: payload cannot be stored as JSON: {exc}"
        ) from exc
    return OutboxMessage(handler=delivery.handler, key=delivery.key, payload=delivery.payload)


def enqueue(*deliveries: Delivery) -> None:
    """Write the deliveries and the task that delivers them, in the caller's transaction. Every delivery
    is checked before anything is written. A key already in the outbox is not written again."""
    if not deliveries:
        return
    rows = [_checked(d) for d in deliveries]
    if not transaction.get_connection().in_atomic_block:
        raise OutboxError("enqueue inside the transaction of the change (transaction.atomic)")
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
    deliver.enqueue(keys=[row.key for row in rows])


def retry_delay(attempts: int) -> dt.timedelta:
    """Wait before the next attempt after ``attempts`` failed ones: base · 2^(attempts-1), at most a day."""
    seconds = float(settings.KEFU_OUTBOX_RETRY_SECONDS) * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, 86400.0))


def _failed(message: OutboxMessage, error: str, *, final: bool) -> None:
    attempts = message.attempts + 1
    gave_up = final or attempts >= settings.KEFU_OUTBOX_MAX_ATTEMPTS
    next_at = timezone.now() + retry_delay(attempts)
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.PENDING).update(
            attempts=attempts,
            last_error=error[:2000],
            status=OutboxStatus.FAILED if gave_up else OutboxStatus.PENDING,
            next_attempt_at=next_at,
        )
        if not gave_up:
            deliver.using(run_after=next_at).enqueue(keys=[message.key])
    log = logger.error if gave_up else logger.warning
    log(
        "outbox %s %s: attempt %d failed%s: %s",
        message.handler,
        message.key,
        attempts,
        ", given up" if gave_up else "",
        error,
    )


def deliver_one(key: str) -> str:
    """Deliver the pending message ``key`` once; return ``delivered``, ``failed`` (attempt recorded) or
    ``skipped`` (delivered already, given up, or not there)."""
    message = OutboxMessage.objects.filter(key=key, status=OutboxStatus.PENDING).first()
    if message is None:
        return "skipped"
    fn = _HANDLERS.get(message.handler)
    if fn is None:
        _failed(message, f"no delivery handler {message.handler!r} is registered", final=True)
        return "failed"
    try:
        fn(message.key, message.payload)
    except Exception as exc:  # any failure of the far side is recorded and retried
        _failed(message, f"{type(exc).__name__}: {exc}", final=False)
        return "failed"
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.DELIVERED, attempts=F("attempts") + 1, delivered_at=timezone.now(), last_error=""
    )
    return "delivered"


@task()
def deliver(*, keys: list[str]) -> dict[str, int]:
    """Deliver the outbox messages ``keys`` (those of one enqueue, or one message being retried)."""
    counts = {"delivered": 0, "failed": 0, "skipped": 0}
    for key in keys:
        counts[deliver_one(key)] += 1
    return counts


@on_abandon(deliver)
def _abandoned(*, keys: list[str]) -> None:
    """The task's worker died on every claim: mark what it did not deliver failed (the admin can retry)."""
    OutboxMessage.objects.filter(key__in=keys, status=OutboxStatus.PENDING).update(
        status=OutboxStatus.FAILED,
        attempts=F("attempts") + 1,
        last_error="the worker stopped while delivering, on every attempt",
    )


def retry_failed(keys: Iterable[str]) -> int:
    """Queue failed messages again (the admin's action); returns how many."""
    with transaction.atomic():
        keys = list(
            OutboxMessage.objects.filter(key__in=list(keys), status=OutboxStatus.FAILED).values_list(
                "key", flat=True
            )
        )
        if keys:
            OutboxMessage.objects.filter(key__in=keys).update(
                status=OutboxStatus.PENDING, next_attempt_at=timezone.now()
            )
            deliver.enqueue(keys=keys)
    return len(keys)
