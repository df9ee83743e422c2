"""Idempotency-Key on POST /api/v1/tickets, and the mechanism (kefu.core.idempotency) underneath."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import UserFactory
from kefu.core.errors import ValidationFailed
from kefu.core.idempotency import run_idempotent
from kefu.core.models import IdempotencyKey
from kefu.tickets.models import Ticket
from kefu.tickets.tests.factories import new_ticket

BODY = {"subject": "货物延误", "type": "complaint", "waybills": ["SF001001"]}
KEY = {"Idempotency-Key": "order-7781-create"}


@pytest.fixture
def agent(db: None) -> Any:
    return UserFactory(role=Role.AGENT)


def test_a_retry_returns_the_first_response_and_creates_one_ticket(api_as, agent):
    client = api_as(agent)

    first = client.post("/tickets", BODY, headers=KEY)
    retry = client.post("/tickets", BODY, headers=KEY)

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert Ticket.objects.count() == 1
    row = IdempotencyKey.objects.get()
    assert (row.user, row.scope, row.key, row.response_status) == (
        agent,
        "tickets.create",
        KEY["Idempotency-Key"],
        201,
    )


def test_a_retry_with_reordered_keys_is_the_same_request(api_as, agent):
    client = api_as(agent)

    first = client.post("/tickets", BODY, headers=KEY)
    retry = client.post("/tickets", dict(reversed(list(BODY.items()))), headers=KEY)

    assert retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert Ticket.objects.count() == 1


def test_the_same_key_with_a_different_body_is_422(api_as, agent):
    client = api_as(agent)
    client.post("/tickets", BODY, headers=KEY)

    response = client.post("/tickets", {**BODY, "subject": "货物破损"}, headers=KEY)

    assert response.status_code == 422
    assert response.json()["fields"] == {"idempotency_key": ["该幂等键已用于另一个不同的请求"]}
    assert list(Ticket.objects.values_list("subject", flat=True)) == ["货物延误"]


def test_another_users_equal_key_is_independent(api_as, agent):
    other = UserFactory(role=Role.AGENT)

    mine = api_as(agent).post("/tickets", BODY, headers=KEY)
    theirs = api_as(other).post("/tickets", BODY, headers=KEY)

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert Ticket.objects.count() == 2


def test_without_a_key_every_request_creates(api_as, agent):
    client = api_as(agent)

    client.post("/tickets", BODY)
    client.post("/tickets", BODY)

    assert Ticket.objects.count() == 2
    assert IdempotencyKey.objects.count() == 0


def test_a_failed_request_does_not_use_up_the_key(api_as, agent):
    # given a first attempt refused for bad input: nothing was done, so nothing is remembered
    client = api_as(agent)
    refused = client.post("/tickets", {**BODY, "category": "delay"}, headers=KEY)

    # when the client fixes the body and sends it again with the same key
    fixed = client.post("/tickets", BODY, headers=KEY)

    # then the corrected request runs
    assert refused.status_code == 422
    assert fixed.status_code == 201
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("key", ["x" * 256])
def test_an_overlong_key_is_422(api_as, agent, key):
    response = api_as(agent).post("/tickets", BODY, headers={"Idempotency-Key": key})

    assert response.status_code == 422
    assert Ticket.objects.count() == 0


def test_a_denied_request_with_a_key_stores_nothing(api_as, db):
    qa = UserFactory(role=Role.QA)

    response = api_as(qa).post("/tickets", BODY, headers=KEY)

    assert response.status_code == 403
    assert IdempotencyKey.objects.count() == 0
    assert Ticket.objects.count() == 0


# --- the mechanism --------------------------------------------------------------------------------


def test_mechanism_runs_once_per_user_scope_and_key(agent):
    calls: list[int] = []

    def action() -> dict[str, Any]:
        calls.append(1)
        return {"n": len(calls)}

    first = run_idempotent(user=agent, scope="a", key="k", request={"x": 1}, status=201, action=action)
    again = run_idempotent(user=agent, scope="a", key="k", request={"x": 1}, status=201, action=action)
    other_scope = run_idempotent(user=agent, scope="b", key="k", request={"x": 1}, status=201, action=action)

    assert (first.body, first.replayed) == ({"n": 1}, False)
    assert (again.body, again.replayed, again.status) == ({"n": 1}, True, 201)
    assert other_scope.body == {"n": 2}


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_mechanism_refuses_blank_or_overlong_keys(agent, key):
    with pytest.raises(ValidationFailed) as exc:
        run_idempotent(user=agent, scope="a", key=key, request={}, status=201, action=dict)

    assert set(exc.value.fields) == {"idempotency_key"}


def test_mechanism_stores_json_with_datetimes_as_the_api_renders_them(agent):
    ticket = new_ticket(actor=agent)

    outcome = run_idempotent(
        user=agent, scope="a", key="k", request={}, status=201, action=lambda: {"at": ticket.created_at}
    )

    stored = IdempotencyKey.objects.get().response_body
    assert stored == outcome.body
    assert isinstance(stored["at"], str)


# SQLite's in-memory test database is private to one connection: the race needs a real server. Decided
# at collection, so a skipped run never flushes the database; serialized_rollback restores the seeded
# statuses and role groups the flush removes, for the tests that follow.
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="needs PostgreSQL: two connections to one test database",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_retries_create_one_ticket():
    agent = UserFactory(role=Role.AGENT)
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []
    errors: list[BaseException] = []

    def create() -> dict[str, Any]:
        time.sleep(0.2)  # hold the key row's lock while the other request arrives
        ticket = new_ticket(actor=agent, subject="并发重试")
        return {"id": ticket.public_id}

    def attempt() -> None:
        try:
            barrier.wait()
            outcomes.append(
                run_idempotent(
                    user=agent, scope="tickets.create", key="race", request=BODY, status=201, action=create
                )
            )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Ticket.objects.filter(subject="并发重试").count() == 1
    assert sorted(o.replayed for o in outcomes) == [False, True]
    assert outcomes[0].body == outcomes[1].body
