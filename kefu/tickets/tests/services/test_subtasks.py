from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from kefu.accounts.models import User
from kefu.core.errors import Conflict, ValidationFailed
from kefu.core.models import AuditEvent, Notification
from kefu.tickets.enums import Department, SubtaskStatus
from kefu.tickets.models import Subtask, Ticket
from kefu.tickets.services.lifecycle import ticket_resolve
from kefu.tickets.services.work_orders import (
    subtask_create,
    subtask_progress,
    subtask_set_status,
    subtask_update,
)
from kefu.tickets.tests.factories import closed_ticket, new_ticket

pytestmark = pytest.mark.django_db


def _handoff(**overrides: Any) -> dict[str, Any]:
    return {
        "department": Department.WAREHOUSE,
        "title": "核实外箱破损",
        "deadline": timezone.now() + dt.timedelta(hours=4),
        "problem_description": "客户反映外箱破损，内物受潮",
        "support_needed": "请仓库提供出库照片",
        **overrides,
    }


def _subtask(actor: User, ticket: Ticket, **overrides: Any) -> Subtask:
    return subtask_create(actor=actor, ticket=ticket, **_handoff(**overrides))


def test_create_records_handoff_and_bumps_parent(agent: User, colleague: User) -> None:
    ticket = new_ticket(actor=agent)

    subtask = _subtask(agent, ticket, assignee=colleague, current_progress=" 已致电客户 ")

    assert (subtask.ticket, subtask.assignee, subtask.created_by) == (ticket, colleague, agent)
    assert (subtask.status, subtask.mandatory, subtask.current_progress) == ("open", True, "已致电客户")
    ticket.refresh_from_db()
    assert ticket.version == 2
    assert AuditEvent.objects.filter(content_type__model="subtask", object_id=str(subtask.pk)).count() == 1


def test_the_new_owner_of_a_work_order_is_notified_once(agent: User, colleague: User, lead: User) -> None:
    # given a work order the agent assigns to a colleague, then to the lead, then to themselves
    ticket = new_ticket(actor=agent)
    subtask = _subtask(agent, ticket, assignee=colleague)
    handed = subtask_update(actor=agent, subtask=subtask, version=1, assignee=lead)
    subtask_update(actor=agent, subtask=handed, version=2, title="核实外箱破损（加急）")
    subtask_update(actor=agent, subtask=handed, version=3, assignee=agent)

    # then each new owner but the agent heard of it, once, with a link to the ticket
    notices = list(Notification.objects.order_by("pk").values_list("user__username", "kind", "url"))
    assert notices == [
        ("wangfang", "work_order", f"/tickets/{ticket.number}/"),
        ("zuzhang", "work_order", f"/tickets/{ticket.number}/"),
    ]
    assert "核实外箱破损" in Notification.objects.get(user=colleague).title
    assert ticket.number in Notification.objects.get(user=colleague).title


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"problem_description": " "}, {"problem_description"}),
        ({"support_needed": ""}, {"support_needed"}),
        ({"title": ""}, {"title"}),
        ({"department": "marketing"}, {"department"}),
        ({"department": Department.TRANSPORT}, {"carrier_contact", "tracking_evidence"}),
        ({"department": Department.CARRIER, "carrier_contact": "顺丰 张师傅"}, {"tracking_evidence"}),
        ({"deadline": timezone.now() - dt.timedelta(minutes=1)}, {"deadline"}),
        ({"deadline": dt.datetime(2030, 1, 1)}, {"deadline"}),  # noqa: DTZ001 - naive on purpose
    ],
)
def test_incomplete_handoff_is_refused(agent: User, overrides: dict[str, Any], fields: set[str]) -> None:
    ticket = new_ticket(actor=agent)
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationFailed) as exc:
        _subtask(agent, ticket, **overrides)

    assert set(exc.value.fields) == fields
    assert Subtask.objects.count() == 0
    assert AuditEvent.objects.count() == events
    ticket.refresh_from_db()
    assert ticket.version == 1


def test_carrier_handoff_with_contact_and_evidence(agent: User) -> None:
    subtask = _subtask(
        agent,
        new_ticket(actor=agent),
        department=Department.CARRIER,
        carrier_contact="顺丰 张师傅 13800000000",
        tracking_evidence="3 月 2 日 14:00 后无轨迹",
        external_party="顺丰华东区",
    )

    assert subtask.department == Department.CARRIER


def test_closed_ticket_gets_no_subtasks(agent: User) -> None:
    ticket = closed_ticket(actor=agent)

    with pytest.raises(ValidationFailed) as exc:
        _subtask(agent, ticket)

    assert "ticket" in exc.value.fields
    assert Subtask.objects.count() == 0


def test_update_with_version(agent: User, colleague: User) -> None:
    subtask = _subtask(agent, new_ticket(actor=agent))

    updated = subtask_update(actor=agent, subtask=subtask, version=1, current_progress="仓库已回电")

    assert (updated.version, updated.current_progress) == (2, "仓库已回电")
    event = AuditEvent.objects.filter(content_type__model="subtask").latest("id")
    assert event.changes == {"current_progress": ["", "仓库已回电"]}


def test_stale_update_is_a_conflict(agent: User, colleague: User) -> None:
    subtask = _subtask(agent, new_ticket(actor=agent))
    subtask_update(actor=colleague, subtask=subtask, version=1, support_needed="请补拍照片")
    events = AuditEvent.objects.count()

    with pytest.raises(Conflict) as exc:
        subtask_update(actor=agent, subtask=subtask, version=1, title="新标题")

    assert "support_needed" in exc.value.message
    subtask.refresh_from_db()
    assert (subtask.title, subtask.version) == ("核实外箱破损", 2)
    assert AuditEvent.objects.count() == events


def test_update_revalidates_the_handoff(agent: User) -> None:
    subtask = _subtask(agent, new_ticket(actor=agent))

    with pytest.raises(ValidationFailed) as exc:
        subtask_update(actor=agent, subtask=subtask, version=1, department=Department.TRANSPORT)
    with pytest.raises(ValidationFailed):
        subtask_update(actor=agent, subtask=subtask, version=1, status="done")

    assert set(exc.value.fields) == {"carrier_contact", "tracking_evidence"}
    subtask.refresh_from_db()
    assert (subtask.department, subtask.version) == (Department.WAREHOUSE, 1)


def test_done_sets_completed_at_and_unblocks_resolve(agent: User) -> None:
    ticket = new_ticket(actor=agent)
    subtask = _subtask(agent, ticket)
    with pytest.raises(ValidationFailed):
        ticket_resolve(actor=agent, ticket=ticket, solution_summary="已赔付")

    done = subtask_set_status(actor=agent, subtask=subtask, status=SubtaskStatus.DONE)

    assert done.completed_at is not None
    resolved = ticket_resolve(actor=agent, ticket=ticket, solution_summary="已赔付")
    assert resolved.status_category == "resolved"
    reopened = subtask_set_status(actor=agent, subtask=subtask, status=SubtaskStatus.IN_PROGRESS)
    assert reopened.completed_at is None


def test_bad_status_is_refused(agent: User) -> None:
    subtask = _subtask(agent, new_ticket(actor=agent))

    with pytest.raises(ValidationFailed):
        subtask_set_status(actor=agent, subtask=subtask, status="finished")

    subtask.refresh_from_db()
    assert (subtask.status, subtask.version) == ("open", 1)


def test_progress_excludes_cancelled(agent: User) -> None:
    ticket = new_ticket(actor=agent)
    first, second, third = (_subtask(agent, ticket, title=f"协作 {n}") for n in range(3))
    subtask_set_status(actor=agent, subtask=first, status=SubtaskStatus.DONE)
    subtask_set_status(actor=agent, subtask=second, status=SubtaskStatus.CANCELLED)

    assert subtask_progress(ticket) == (1, 2)
    assert third.status == SubtaskStatus.OPEN
