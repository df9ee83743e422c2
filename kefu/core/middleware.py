"""Middleware that guards every request the same way, whichever view it reaches.

- :class:`RequestIdMiddleware` (outermost): gives each request an id (``X-Request-ID``, taken from the
  proxy when it sent a sane one), puts it in every log line and the response header, and makes sure an
  API error is never an HTML page: an error response under ``/api/`` that is not JSON (an unhandled
  exception, the database away, Django's own 400) is replaced by the API's error body.
- :class:`RequestSizeLimitMiddleware`: API bodies over the limit get 413 before anything reads them.
- :class:`InputGuardMiddleware`: the one input layer that refuses what the database cannot store — a NUL
  character in the path, a query parameter, a form field or a JSON string — with 422 naming the field,
  and a form with more files or fields than Django parses with an answer naming the limit.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.functional import Promise as StrPromise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

logger = logging.getLogger(__name__)

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("kefu_request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdLogFilter(logging.Filter):
    """Adds ``request_id`` to every log record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def api_error(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
) -> JsonResponse:
    """The API's error body, ``{"code", "message", "fields", "request_id"}``."""
    return JsonResponse(
        {
            "code": code,
            "message": message,
            "fields": fields or {},
            "request_id": getattr(request, "request_id", None) or current_request_id(),
        },
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        # Not reset on the way out: Django logs the response ("Not Found: …") after the middleware.
        _request_id.set(request_id)
        response = self.get_response(request)
        if (
            is_api(request)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            response = _as_api_error(request, response)
        response["X-Request-ID"] = request_id
        return response


def _as_api_error(request: HttpRequest, response: HttpResponse) -> JsonResponse:
    if response.status_code >= 500:
        return api_error(
            request,
            status=response.status_code,
            code="server_error",
            message=_("服务器出错，请稍后重试；如果问题持续，请把请求编号告诉管理员"),
        )
    return api_error(
        request,
        status=response.status_code,
        code="bad_request" if response.status_code == 400 else "http_error",
        message=_("请求无法处理（HTTP %(status)s）") % {"status": response.status_code},
    )


class RequestSizeLimitMiddleware:
    """Refuse API bodies over ``KEFU_API_MAX_BODY_BYTES`` with 413 in the API's error shape before
    anything reads them (Django would otherwise answer a bare 400 once the body is touched)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api(request):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.KEFU_API_MAX_BODY_BYTES
            if request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
                # Uploads stream to disk; each file is then checked against the attachment limit.
                limit = settings.KEFU_API_MAX_UPLOAD_BYTES
            if length > limit:
                return api_error(
                    request,
                    status=413,
                    code="payload_too_large",
                    message=_("请求体 %(length)s 字节，超过上限 %(limit)s 字节")
                    % {"length": length, "limit": limit},
                )
        return self.get_response(request)


def _nul_paths(value: Any, path: str) -> Iterator[str]:
    """Where in a parsed JSON document a string (or key) holds a NUL character."""
    if isinstance(value, str):
        if "\x00" in value:
            yield path or "__all__"
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                yield child
            yield from _nul_paths(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, f"{path}.{index}" if path else str(index))


@dataclass(frozen=True)
class _OverLimit:
    """How a request Django refused to parse is answered: 413 with ``message`` naming the ``setting``'s
    limit, filed under ``field``."""

    code: str
    message: StrPromise  # a lazy translation with %(limit)s
    setting: str
    field: str


_OVER_LIMIT: dict[type[Exception], _OverLimit] = {
    TooManyFilesSent: _OverLimit(
        "too_many_files",
        gettext_lazy("一次最多上传 %(limit)s 个文件"),
        "DATA_UPLOAD_MAX_NUMBER_FILES",
        "attachments",
    ),
    TooManyFieldsSent: _OverLimit(
        "too_many_fields",
        gettext_lazy("表单字段超过上限 %(limit)s 个"),
        "DATA_UPLOAD_MAX_NUMBER_FIELDS",
        "__all__",
    ),
    RequestDataTooBig: _OverLimit(
        "payload_too_large",
        gettext_lazy("请求体超过上限 %(limit)s 字节"),
        "DATA_UPLOAD_MAX_MEMORY_SIZE",
        "__all__",
    ),
}
_OVER_LIMIT_ERRORS = tuple(_OVER_LIMIT)


class InputGuardMiddleware:
    """Text with a NUL character cannot be stored by PostgreSQL (it raised a 500 in most text fields):
    refused here, once, for every page and endpoint, with 422 naming the field."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            fields = self._nul_fields(request)
        except _OVER_LIMIT_ERRORS as exc:
            limit = _OVER_LIMIT[type(exc)]
            return self._refuse(
                request,
                status=413,
                code=limit.code,
                message=limit.message % {"limit": getattr(settings, limit.setting)},
                field=limit.field,
            )
        if fields:
            message = _("%(fields)s 含有不允许的空字符（NUL）") % {"fields": "、".join(fields)}
            return self._refuse(
                request,
                status=422,
                code="validation_error",
                message=message,
                fields={name: [_("不允许包含空字符（NUL）")] for name in fields},
            )
        return self.get_response(request)

    @staticmethod
    def _refuse(
        request: HttpRequest,
        *,
        status: int,
        code: str,
        message: str,
        field: str = "",
        fields: dict[str, list[str]] | None = None,
    ) -> HttpResponse:
        fields = fields or ({field: [message]} if field else {})
        if is_api(request):
            return api_error(request, status=status, code=code, message=message, fields=fields)
        return render(request, "400.html", {"message": message}, status=status)

    @staticmethod
    def _nul_fields(request: HttpRequest) -> list[str]:
        found: list[str] = []
        if "\x00" in request.path:
            found.append("path")
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                found.append(key.replace("\x00", "") or "query")
        if request.method in ("POST", "PUT", "PATCH"):
            content_type = request.content_type or ""
            if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
                for key, values in request.POST.lists():
                    if "\x00" in key or any("\x00" in v for v in values):
                        found.append(key.replace("\x00", "") or "__all__")
            elif content_type == "application/json" and b"\\u0000" in request.body:
                try:
                    document = json.loads(request.body)
                except ValueError:
                    return found  # not JSON: the API's parser names the problem
                found.extend(_nul_paths(document, ""))
        return found
