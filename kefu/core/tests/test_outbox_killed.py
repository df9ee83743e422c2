"""A `kefu worker` killed with SIGKILL while a webhook is in flight: real worker processes on the test's
database (a migrated SQLite file, or the PostgreSQL test database) and a real HTTP receiver that holds
one request. Another worker takes over once the lease expires; the receiver, deduplicating by
``Idempotency-Key``, acts on every committed change exactly once and on the rolled-back one never."""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from kefu.core.tests.processes import Database, stop, subprocess_database, wait_for
from kefu.core.tests.sink import Sink, running_sink

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CHANGES = 20
HOLD_AT = 5


@pytest.fixture
def sink() -> Iterator[Sink]:
    with running_sink() as running:
        yield running


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    with subprocess_database(tmp_path, KEFU_TASK_LEASE_SECONDS="1.5") as db:
        yield db


def make_changes(database: Database, sink: Sink) -> None:
    """CHANGES committed tier changes (each its own transaction and webhook), and one rolled back."""
    database.django(
        f"""
        from django.db import transaction
        from kefu.accounts.enums import Role
        from kefu.accounts.services import user_create
        from kefu.core.actors import SYSTEM
        from kefu.customers.services import customer_create, customer_update
        lead = user_create(actor=SYSTEM, username="lead", password="x-Passw0rd-long", role=Role.LEAD)
        customer = customer_create(actor=lead, name="顺达物流")
        for i in range({CHANGES}):
            customer = customer_update(actor=lead, customer=customer, tier="vip" if i % 2 == 0 else "standard")
        try:
            with transaction.atomic():
                customer_update(actor=lead, customer=customer, tier="core")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        """,
        KEFU_WEBHOOK_URLS=sink.url,
    )


def outbox(database: Database, status: str) -> int:
    return int(database.row("SELECT COUNT(*) AS n FROM core_outboxmessage WHERE status = %s", status)["n"])


def test_a_delivery_in_flight_when_its_worker_is_killed_arrives_once(database, sink):
    make_changes(database, sink)
    assert outbox(database, "pending") == CHANGES
    sink.hold_at = HOLD_AT

    first = database.worker()
    try:
        assert sink.held.wait(timeout=60), "the worker never reached the held delivery"
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    sink.release.set()
    in_flight = sink.received[HOLD_AT - 1]
    assert outbox(database, "delivered") == HOLD_AT - 1
    assert (
        database.row("SELECT status FROM core_outboxmessage WHERE key = %s", in_flight)["status"] == "pending"
    )

    second = database.worker()
    try:
        wait_for(lambda: outbox(database, "delivered") == CHANGES, timeout=120, what="every delivery")
    finally:
        stop(second)

    sent = Counter(sink.received)
    print(  # noqa: T201 - the figures the report quotes (pytest -s)
        f"\n[{database.env['DATABASE_URL'].split(':')[0]}] committed {CHANGES}, rolled back 1; "
        f"requests received {len(sink.received)}, distinct keys {len(sent)}, applied {len(sink.applied)}, "
        f"sent twice {sorted(k for k, n in sent.items() if n > 1) == [in_flight]}"
    )
    assert len(sink.applied) == CHANGES  # each committed change acted on exactly once, by key
    assert sent[in_flight] == 2
    assert all(n == 1 for key, n in sent.items() if key != in_flight)
    tiers = [event["data"]["new_tier"] for event in sink.applied.values()]
    assert "core" not in tiers  # the rolled-back change never left
    assert sorted(tiers) == sorted(["vip", "standard"] * (CHANGES // 2))
    assert outbox(database, "pending") == outbox(database, "failed") == 0
    assert database.scalar("SELECT COUNT(*) FROM core_tasklease") == 0
