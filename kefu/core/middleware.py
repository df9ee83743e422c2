from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _


class RequestSizeLimitMiddleware:
    """Refuse API bodies over ``KEFU_API_MAX_BODY_BYTES`` with 413 in the API's error shape before
    anything reads them (Django would otherwise answer a bare 400 once the body is touched)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.KEFU_API_MAX_BODY_BYTES
            if request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
                # Uploads stream to disk; each file is then checked against the attachment limit.
                limit = settings.KEFU_API_MAX_UPLOAD_BYTES
            if length > limit:
                return JsonResponse(
                    {
                        "code": "payload_too_large",
                        "message": _("请求体 %(length)s 字节，超过上限 %(limit)s 字节")
                        % {"length": length, "limit": limit},
                        "fields": {},
                    },
                    status=413,
                )
        return self.get_response(request)
