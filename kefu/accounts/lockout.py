"""Sign-in rate limit and lockout, with django-axes (``AXES_*`` in kefu/settings.py).

Failed sign-ins are counted per account (``KEFU_LOGIN_FAILURE_LIMIT``) and per network address
(``KEFU_LOGIN_ADDRESS_FAILURE_LIMIT``, higher: a whole office may share one address) over the cool-off
window (``KEFU_LOGIN_LOCKOUT_MINUTES``). At the limit the account or address is locked for that window;
every attempt during the lockout, a correct password included, is refused and restarts the window.
Each failure is written to kefu's audit log. API tokens do not sign in with a password and are not
affected; an administrator lifts a lockout by deleting the access attempt in the admin (Axes).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.middleware import AxesMiddleware
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts.models import User
from kefu.core import audit
from kefu.core.actors import SYSTEM
from kefu.core.models import AuditAction

ACCOUNT = "username"
ADDRESS = "ip_address"


def failure_limits() -> dict[str, int]:
    return {ACCOUNT: settings.AXES_FAILURE_LIMIT, ADDRESS: settings.KEFU_LOGIN_ADDRESS_FAILURE_LIMIT}


def client_address(request: HttpRequest) -> str | None:
    """The client's address. Behind ``KEFU_PROXY_COUNT`` reverse proxies that each append to
    X-Forwarded-For, it is the entry the outermost proxy added; anything left of it is the client's own
    claim and is ignored (it could name any address and dodge the per-address limit)."""
    count = settings.KEFU_PROXY_COUNT
    if count > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= count:
            return str(forwarded[-count])
    return str(request.META["REMOTE_ADDR"]) if request.META.get("REMOTE_ADDR") else None


class LockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]
    """Axes' database handler with a limit per lockout parameter, and failures in the audit log."""

    def failure_counts(self, request: Any, credentials: dict[str, Any] | None = None) -> dict[str, int]:
        counts = {}
        for parameter, attempts in zip(
            settings.AXES_LOCKOUT_PARAMETERS, self.get_user_attempts(request, credentials), strict=True
        ):
            counts[parameter] = sum(attempts.values_list("failures_since_start", flat=True))
        return counts

    def locked_parameters(self, request: Any, credentials: dict[str, Any] | None = None) -> list[str]:
        limits = failure_limits()
        counts = self.failure_counts(request, credentials)
        return [parameter for parameter, count in counts.items() if count >= limits[parameter]]

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        # Axes compares one number with AXES_FAILURE_LIMIT: give each count relative to its own limit.
        limits = failure_limits()
        counts = self.failure_counts(request, credentials)
        return max(count - limits[p] + settings.AXES_FAILURE_LIMIT for p, count in counts.items())

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None:
            return
        username = get_client_username(request, credentials) or ""
        locked = self.locked_parameters(request, credentials) if request.axes_locked_out else []
        request.kefu_locked = locked
        target: Any = User.objects.filter(username=username).first()
        if target is None:  # an unknown name: the failure is filed under its access attempt
            target = AccessAttempt.objects.filter(
                username=username, ip_address=request.axes_ip_address
            ).first()
        if target is None:
            return
        audit.record(
            actor=SYSTEM,
            action=AuditAction.LOGIN_FAILED,
            obj=target,
            changes={
                "username": [None, username],
                "ip_address": [None, request.axes_ip_address],
                "path": [None, request.path],
                "locked": [None, locked],
            },
        )


def lockout_minutes(request: HttpRequest) -> int:
    cool_off = get_cool_off(request) or dt.timedelta()
    return max(1, round(cool_off.total_seconds() / 60))


def lockout_message(request: HttpRequest, username: str) -> str:
    minutes = lockout_minutes(request)
    if ACCOUNT in getattr(request, "kefu_locked", [ACCOUNT]):
        return _(
            "账号“%(username)s”登录失败次数过多，已临时锁定 %(minutes)s 分钟；锁定期间再次尝试会重新计时。"
        ) % {"username": username, "minutes": minutes}
    return _("此网络地址登录失败次数过多，已临时锁定 %(minutes)s 分钟；锁定期间再次尝试会重新计时。") % {
        "minutes": minutes
    }


class LockoutFormMixin(forms.Form):
    """A sign-in form that says so when the account or address is locked, instead of "wrong password"."""

    request: HttpRequest | None

    def get_invalid_login_error(self) -> forms.ValidationError:
        if self.request is not None and getattr(self.request, "axes_locked_out", False):
            username = self.cleaned_data.get("username") or ""
            return forms.ValidationError(lockout_message(self.request, username), code="locked_out")
        return super().get_invalid_login_error()  # type: ignore[misc, no-any-return]


class LoginForm(LockoutFormMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy("用户名或密码错误，请重试。"),
    }


class AdminLoginForm(LockoutFormMixin, AdminAuthenticationForm):
    pass


def lockout_response(
    request: HttpRequest, original_response: HttpResponseBase | None = None, credentials: Any = None
) -> HttpResponseBase:
    """``AXES_LOCKOUT_CALLABLE``: the sign-in page already shows why (``LockoutFormMixin``); answer it
    with 429 Too Many Requests. Any other caller of ``authenticate()`` gets the message alone."""
    status = settings.AXES_HTTP_RESPONSE_CODE
    if isinstance(original_response, HttpResponseBase) and original_response.status_code == 200:
        original_response.status_code = status
        return original_response
    username = get_client_username(request, credentials) or ""
    return HttpResponse(
        lockout_message(request, username), status=status, content_type="text/plain; charset=utf-8"
    )


class LockoutMiddleware(AxesMiddleware):  # type: ignore[misc]
    """Axes' middleware, synchronous only: its async path (8.3.1) passes the credentials where the
    response belongs, so under ASGI the sign-in page would be lost. Django runs it in a thread."""

    async_capable = False
