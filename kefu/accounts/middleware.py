"""How long a signed-in session lasts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest
from django.http.response import HttpResponseBase

EXPIRY_KEY = "_session_expiry"


class SessionLifetimeMiddleware:
    """A session ends a fixed time after sign-in, whatever the user does meanwhile:
    ``KEFU_STAFF_SESSION_HOURS`` for staff (a working day), ``KEFU_PORTAL_SESSION_HOURS`` for portal users.

    The end is set when a request saves a signed-in session that has none yet — the sign-in itself,
    through any sign-in page — so it costs no query of its own. (``Client.force_login`` in tests makes a
    session without a request: it keeps Django's ``SESSION_COOKIE_AGE``.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        session = request.session
        if session.modified and SESSION_KEY in session and EXPIRY_KEY not in session:
            portal = getattr(request.user, "is_portal_user", False)
            hours = settings.KEFU_PORTAL_SESSION_HOURS if portal else settings.KEFU_STAFF_SESSION_HOURS
            session.set_expiry(dt.timedelta(hours=hours))
        return response
