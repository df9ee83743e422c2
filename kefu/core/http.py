"""Request types for views behind a login: ``request.user`` is a real user and django-htmx's details
are present (see django-htmx's typing advice)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from kefu.accounts.models import User


class AuthedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails
