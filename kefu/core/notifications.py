"""In-app notifications. ``notify`` is idempotent by key, so a retried task or a repeated save never
notifies twice."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from kefu.core.models import Notification


def notify(*, users: Iterable[Any], kind: str, title: str, url: str, key: str) -> int:
    """Notify each user once for ``key`` (e.g. ``mention:<message id>``); returns how many were new."""
    rows = [
        Notification(
            user=user, kind=kind, title=title[:200], url=url[:255], idempotency_key=f"{key}:{user.pk}"
        )
        for user in users
    ]
    existing = set(
        Notification.objects.filter(idempotency_key__in=[r.idempotency_key for r in rows]).values_list(
            "idempotency_key", flat=True
        )
    )
    fresh = [r for r in rows if r.idempotency_key not in existing]
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def unread_for(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, read_at=None)
