"""The request a view behind ``staff_view``/``portal_view`` (``kefu.core.web``) sees: signed in as a
``User``, with django-htmx's details. It lives with ``User``: core's decorators know no app's models."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kefu.accounts.models import User


class AuthedRequest(HttpRequest):
    user: User
    htmx: Any
