"""In-app notifications: writing them (``notify``, idempotent by key, so a retried task or a repeated save
never notifies twice), reading them (``unread_count``, ``recent_for``) and marking them read.

A notification stores what happened — a ``kind`` and its ``params`` (ticket number, subject, who) —
and its text is made when it is shown, in the reader's language: an English reader of a notification
written while the actor used Chinese reads English. Apps register the text of their kinds with
:func:`register_kind`; a kind nobody registered shows the ``title`` it was stored with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from kefu.core.models import Notification

# The bell counts up to this many and then shows "99+": counting stops at the cap, so the query that
# runs on every page reads at most this many index entries however much a user leaves unread.
UNREAD_CAP = 99
LIST_SIZE = 30

_KINDS: dict[str, Any] = {}


def register_kind(kind: str, template: Any) -> None:
    """``template`` is a lazily translated string with ``%(name)s`` placeholders filled from ``params``."""
    _KINDS[kind] = template


def notify(
    *,
    users: Iterable[Any],
    kind: str,
    title: str,
    url: str,
    key: str,
    params: Mapping[str, Any] | None = None,
) -> int:
    """Notify each user once for ``key`` (e.g. ``mention:<message id>``); returns how many were new.
    ``params`` fill the kind's registered template when the notification is shown."""
    rows = [
        Notification(
            user=user,
            kind=kind,
            title=title[:200],
            params=dict(params or {}),
            url=url[:255],
            idempotency_key=f"{key}:{user.pk}",
        )
        for user in users
    ]
    if not rows:
        return 0
    existing = set(
        Notification.objects.filter(idempotency_key__in=[r.idempotency_key for r in rows]).values_list(
            "idempotency_key", flat=True
        )
    )
    fresh = [r for r in rows if r.idempotency_key not in existing]
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def text_of(notification: Notification) -> str:
    """The notification in the current language: its kind's template filled with its params."""
    template = _KINDS.get(notification.kind)
    if template is None or not notification.params:
        return notification.title
    try:
        return str(str(template) % notification.params)
    except (KeyError, TypeError, ValueError):  # params written for an older template: the stored title
        return notification.title


def unread_for(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, read_at=None)


def unread_count(user: Any) -> int:
    """Unread notifications, counted up to ``UNREAD_CAP + 1`` (one index range scan on
    ``notification_user_idx``, bounded by the cap)."""
    return len(unread_for(user).order_by().values_list("pk", flat=True)[: UNREAD_CAP + 1])


def recent_for(user: Any, *, limit: int = LIST_SIZE) -> list[Notification]:
    """The user's latest notifications, unread and read, newest first."""
    return list(Notification.objects.filter(user=user).order_by("-created_at", "-id")[:limit])


def notification_mark_read(*, user: Any, notification_id: int) -> Notification | None:
    """Mark one of the user's own notifications read (someone else's id changes nothing and returns
    None). Not audited: reading a notice is the reader's own state, not a change to business data."""
    notification = Notification.objects.filter(user=user, pk=notification_id).first()
    if notification is not None and notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: Any) -> int:
    """Mark every unread notification of the user read; returns how many."""
    return unread_for(user).update(read_at=timezone.now())
