"""Shared start-up for the benchmark scripts: a database (DATABASE_URL, or a throw-away SQLite file),
Django, migrations, and a small table printer."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_DIR = Path("/tmp/kefu-bench")  # noqa: S108 - a scratch database, nothing secret


def setup(sqlite_name: str) -> str:
    """Configure and start Django; return a one-line description of the database in use."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    if not os.environ.get("DATABASE_URL"):
        DEFAULT_SQLITE_DIR.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{DEFAULT_SQLITE_DIR / sqlite_name}"
    os.environ.setdefault("KEFU_DATA_DIR", str(DEFAULT_SQLITE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from django.db import connection

    if connection.vendor == "sqlite":
        engine = f"SQLite {sqlite3.sqlite_version} ({connection.settings_dict['NAME']})"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            engine = f"PostgreSQL {cursor.fetchone()[0]} (database {connection.settings_dict['NAME']})"
    return f"{engine}; Python {platform.python_version()}; {os.cpu_count()} CPUs"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (pastes straight into docs/performance.md)."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
