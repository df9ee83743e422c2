"""Idempotency keys expire (KEFU_IDEMPOTENCY_KEY_TTL_HOURS) and the worker's maintenance task prunes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kefu import cli
from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import UserFactory
from kefu.core import tasks
from kefu.core.idempotency import prune_expired, run_idempotent
from kefu.core.models import IdempotencyKey

pytestmark = pytest.mark.django_db
BODY = {"subject": "货物延误", "type": "complaint", "waybills": ["SF001001"]}
KEY = {"Idempotency-Key": "order-7781-create"}


@pytest.fixture
def agent() -> Any:
    return UserFactory(role=Role.AGENT)


def _age(hours: float) -> None:
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=hours))


def test_a_key_replays_within_the_ttl(api_as: Any, agent: Any) -> None:
    client = api_as(agent)
    first = client.post("/tickets", BODY, headers=KEY)
    _age(23.9)

    retry = client.post("/tickets", BODY, headers=KEY)

    assert retry.content == first.content


def test_an_expired_key_no_longer_replays(api_as: Any, agent: Any) -> None:
    client = api_as(agent)
    first = client.post("/tickets", BODY, headers=KEY)
    _age(24.1)

    again = client.post("/tickets", {**BODY, "subject": "另一个请求"}, headers=KEY)  # no 422 either

    assert again.status_code == 201, again.content
    assert again.json()["number"] != first.json()["number"]
    row = IdempotencyKey.objects.get()  # the expired row was replaced by the new request's
    assert row.response_body == again.json()
    assert row.created_at > timezone.now() - dt.timedelta(minutes=1)


def test_the_ttl_is_a_setting(agent: Any, settings: Any) -> None:
    settings.KEFU_IDEMPOTENCY_KEY_TTL_HOURS = 1
    calls: list[int] = []

    def run() -> Any:
        calls.append(1)
        return {"n": len(calls)}

    def call() -> Any:
        return run_idempotent(user=agent, scope="t", key="k", request={}, status=200, action=run)

    call()
    _age(0.5)
    assert call().replayed
    _age(1.5)
    assert not call().replayed
    assert len(calls) == 2


def test_prune_deletes_only_expired_keys(agent: Any) -> None:
    now = timezone.now()
    for n, hours in enumerate((1, 23, 25, 100)):
        IdempotencyKey.objects.create(
            user=agent, scope="s", key=f"k{n}", request_hash="h", created_at=now - dt.timedelta(hours=hours)
        )

    assert prune_expired(batch=1) == 2

    assert sorted(IdempotencyKey.objects.values_list("key", flat=True)) == ["k0", "k1"]


def _waiting() -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(
            task_path=tasks.run_maintenance.module_path, status=TaskResultStatus.READY
        )
    )


def test_maintenance_prunes_and_schedules_its_next_run_once(agent: Any) -> None:
    IdempotencyKey.objects.create(
        user=agent, scope="s", key="old", request_hash="h", created_at=timezone.now() - dt.timedelta(days=2)
    )

    assert tasks.schedule_maintenance()
    assert not tasks.schedule_maintenance()  # one run waiting is enough (several workers starting)
    result = tasks.run_maintenance.call()

    assert result == {"idempotency_keys_pruned": 1, "reply_drafts_pruned": 0}
    assert not IdempotencyKey.objects.exists()
    assert len(_waiting()) == 1  # the run enqueued at start-up is still waiting: no second chain


def test_a_run_schedules_the_next_one_an_interval_later() -> None:
    tasks.run_maintenance.call()

    (waiting,) = _waiting()
    assert waiting.run_after > timezone.now() + tasks.MAINTENANCE_INTERVAL - dt.timedelta(minutes=1)


def test_kefu_worker_schedules_maintenance(monkeypatch: Any) -> None:
    started: list[dict[str, Any]] = []
    monkeypatch.setattr("kefu.core.worker.run_worker", lambda **kw: started.append(kw))

    assert cli.main(["worker"]) == 0

    assert len(_waiting()) == 1
    assert started == [{"interval": 1.0}]


def test_kefu_prune(agent: Any, capsys: Any) -> None:
    IdempotencyKey.objects.create(
        user=agent, scope="s", key="old", request_hash="h", created_at=timezone.now() - dt.timedelta(days=2)
    )

    assert cli.main(["prune"]) == 0

    assert "1 expired idempotency keys deleted" in capsys.readouterr().out
    assert not IdempotencyKey.objects.exists()
