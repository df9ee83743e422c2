from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from kefu.core import notifications


class Bell:
    """The top bar's notification bell. The count is read only when a page shows the bell (htmx
    fragments do not), in one bounded query (``notifications.unread_count``)."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.poll_seconds = settings.KEFU_NOTIFICATION_POLL_SECONDS

    @cached_property
    def count(self) -> int:
        return notifications.unread_count(self.user)

    @property
    def label(self) -> str:
        return f"{notifications.UNREAD_CAP}+" if self.count > notifications.UNREAD_CAP else str(self.count)


def bell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "is_portal_user", False):
        return {}
    return {"bell": Bell(user)}
