"""Keyset (cursor) pagination: pages stay as fast at row 1,000,000 as at row 1."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed

M = TypeVar("M", bound=Model)

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


@dataclass
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"id": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data: Any = json.loads(base64.urlsafe_b64decode(padded.encode()))
        value = data["id"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ValidationFailed.for_field("cursor", _("分页游标无效")) from None
    if not isinstance(value, int) or isinstance(value, bool):  # JSON true would page from id 1
        raise ValidationFailed.for_field("cursor", _("分页游标无效"))
    return value


def keyset_page(queryset: QuerySet[M], *, cursor: str | None, limit: int = DEFAULT_LIMIT) -> Page[M]:
    """Newest first by primary key; ``cursor`` is the opaque value of the previous page's ``next_cursor``."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.for_field("limit", _("limit 必须在 1 到 %(max)s 之间") % {"max": MAX_LIMIT})
    queryset = queryset.order_by("-pk")
    if cursor:
        queryset = queryset.filter(pk__lt=decode_cursor(cursor))
    rows = list(queryset[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(rows[-1].pk) if has_more and rows else None)
