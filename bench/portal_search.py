"""What searching public text only costs a portal user's ticket search (``search_q(public_only=True)``).

    .venv/bin/python bench/portal_search.py [--tickets 100000] [--customers 2000] [--requests 50]

Seeds ``--tickets`` synthetic tickets over ``--customers`` customers (``kefu.demo.seed_bulk``) unless
the database already holds that many, runs ``ANALYZE``, then for the customer with the most tickets
times the portal's ticket list query and its first page of 50 for a common word, a rarer word and a word
only internal notes hold: with the public-only condition (what a portal user now runs) and without it
(the same query as before the change). Without DATABASE_URL a SQLite file under /tmp/kefu-bench is used.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import setup, table

WORDS = {"common": "延误", "rarer": "理赔"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    engine = setup("portal_search.sqlite3")

    from django.db import connection
    from django.db.models import Count

    from kefu.demo import seed_bulk
    from kefu.tickets import selectors
    from kefu.tickets.models import Ticket

    if Ticket.objects.count() < args.tickets:
        seed_bulk(customers=args.customers, tickets=args.tickets, seed=7, progress=False)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    top = Ticket.objects.values("customer_id").annotate(n=Count("id")).order_by("-n").first()
    assert top is not None
    customer_id, owned = top["customer_id"], top["n"]
    scope = Ticket.objects.filter(customer_id=customer_id, merged_into=None)
    note_word = next(
        (w for t in scope.exclude(internal_search_text="")[:50] for w in t.internal_search_text.split()),
        "",
    )
    words = {**WORDS, "note-only": note_word}

    rows = []
    for label, word in words.items():
        for public_only in (False, True):
            query = scope.filter(selectors.search_q(word, public_only=public_only)).order_by(
                "-updated_at", "-id"
            )
            timings = []
            found = 0
            for _ in range(args.requests):
                start = time.perf_counter()
                found = len(list(query.values_list("id", flat=True)[:50]))
                timings.append((time.perf_counter() - start) * 1000)
            rows.append(
                [
                    f"{label} ({word})",
                    "public only" if public_only else "all text (before)",
                    found,
                    f"{statistics.median(timings):.2f}",
                    f"{sorted(timings)[int(len(timings) * 0.95) - 1]:.2f}",
                ]
            )
    print(f"{engine}; {Ticket.objects.count():,} tickets; the portal customer owns {owned:,}")
    print(table(["q", "search", "first page", "median ms", "p95 ms"], rows))


if __name__ == "__main__":
    main()
