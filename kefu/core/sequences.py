"""Gap-tolerant human-readable counters (customer numbers now, ticket numbers later)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from kefu.core.models import Sequence


def next_values(name: str, count: int = 1) -> range:
    """Reserve ``count`` consecutive values of the counter ``name`` and return them.

    Takes a row lock on the counter (PostgreSQL) or the database write lock (SQLite, IMMEDIATE
    transactions), so concurrent callers never receive the same value.
    """
    if count < 1:
        raise ValueError("count must be positive")
    with transaction.atomic():
        Sequence.objects.get_or_create(name=name)
        Sequence.objects.filter(name=name).update(value=F("value") + count)
        last = Sequence.objects.values_list("value", flat=True).get(name=name)
    return range(last - count + 1, last + 1)


def next_value(name: str) -> int:
    return next_values(name, 1)[0]
