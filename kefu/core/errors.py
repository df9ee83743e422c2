"""The one exception tree of kefu. Services raise these; the API maps them to HTTP in
``kefu.core.api`` and views map them to form errors with ``kefu.core.web.form_errors``.

    KefuError                    500  code=error
    ├── ValidationFailed         422  code=validation_error   (fields: {name: [messages]})
    ├── NotAuthenticated         401  code=not_authenticated
    ├── PermissionDenied         403  code=permission_denied
    ├── NotFound                 404  code=not_found          (also for other organizations' objects)
    ├── Conflict                 409  code=conflict           (stale version, duplicate key)
    ├── PayloadTooLarge          413  code=payload_too_large
    └── TooManyRequests          429  code=rate_limited       (a configured limit, kefu.core.ratelimit)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils.functional import Promise


class KefuError(Exception):
    status = 500
    code = "error"

    def __init__(self, message: str | Promise, *, code: str | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        if code is not None:
            self.code = code


class ValidationFailed(KefuError):
    status = 422
    code = "validation_error"

    def __init__(
        self,
        message: str | Promise,
        *,
        fields: Mapping[str, Sequence[str | Promise]] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.fields: dict[str, list[str]] = {k: [str(m) for m in v] for k, v in (fields or {}).items()}

    @classmethod
    def for_field(cls, field: str, message: str | Promise) -> ValidationFailed:
        return cls(message, fields={field: [message]})


class NotAuthenticated(KefuError):
    status = 401
    code = "not_authenticated"


class PermissionDenied(KefuError):
    status = 403
    code = "permission_denied"


class NotFound(KefuError):
    status = 404
    code = "not_found"


class Conflict(KefuError):
    status = 409
    code = "conflict"


class PayloadTooLarge(KefuError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(KefuError):
    status = 429
    code = "rate_limited"
