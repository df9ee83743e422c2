"""Reference data read on every request and changed rarely, by administrators — ticket categories with
their custom fields and default teams, statuses, incident rules, a user's permissions — kept per
process and reloaded when it changes.

Whether it changed is one stamp: the ``core_sequence`` row ``reference`` (created by migration
``core/0004``), set to a new random value by
:func:`changed` in the same transaction as the change (signal receivers in each app's ``ready``), so
every process sees a change as soon as it commits. A value is random, not a counter, so a rolled-back
change can never leave a stamp that names other data. Reading the stamp is one primary-key read without
the ORM (~0.2 ms); the queries it saves cost ~1 ms each. Within one request the stamp is read once
(``request_started`` opens the request's memo, ``request_finished`` closes it; after :func:`changed` the
request reads it every time again, so it sees its own change, or the old data if that rolls back): a
ticket creation asked for it five times. Without the stamp row (a
flushed test database) nothing is cached. A change made with ``QuerySet.update()`` sends no signal, nor does
``loaddata``: call :func:`changed` after them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import connection

from kefu.core.models import Sequence

STAMP = "reference"
T = TypeVar("T")
_cache: dict[str, tuple[int, Any]] = {}
# The stamp as read in this request: None outside a request, [] until read, [stamp] once read.
_request_stamp: ContextVar[list[int | None] | None] = ContextVar("reference_request_stamp", default=None)


def _table() -> str:
    return connection.ops.quote_name(Sequence._meta.db_table)


def stamp() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {_table()} WHERE name = %s", [STAMP])  # noqa: S608 - own table
        row = cursor.fetchone()
    return int(row[0]) if row else None


def request_started(**signal: Any) -> None:
    _request_stamp.set([])


def request_finished(**signal: Any) -> None:
    _request_stamp.set(None)


def _current() -> int | None:
    memo = _request_stamp.get()
    if memo is None:
        return stamp()
    if not memo:
        memo.append(stamp())
    return memo[0]


def changed(**signal: Any) -> None:
    """Mark the reference data changed (usable as a signal receiver). Raw saves — fixtures being loaded,
    which carry their own stamp row — are left alone."""
    if signal.get("raw"):
        return
    # The rest of this request reads the stamp every time, as outside a request: it sees its own change,
    # and the old data again if the change is rolled back.
    _request_stamp.set(None)
    with connection.cursor() as cursor:  # no row (a flushed database): nothing is cached, nothing to do
        cursor.execute(
            f"UPDATE {_table()} SET value = %s WHERE name = %s",  # noqa: S608 - own table
            [secrets.randbits(62), STAMP],
        )


def cached(key: str, load: Callable[[], T]) -> T:
    """``load()``, reused while the stamp stays the same. Treat what it returns as read-only: it is
    shared by every request of the process."""
    current = _current()
    hit = _cache.get(key)
    if current is not None and hit is not None and hit[0] == current:
        value: T = hit[1]
        return value
    value = load()
    if current is not None:
        _cache[key] = (current, value)
    return value


def forget() -> None:
    """Drop everything cached in this process (tests)."""
    _cache.clear()
