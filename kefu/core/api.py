"""The API's shared pieces: authentication, the single error body, and the NinjaAPI factory.

Every error leaves the API as ``{"code": str, "message": str, "fields": {field: [message, ...]},
"request_id": str}`` — the request id is also the response's ``X-Request-ID`` header and is in the logs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth
from pydantic import BaseModel

from kefu.core.errors import KefuError, NotAuthenticated, PayloadTooLarge, PermissionDenied
from kefu.core.middleware import api_error, current_request_id


class Out(BaseModel):
    """A response schema for answers the views build as dicts: pydantic validates them natively. (ninja's
    ``Schema`` wraps each nested object in a Python attribute getter first — a quarter of the time of a
    50-ticket list; docs/performance.md.)"""


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]
    request_id: str


TokenCheck = Callable[[str], Any]
"""Who a presented API token belongs to (``None``: nobody). The accounts app owns tokens; the project's
API (``kefu/api.py``) hands its ``token_authenticate`` to ``build_api``."""


class TokenAuth(HttpBearer):
    """``Authorization: Bearer kefu_…`` for integrations."""

    def __init__(self, check: TokenCheck) -> None:
        super().__init__()
        self.check = check

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = self.check(token)
        if user is not None:
            request.user = user
        return user


class ApiKeyAuth(APIKeyHeader):
    param_name = "X-API-Key"

    def __init__(self, check: TokenCheck) -> None:
        super().__init__()
        self.check = check

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = self.check(key or "")
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


# pydantic's error types (https://docs.pydantic.dev/latest/errors/validation_errors/) → a message in the
# request's language; ``ctx`` fills the placeholders. Types not listed get a generic message.
_SCHEMA_MESSAGES: dict[str, Any] = {
    "missing": gettext_lazy("必填字段"),
    "extra_forbidden": gettext_lazy("不允许的字段"),
    "string_type": gettext_lazy("必须是字符串"),
    "string_too_short": gettext_lazy("至少 %(min_length)s 个字符"),
    "string_too_long": gettext_lazy("最多 %(max_length)s 个字符"),
    "string_pattern_mismatch": gettext_lazy("格式不符合要求"),
    "too_short": gettext_lazy("至少 %(min_length)s 项"),
    "too_long": gettext_lazy("最多 %(max_length)s 项"),
    "int_type": gettext_lazy("必须是整数"),
    "int_parsing": gettext_lazy("必须是整数"),
    "int_from_float": gettext_lazy("必须是整数"),
    "float_type": gettext_lazy("必须是数字"),
    "float_parsing": gettext_lazy("必须是数字"),
    "decimal_type": gettext_lazy("必须是数字"),
    "decimal_parsing": gettext_lazy("必须是数字"),
    "bool_type": gettext_lazy("必须是 true 或 false"),
    "bool_parsing": gettext_lazy("必须是 true 或 false"),
    "list_type": gettext_lazy("必须是列表"),
    "dict_type": gettext_lazy("必须是对象"),
    "model_type": gettext_lazy("必须是对象"),
    "model_attributes_type": gettext_lazy("必须是对象"),
    "enum": gettext_lazy("可选值：%(expected)s"),
    "literal_error": gettext_lazy("可选值：%(expected)s"),
    "greater_than": gettext_lazy("必须大于 %(gt)s"),
    "greater_than_equal": gettext_lazy("不能小于 %(ge)s"),
    "less_than": gettext_lazy("必须小于 %(lt)s"),
    "less_than_equal": gettext_lazy("不能大于 %(le)s"),
    "date_type": gettext_lazy("日期格式应为 YYYY-MM-DD"),
    "date_parsing": gettext_lazy("日期格式应为 YYYY-MM-DD"),
    "date_from_datetime_parsing": gettext_lazy("日期格式应为 YYYY-MM-DD"),
    "datetime_type": gettext_lazy("时间格式应为 ISO 8601，例如 2026-12-02T09:30:00+08:00"),
    "datetime_parsing": gettext_lazy("时间格式应为 ISO 8601，例如 2026-12-02T09:30:00+08:00"),
    "datetime_from_date_parsing": gettext_lazy("时间格式应为 ISO 8601，例如 2026-12-02T09:30:00+08:00"),
    "json_invalid": gettext_lazy("JSON 格式无效"),
    "json_type": gettext_lazy("JSON 格式无效"),
}


def schema_error_message(err: Mapping[str, Any]) -> str:
    """One pydantic error as a message in the active language. A ``ValueError`` raised by our own
    validators carries a translated message already: it is kept, without pydantic's prefix."""
    kind = str(err.get("type", ""))
    if kind == "value_error":
        return str(err.get("msg", "")).removeprefix("Value error, ")
    template = _SCHEMA_MESSAGES.get(kind)
    if template is None:
        return _("取值无效")
    try:
        return str(template) % dict(err.get("ctx") or {})
    except (KeyError, TypeError, ValueError):
        return _("取值无效")


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    *,
    status: int,
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
) -> HttpResponse:
    body = {"code": code, "message": message, "fields": fields or {}, "request_id": current_request_id()}
    return api.create_response(request, body, status=status)


def docs_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The API docs and openapi.json: public when ``KEFU_API_DOCS_PUBLIC`` (the default outside
    production), otherwise for signed-in staff only — anyone else gets 404, as for a page that is not there."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        staff = user.is_authenticated and not getattr(user, "is_portal_user", False)
        if settings.KEFU_API_DOCS_PUBLIC or staff:
            return view(request, *args, **kwargs)
        return api_error(
            request, status=404, code="not_found", message=_("API 文档未公开：请以员工身份登录后查看")
        )

    return wrapper


def build_api(*, token_check: TokenCheck, **kwargs: Any) -> NinjaAPI:
    """The NinjaAPI with kefu's authentication (a token — checked by ``token_check`` — as bearer or
    ``X-API-Key``, else the browser's session) and error bodies."""
    api = NinjaAPI(
        auth=[TokenAuth(token_check), ApiKeyAuth(token_check), BrowserSessionAuth()],
        docs_decorator=docs_access,
        **kwargs,
    )

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
            fields.setdefault(name, []).append(schema_error_message(err))
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
