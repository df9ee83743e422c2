"""Keyset (cursor) pagination: pages stay as fast at row 1,000,000 as at row 1.

The one paginator of every list, page and API (:func:`keyset_page`). Two keysets share one cursor format (an opaque, url-safe base64 JSON object):

- by primary key, newest first or oldest first (:func:`keyset_page`): ``{"id": 42}``;
- by a timestamp with the primary key as tie-breaker, either direction (:func:`keyset_page` with
  ``by="updated_at"``): ``{"at": "2026-11-25T12:00:00.123456+00:00", "id": 42}``. Rows sharing a
  timestamp are never skipped or repeated, because the id breaks the tie.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet
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


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed.for_field("cursor", _("分页游标无效"))


def _decode(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _invalid_cursor() from None


def _int_id(data: Any) -> int:
    value = data.get("id") if isinstance(data, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):  # JSON true would page from id 1
        raise _invalid_cursor()
    # Clamped to a bigint: past it PostgreSQL raised a 500, and the clamped id pages the same rows.
    return max(-(2**63), min(value, 2**63 - 1))


def decode_cursor(cursor: str) -> int:
    return _int_id(_decode(cursor))


def encode_time_cursor(at: dt.datetime, last_id: int) -> str:
    payload = json.dumps({"at": at.isoformat(), "id": last_id})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_time_cursor(cursor: str) -> tuple[dt.datetime, int]:
    data = _decode(cursor)
    last_id = _int_id(data)
    raw = data.get("at")
    if not isinstance(raw, str):
        raise _invalid_cursor()
    try:
        at = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise _invalid_cursor() from None
    if at.tzinfo is None:  # we only ever write aware timestamps: a naive one was made up
        raise _invalid_cursor()
    try:  # in UTC: PostgreSQL refuses offsets beyond ±15:59, which Python accepts
        return at.astimezone(dt.UTC), last_id
    except OverflowError:
        raise _invalid_cursor() from None


def keyset_order(queryset: QuerySet[M], *, by: str | None = None, descending: bool = True) -> QuerySet[M]:
    """``queryset`` in the order :func:`keyset_page` reads it: by primary key, or by ``(by, pk)``."""
    sign = "-" if descending else ""
    return queryset.order_by(*([f"{sign}pk"] if by is None else [f"{sign}{by}", f"{sign}pk"]))


def keyset_page(
    queryset: QuerySet[M],
    *,
    cursor: str | None,
    limit: int = DEFAULT_LIMIT,
    by: str | None = None,
    descending: bool = True,
    any_of: Callable[[], Sequence[Q]] | None = None,
) -> Page[M]:
    """One page; ``cursor`` is the opaque value of the previous page's ``next_cursor``.

    Without ``by``: by primary key, newest first or, with ``descending=False``, oldest first. With ``by`` (a non-null datetime column such as
    ``updated_at``): ordered by ``(by, pk)``, newest first or, with ``descending=False``, oldest first —
    an index on ``(by, id)`` serves it. A row whose ``by`` changes between two pages moves in the order:
    it may then show up again (oldest first: it moved behind the cursor) or not at all on this walk.

    With ``any_of`` (called once ``cursor`` and ``limit`` are known to be valid, so a bad request costs
    nothing: it returns conditions, any of which a row must meet): each condition is asked separately for
    its first ``limit + 1`` keys after the cursor, and the page is the first of their union, read in one
    more query — each condition then runs on its own index instead of one ``OR`` that neither SQLite
    nor PostgreSQL plans well (the customer search; docs/performance.md)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.for_field("limit", _("limit 必须在 1 到 %(max)s 之间") % {"max": MAX_LIMIT})
    after = "lt" if descending else "gt"
    queryset = keyset_order(queryset, by=by, descending=descending)
    if cursor and by is None:
        queryset = queryset.filter(**{f"pk__{after}": decode_cursor(cursor)})
    elif cursor and by is not None:
        at, last_id = decode_time_cursor(cursor)
        queryset = queryset.filter(Q(**{f"{by}__{after}": at}) | Q(**{by: at, f"pk__{after}": last_id}))
    if any_of is None:
        rows = list(queryset[: limit + 1])
        has_more = len(rows) > limit
        rows = rows[:limit]
    else:
        keys: set[tuple[Any, ...]] = set()
        key_fields = ["pk"] if by is None else [by, "pk"]
        for condition in any_of():
            keys.update(
                queryset.filter(condition).prefetch_related(None).values_list(*key_fields)[: limit + 1]
            )
        first = sorted(keys, reverse=descending)[: limit + 1]
        has_more = len(first) > limit
        rows = list(queryset.filter(pk__in=[key[-1] for key in first[:limit]])) if first else []
    if not (has_more and rows):
        return Page(items=rows, next_cursor=None)
    last = rows[-1]
    if by is None:
        return Page(items=rows, next_cursor=encode_cursor(last.pk))
    return Page(items=rows, next_cursor=encode_time_cursor(getattr(last, by), last.pk))
