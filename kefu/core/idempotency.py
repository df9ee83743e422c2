"""``Idempotency-Key``: a retried request gets the first request's response instead of doing the work
twice.

    outcome = run_idempotent(user=..., scope="tickets.create", key=header, request=payload, status=201,
                             action=lambda: create_and_serialize())

The key row is inserted *first*, in the same transaction as the work, and the unique constraint on
(user, scope, key) decides who runs: a concurrent retry blocks on that insert until the first request
commits (PostgreSQL) or waits for the database write lock (SQLite), then finds the stored response. If
the work fails, the transaction rolls back with the key row, so a retry after an error runs again —
nothing was done the first time.

The same key with a different request body is a client bug, refused with 422 on ``idempotency_key``.
Keys are per user: two users' equal keys are independent.

Keys expire after ``KEFU_IDEMPOTENCY_KEY_TTL_HOURS`` (default 24): an expired key never replays — the
request runs as new — and :func:`prune_expired` deletes expired rows: hourly in ``kefu worker`` (the task
``kefu.core.tasks.run_maintenance``), or by hand with ``kefu prune``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed
from kefu.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any  # JSON-compatible: what the first request answered
    replayed: bool


def request_hash(request: Any) -> str:
    """A stable digest of the parsed request (key order and whitespace do not matter)."""
    canonical = json.dumps(request, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _json(body: Any) -> Any:
    # Store exactly what the API renders (DjangoJSONEncoder is what ninja's renderer uses), so a replay
    # is byte-for-byte the first answer.
    return json.loads(json.dumps(body, cls=DjangoJSONEncoder))


def _clean_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed.for_field(
            "idempotency_key", _("幂等键必须是 1 到 %(max)s 个字符") % {"max": MAX_KEY_LENGTH}
        )
    return key


def _mismatch() -> ValidationFailed:
    return ValidationFailed.for_field("idempotency_key", _("该幂等键已用于另一个不同的请求"))


def expiry_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Keys created before this moment have expired."""
    return (now or timezone.now()) - dt.timedelta(hours=settings.KEFU_IDEMPOTENCY_KEY_TTL_HOURS)


def prune_expired(*, now: dt.datetime | None = None, batch: int = 5000) -> int:
    """Delete expired keys, in batches (short transactions, served by the ``created_at`` index);
    return how many were deleted."""
    cutoff = expiry_cutoff(now)
    deleted = 0
    while True:
        pks = list(IdempotencyKey.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch])
        if not pks:
            return deleted
        count, _rows = IdempotencyKey.objects.filter(pk__in=pks).delete()
        deleted += count


def _claim(**fields: Any) -> IdempotencyKey | None:
    """Insert the key row, or None when it exists. A savepoint: a lost race must not poison the outer
    transaction."""
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(**fields)
    except IntegrityError:
        return None


def _replay(first: IdempotencyKey, digest: str, status: int) -> Outcome:
    if first.request_hash != digest:
        raise _mismatch()
    return Outcome(status=first.response_status or status, body=first.response_body, replayed=True)


def run_idempotent(
    *,
    user: Any,
    scope: str,
    key: str | None,
    request: Any,
    status: int,
    action: Callable[[], Any],
) -> Outcome:
    """Run ``action`` (which returns the response body) once per ``(user, scope, key)``.

    Without a key the action simply runs. ``request`` is the parsed request the key promises not to
    change; ``status`` is the success status stored with the body. Must not be called inside a
    transaction that already wrote rows it cannot afford to roll back: the key insert needs a
    savepoint."""
    if key is None:
        return Outcome(status=status, body=action(), replayed=False)
    key = _clean_key(key)
    digest = request_hash(request)
    fields = {"user": user, "scope": scope, "key": key, "request_hash": digest}
    with transaction.atomic():
        row = _claim(**fields)
        if row is None:
            first = IdempotencyKey.objects.get(user=user, scope=scope, key=key)
            if first.created_at >= expiry_cutoff():
                return _replay(first, digest, status)
            # Expired (not pruned yet): forget the first request and run this one as new.
            IdempotencyKey.objects.filter(pk=first.pk).delete()
            row = _claim(**fields)
            if row is None:  # a concurrent retry of the same request claimed it meanwhile
                return _replay(IdempotencyKey.objects.get(user=user, scope=scope, key=key), digest, status)
        body = _json(action())
        row.response_status = status
        row.response_body = body
        row.save(update_fields=["response_status", "response_body"])
    return Outcome(status=status, body=body, replayed=False)
