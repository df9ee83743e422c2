"""Helpers for HTML views: role checks that answer 403/404 the same way everywhere."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kefu.core.errors import KefuError, NotFound, PermissionDenied

View = TypeVar("View", bound=Callable[..., HttpResponse])


def staff_view(perm: str | None = None) -> Callable[[View], View]:
    """Signed-in staff only (portal users get 403); with ``perm``, that permission too.
    KefuErrors raised inside become the matching error page."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if getattr(user, "is_portal_user", False) or (perm and not user.has_perm(perm)):
                return render(request, "403.html", status=403)
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except PermissionDenied:
                return render(request, "403.html", status=403)

        return wrapper  # type: ignore[return-value]

    return decorate


def portal_view(view: View) -> View:
    """Signed-in customer-portal users only."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not getattr(user, "is_portal_user", False) or getattr(user, "portal_account", None) is None:
            return render(request, "403.html", status=403)
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc

    return wrapper  # type: ignore[return-value]


def form_errors(exc: KefuError) -> dict[str, list[str]]:
    """A service error as ``{field: [messages]}`` for a template (``__all__`` for the summary)."""
    fields = dict(getattr(exc, "fields", {}) or {})
    fields.setdefault("__all__", [exc.message])
    return fields
