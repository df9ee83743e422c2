"""The API's shared pieces: authentication, the single error body, and the NinjaAPI factory.

Every error leaves the API as ``{"code": str, "message": str, "fields": {field: [message, ...]}}``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from kefu.accounts.services import token_authenticate
from kefu.core.errors import KefuError, NotAuthenticated, PayloadTooLarge, PermissionDenied


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


class TokenAuth(HttpBearer):
    """``Authorization: Bearer kefu_…`` for integrations."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class ApiKeyAuth(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = token_authenticate(key or "")
        if user is not None:
            request.user = user
        return user


class BrowserSessionAuth(SessionAuth):
    """The signed-in browser. CSRF is checked only when a session actually signed someone in: a request
    without one (an integration with a missing or bad token) must get 401, not ninja's "CSRF check Failed"."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)


def _field_path(loc: list[Any]) -> str:
    # ninja reports ("body", "payload", "phone"); callers want "phone".
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "header", "payload", "file")]
    return ".".join(parts) or "__all__"


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    *,
    status: int,
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "fields": fields or {}}, status=status
    )


def build_api(**kwargs: Any) -> NinjaAPI:
    api = NinjaAPI(auth=[TokenAuth(), ApiKeyAuth(), BrowserSessionAuth()], **kwargs)

    @api.exception_handler(KefuError)
    def _kefu(request: HttpRequest, exc: KefuError) -> HttpResponse:
        fields = getattr(exc, "fields", None)
        return error_response(
            api, request, status=exc.status, code=exc.code, message=exc.message, fields=fields
        )

    @api.exception_handler(NinjaValidationError)
    def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields: dict[str, list[str]] = {}
        for err in exc.errors:
            name = _field_path(list(err.get("loc", ())))
            kind = err.get("type", "")
            msg = _("不允许的字段") if kind == "extra_forbidden" else err.get("msg", "invalid")
            fields.setdefault(name, []).append(msg)
        return error_response(
            api,
            request,
            status=422,
            code="validation_error",
            message=_("请求数据有误，请检查各字段"),
            fields=fields,
        )

    @api.exception_handler(AuthenticationError)
    def _unauth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        err = NotAuthenticated(_("需要登录或有效的 API 令牌"))
        return error_response(api, request, status=401, code=err.code, message=err.message)

    @api.exception_handler(HttpError)
    def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # ninja raises HttpError(403) for a session request without a valid CSRF token.
        code = PermissionDenied.code if exc.status_code == 403 else "http_error"
        return error_response(api, request, status=exc.status_code, code=code, message=str(exc))

    @api.exception_handler(RequestDataTooBig)
    def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        # A chunked body has no Content-Length for RequestSizeLimitMiddleware to refuse up front.
        err = PayloadTooLarge(
            _("请求体超过上限 %(limit)s 字节") % {"limit": settings.KEFU_API_MAX_BODY_BYTES}
        )
        return error_response(api, request, status=err.status, code=err.code, message=err.message)

    return api
