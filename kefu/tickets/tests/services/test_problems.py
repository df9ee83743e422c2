from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from kefu.accounts.models import User
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.tickets.enums import Department, StatusCategory
from kefu.tickets.models import Message, Ticket
from kefu.tickets.services.incidents import incident_link, incidents_link_by_waybill
from kefu.tickets.services.problems import problem_mark, problem_post_update, problem_resolve
from kefu.tickets.services.work_orders import subtask_create
from kefu.tickets.tests.factories import closed_ticket, new_ticket, resolved_ticket

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[int, int, list[tuple[Any, ...]]]:
    rows = list(
        Ticket.objects.order_by("pk").values_list(
            "pk", "version", "is_problem", "problem_id", "status_category"
        )
    )
    return Message.objects.count(), AuditEvent.objects.count(), rows


@pytest.fixture
def problem(lead: User) -> Ticket:
    return problem_mark(actor=lead, ticket=new_ticket(actor=lead, subject="华东分拨中心系统故障"))


def test_mark_needs_the_permission(agent: User) -> None:
    ticket = new_ticket(actor=agent)
    before = _snapshot()

    with pytest.raises(PermissionDenied):
        problem_mark(actor=agent, ticket=ticket)

    assert _snapshot() == before


def test_mark(lead: User, problem: Ticket) -> None:
    assert problem.is_problem
    assert problem.version == 2


def test_link_incidents_by_hand_and_by_queryset(lead: User, problem: Ticket) -> None:
    first, second = new_ticket(actor=lead), new_ticket(actor=lead, subject="批量")

    linked = incident_link(actor=lead, problem=problem, incidents=[first])
    bulk = incident_link(
        actor=lead,
        problem=problem,
        incidents=Ticket.objects.filter(subject="批量") | Ticket.objects.filter(pk=first.pk),
    )

    assert [t.pk for t in linked] == [first.pk]
    assert [t.pk for t in bulk] == [second.pk]  # already linked ones are skipped
    assert sorted(problem.incidents.values_list("pk", flat=True)) == [first.pk, second.pk]


def test_linking_problem_to_itself_or_a_problem_is_refused(lead: User, problem: Ticket) -> None:
    other_problem = problem_mark(actor=lead, ticket=new_ticket(actor=lead))
    plain, another = new_ticket(actor=lead), new_ticket(actor=lead)
    before = _snapshot()

    with pytest.raises(ValidationFailed, match="自己"):
        incident_link(actor=lead, problem=problem, incidents=[plain, problem])
    with pytest.raises(ValidationFailed, match="是问题工单"):
        incident_link(actor=lead, problem=problem, incidents=[plain, other_problem])
    with pytest.raises(ValidationFailed, match="不是问题工单"):
        incident_link(actor=lead, problem=plain, incidents=[another])

    assert _snapshot() == before


def test_incident_of_another_problem_is_refused(lead: User, problem: Ticket) -> None:
    other_problem = problem_mark(actor=lead, ticket=new_ticket(actor=lead))
    incident = new_ticket(actor=lead)
    incident_link(actor=lead, problem=other_problem, incidents=[incident])
    before = _snapshot()

    with pytest.raises(ValidationFailed, match="其他问题工单"):
        incident_link(actor=lead, problem=problem, incidents=[incident])

    assert _snapshot() == before


def test_agent_cannot_link(agent: User, lead: User, problem: Ticket) -> None:
    with pytest.raises(PermissionDenied):
        incident_link(actor=agent, problem=problem, incidents=[new_ticket(actor=agent)])

    assert problem.incidents.count() == 0


def test_link_by_waybill(lead: User, problem: Ticket) -> None:
    hit = new_ticket(actor=lead, waybills=["SF000100"])
    also = new_ticket(actor=lead, waybills=["SF000200", "SF000100"])
    new_ticket(actor=lead, waybills=["SF000300"])
    closed_ticket(actor=lead, waybills=["SF000100"])

    linked = incidents_link_by_waybill(actor=lead, problem=problem, waybill_nos=["sf000100", "SF000200"])

    assert sorted(t.pk for t in linked) == [hit.pk, also.pk]


def test_post_update_replies_once_on_every_open_incident(lead: User, problem: Ticket) -> None:
    open_one, open_two, done = new_ticket(actor=lead), new_ticket(actor=lead), resolved_ticket(actor=lead)
    incident_link(actor=lead, problem=problem, incidents=[open_one, open_two, done])

    messages = problem_post_update(
        actor=lead, problem=problem, body="系统已恢复，货物今日发出", update_id="u-1"
    )
    retried = problem_post_update(
        actor=lead, problem=problem, body="系统已恢复，货物今日发出", update_id="u-1"
    )

    assert sorted(m.ticket_id for m in messages) == [open_one.pk, open_two.pk]
    assert {(m.author, m.visibility, m.body_text) for m in messages} == {
        (lead, "public", "系统已恢复，货物今日发出")
    }
    assert retried == []
    assert Message.objects.count() == 2
    assert done.messages.count() == 0
    assert len(problem_post_update(actor=lead, problem=problem, body="二次通报", update_id="u-2")) == 2


def test_post_update_needs_body_and_permission(agent: User, lead: User, problem: Ticket) -> None:
    incident_link(actor=lead, problem=problem, incidents=[new_ticket(actor=lead)])
    before = _snapshot()

    with pytest.raises(ValidationFailed):
        problem_post_update(actor=lead, problem=problem, body="  ", update_id="u-1")
    with pytest.raises(PermissionDenied):
        problem_post_update(actor=agent, problem=problem, body="通报", update_id="u-1")

    assert _snapshot() == before


def test_resolve_problem_resolves_open_incidents_and_reports_blocked(lead: User, problem: Ticket) -> None:
    free, blocked = new_ticket(actor=lead), new_ticket(actor=lead)
    incident_link(actor=lead, problem=problem, incidents=[free, blocked])
    subtask_create(
        actor=lead,
        ticket=blocked,
        department=Department.FINANCE,
        title="赔付审批",
        deadline=timezone.now() + dt.timedelta(days=1),
        problem_description="需赔付",
        support_needed="审批",
    )

    result = problem_resolve(actor=lead, problem=problem, solution_summary="系统已修复")

    assert result.problem.status_category == StatusCategory.RESOLVED
    assert [t.pk for t in result.resolved] == [free.pk]
    assert [t.pk for t in result.skipped] == [blocked.pk]
    free.refresh_from_db()
    blocked.refresh_from_db()
    assert (free.status_category, free.solution_summary) == (StatusCategory.RESOLVED, "系统已修复")
    assert blocked.status_category == StatusCategory.NEW


def test_resolve_problem_only(lead: User, problem: Ticket) -> None:
    incident = new_ticket(actor=lead)
    incident_link(actor=lead, problem=problem, incidents=[incident])

    result = problem_resolve(
        actor=lead, problem=problem, solution_summary="系统已修复", resolve_incidents=False
    )

    assert (result.resolved, result.skipped) == ([], [])
    incident.refresh_from_db()
    assert incident.status_category == StatusCategory.NEW


def test_resolve_problem_needs_summary(lead: User, problem: Ticket) -> None:
    incident = new_ticket(actor=lead)
    incident_link(actor=lead, problem=problem, incidents=[incident])
    before = _snapshot()

    with pytest.raises(ValidationFailed):
        problem_resolve(actor=lead, problem=problem, solution_summary="")

    assert _snapshot() == before
