"""Per-user limits on actions that expose personal data (phone lookups, reveals), counted by
django-ratelimit in the default cache (Redis when ``REDIS_URL`` is set, so every process shares the
count; the single-process default counts in memory).

Called from services and selectors, not from one adapter, so the page, the API and the CLI share one
count: ``limit_user(user, group="phone-lookup", rate=settings.KEFU_PHONE_LOOKUP_RATE, …)``."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django_ratelimit.core import get_usage

from kefu.core.errors import TooManyRequests


def limit_user(user: Any, *, group: str, rate: str, message: str | Promise) -> None:
    """Count one ``group`` action for ``user``; raise :class:`TooManyRequests` with ``message`` once
    more than ``rate`` (``"30/h"``, ``"100/d"``) were counted in the current window. An empty ``rate``
    turns the limit off."""
    if not rate:
        return
    usage = get_usage(
        None,  # the key below names the user; no request is needed (any method counts)
        group=group,
        key=lambda _group, _request: f"user:{user.pk}",
        rate=rate,
        increment=True,
    )
    if usage is not None and usage["should_limit"]:
        raise TooManyRequests(message)
