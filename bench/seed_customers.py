"""How long ``kefu seed --customers N`` (``kefu.demo.seed_bulk``) takes.

    .venv/bin/python bench/seed_customers.py [--customers 100000] [--seed 1]

Without DATABASE_URL a fresh SQLite file under /tmp/kefu-bench is used (deleted first); with
DATABASE_URL the customers are added to that database.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import DEFAULT_SQLITE_DIR, setup, table


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        for suffix in ("", "-wal", "-shm"):
            (DEFAULT_SQLITE_DIR / f"seed.sqlite3{suffix}").unlink(missing_ok=True)
    database = setup("seed.sqlite3")

    from kefu.customers.models import Contact, Customer
    from kefu.demo import seed_bulk

    before = Customer.objects.count(), Contact.objects.count()
    started = time.perf_counter()
    seed_bulk(customers=args.customers, seed=args.seed, progress=sys.stderr.isatty())
    elapsed = time.perf_counter() - started
    customers = Customer.objects.count() - before[0]
    contacts = Contact.objects.count() - before[1]
    print(database)
    print(
        table(
            ["customers", "contacts", "seconds", "customers/s"],
            [[customers, contacts, f"{elapsed:.1f}", f"{customers / elapsed:,.0f}"]],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
