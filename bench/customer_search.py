"""Latency of the customer search API, ``GET /api/v1/customers?q=…``, at benchmark scale.

    .venv/bin/python bench/customer_search.py [--customers 100000] [--requests 300] [--explain]

Seeds ``--customers`` synthetic customers (``kefu.demo.seed_bulk``) unless the database already
holds that many, then times whole requests through ``django.test.Client`` with a lead's API token
(authentication, search, keyset page of 50, serialization) for five kinds of query:

    name-hit        2–4 Chinese characters cut from an existing customer's name
    name-miss       Chinese characters that occur in no name
    phone-full      a contact's whole mobile number (138 1234 5678)
    phone-last4     the last four digits of a contact's number (尾号)
    customer-no     a customer-number prefix (KH00123 → 100 customers)

Without DATABASE_URL a SQLite file under /tmp/kefu-bench is used and kept for the next run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import setup, table

MISS_CHARS = "鲲鹏麒麟凤凰龟鹤骐骥饕餮貔貅"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def queries(count: int, rng: random.Random) -> dict[str, list[str]]:
    from kefu.customers.models import Contact, Customer

    top = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ids = [rng.randint(1, top) for _ in range(count * 3)]
    customers = list(Customer.objects.filter(pk__in=ids).values_list("name", "customer_no"))[:count]
    phones = list(
        Contact.objects.filter(customer_id__in=ids).exclude(phone="").values_list("phone", flat=True)
    )
    phones = phones[:count]

    def fragment(name: str) -> str:
        size = min(len(name), rng.randint(2, 4))
        start = rng.randint(0, len(name) - size)
        return name[start : start + size]

    return {
        "name-hit": [fragment(name) for name, _ in customers],
        "name-miss": ["".join(rng.sample(MISS_CHARS, rng.randint(2, 4))) for _ in range(count)],
        "phone-full": [p.removeprefix("+86") for p in phones],
        "phone-last4": [p[-4:] for p in phones],
        "customer-no": [no[:7] for _, no in customers],
    }


def explain(user: Any, samples: dict[str, list[str]]) -> None:
    from django.db import connection

    from kefu.core.pagination import keyset_page
    from kefu.customers.selectors import customer_search

    for kind, values in samples.items():
        queryset = customer_search(user, q=values[0]).order_by("-pk")[:51]
        print(f"\n-- {kind}: q={values[0]!r}")
        print(queryset.explain(analyze=True) if connection.vendor == "postgresql" else queryset.explain())
        keyset_page(customer_search(user, q=values[0]), cursor=None)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300, help="requests per query kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="print each kind's query plan")
    args = parser.parse_args()
    database = setup("search.sqlite3")

    from django.test import Client

    from kefu.accounts.enums import Role
    from kefu.accounts.models import User
    from kefu.accounts.services import token_create, user_create
    from kefu.core.actors import SYSTEM
    from kefu.customers.models import Customer
    from kefu.demo import seed_bulk
    from kefu.heap import settle_heap

    have = Customer.objects.count()
    if have < args.customers:
        print(f"seeding {args.customers - have} customers …", file=sys.stderr)
        seed_bulk(customers=args.customers - have, seed=args.seed + have, progress=sys.stderr.isatty())
    from django.db import connection

    with connection.cursor() as cursor:  # fresh statistics, as autovacuum / PRAGMA optimize would keep them
        cursor.execute("ANALYZE")
    lead = User.objects.filter(username="bench-lead").first() or user_create(
        actor=SYSTEM, username="bench-lead", password=None, role=Role.LEAD, full_name="基准测试组长"
    )
    _, token = token_create(actor=SYSTEM, user=lead, name="bench")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    rng = random.Random(args.seed)
    samples = queries(args.requests, rng)
    if args.explain:
        explain(lead, samples)

    def call(q: str) -> int:
        response = client.get("/api/v1/customers?" + urlencode({"q": q}))
        if response.status_code != 200:
            raise SystemExit(f"GET q={q!r} → {response.status_code}: {response.content[:300]!r}")
        return len(response.json()["items"])

    # As in the server (kefu/asgi.py): objects that live for the whole process are moved out of the
    # garbage collector's way, so a full collection does not walk them mid-request.
    settle_heap()
    timer: Callable[[], float] = time.perf_counter
    for values in samples.values():  # warm the caches and connections once per kind
        for q in values[:10]:
            call(q)
    rows = []
    for kind, values in samples.items():
        times: list[float] = []
        found: list[int] = []
        for q in values:
            started = timer()
            found.append(call(q))
            times.append((timer() - started) * 1000)
        rows.append(
            [
                kind,
                len(times),
                f"{statistics.mean(found):.1f}",
                f"{percentile(times, 0.50):.1f}",
                f"{percentile(times, 0.95):.1f}",
                f"{percentile(times, 0.99):.1f}",
                f"{max(times):.1f}",
            ]
        )
    print(f"{database}; {Customer.objects.count():,} customers")
    print(table(["query", "requests", "rows/page", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
