"""Gap-tolerant human-readable counters (customer numbers, ticket numbers)."""

from __future__ import annotations

from django.db import connection

from kefu.core.models import Sequence


def next_values(name: str, count: int = 1) -> range:
    """Reserve ``count`` consecutive values of the counter ``name`` and return them.

    One statement: an upsert that creates the counter or advances it and returns the new value. The
    row lock it takes (PostgreSQL) or the database write lock (SQLite) means concurrent callers never
    receive the same value; inside a caller's transaction the lock is held until it commits.
    """
    if count < 1:
        raise ValueError("count must be positive")
    table = connection.ops.quote_name(Sequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, value) VALUES (%s, %s) "  # noqa: S608 - the model's own table
            f"ON CONFLICT (name) DO UPDATE SET value = {table}.value + excluded.value RETURNING value",
            [name, count],
        )
        last = int(cursor.fetchone()[0])
    return range(last - count + 1, last + 1)


def next_value(name: str) -> int:
    return next_values(name, 1)[0]
