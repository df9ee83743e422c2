from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from kefu.accounts.models import User
from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditEvent
from kefu.tickets.enums import CloseReason, LinkKind, StatusCategory
from kefu.tickets.models import Subtask, Ticket, TicketLink
from kefu.tickets.services.lifecycle import ticket_close, ticket_resolve, ticket_transition
from kefu.tickets.services.reopening import ticket_reopen
from kefu.tickets.tests.factories import closed_ticket, new_ticket, resolved_ticket, status

pytestmark = pytest.mark.django_db


def _unchanged(ticket: Ticket, events: int) -> Ticket:
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.version == ticket.version
    assert fresh.status_category == ticket.status_category
    assert AuditEvent.objects.count() == events
    return fresh


@pytest.mark.parametrize(
    ("start", "target"),
    [
        # resolved and closed are reached only through resolve / close
        (StatusCategory.NEW, StatusCategory.RESOLVED),
        (StatusCategory.OPEN, StatusCategory.CLOSED),
        (StatusCategory.NEW, StatusCategory.NEW),
    ],
)
def test_invalid_transition_is_refused(agent: User, start: str, target: str) -> None:
    ticket = new_ticket(actor=agent)
    if start == StatusCategory.OPEN:
        ticket = ticket_transition(actor=agent, ticket=ticket, status=status(StatusCategory.OPEN))
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationFailed) as exc:
        ticket_transition(actor=agent, ticket=ticket, status=status(target))

    assert list(exc.value.fields) == ["status"]
    assert exc.value.message
    _unchanged(ticket, events)


@pytest.mark.parametrize("finished", [resolved_ticket, closed_ticket])
def test_transition_out_of_resolved_or_closed_needs_reopen(agent: User, finished: object) -> None:
    ticket = finished(actor=agent)  # type: ignore[operator]
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationFailed, match="重新打开"):
        ticket_transition(actor=agent, ticket=ticket, status=status(StatusCategory.PENDING))

    _unchanged(ticket, events)


def test_open_to_pending_to_open(agent: User) -> None:
    ticket = new_ticket(actor=agent)

    ticket = ticket_transition(actor=agent, ticket=ticket, status=status(StatusCategory.PENDING))
    assert ticket.status_category == StatusCategory.PENDING
    ticket = ticket_transition(actor=agent, ticket=ticket, status=status(StatusCategory.OPEN))

    assert (ticket.status_category, ticket.version) == (StatusCategory.OPEN, 3)
    changes = AuditEvent.objects.filter(object_id=str(ticket.pk)).latest("id").changes
    assert changes["status_category"] == ["pending", "open"]


def test_resolve_needs_a_solution_summary(agent: User) -> None:
    ticket = new_ticket(actor=agent)
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationFailed) as exc:
        ticket_resolve(actor=agent, ticket=ticket, solution_summary="   ")

    assert list(exc.value.fields) == ["solution_summary"]
    _unchanged(ticket, events)


def test_resolve_is_blocked_by_an_open_mandatory_subtask(agent: User) -> None:
    ticket = new_ticket(actor=agent)
    Subtask.objects.create(
        ticket=ticket,
        department="warehouse",
        title="仓库核实破损",
        deadline=timezone.now() + dt.timedelta(days=1),
        problem_description="外箱破损",
        support_needed="拍照",
    )
    Subtask.objects.create(
        ticket=ticket,
        department="finance",
        title="可选：预估赔付",
        mandatory=False,
        deadline=timezone.now() + dt.timedelta(days=1),
        problem_description="-",
        support_needed="-",
    )
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationFailed) as exc:
        ticket_resolve(actor=agent, ticket=ticket, solution_summary="已赔付")

    assert exc.value.fields == {"subtasks": ["还有必须完成的协作单未完成：仓库核实破损"]}
    _unchanged(ticket, events)


def test_resolve_records_summary_and_time(agent: User) -> None:
    ticket = ticket_resolve(actor=agent, ticket=new_ticket(actor=agent), solution_summary=" 已补发 ")

    assert (ticket.status_category, ticket.solution_summary) == (StatusCategory.RESOLVED, "已补发")
    assert ticket.resolved_at is not None


def test_close_requires_resolved(agent: User) -> None:
    ticket = new_ticket(actor=agent)
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationFailed):
        ticket_close(actor=agent, ticket=ticket, satisfaction_confirmed=True)

    _unchanged(ticket, events)


@pytest.mark.parametrize(
    ("reason", "note", "field"),
    [
        (CloseReason.CONFIRMED, "打了三次电话", "reason"),
        ("bored", "打了三次电话", "reason"),
        (CloseReason.UNREACHABLE, "  ", "note"),
    ],
)
def test_close_without_confirmation_needs_reason_and_note(
    agent: User, reason: str, note: str, field: str
) -> None:
    ticket = resolved_ticket(actor=agent)
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationFailed) as exc:
        ticket_close(actor=agent, ticket=ticket, satisfaction_confirmed=False, reason=reason, note=note)

    assert list(exc.value.fields) == [field]
    _unchanged(ticket, events)


def test_close_unconfirmed_with_reason_and_note(agent: User) -> None:
    ticket = ticket_close(
        actor=agent,
        ticket=resolved_ticket(actor=agent),
        satisfaction_confirmed=False,
        reason=CloseReason.UNREACHABLE,
        note="3 月 1 日、2 日、3 日各致电一次未接",
    )

    assert ticket.status_category == StatusCategory.CLOSED
    assert (ticket.satisfaction_confirmed, ticket.close_reason) == (False, CloseReason.UNREACHABLE)
    assert ticket.closed_at is not None


def test_close_confirmed(agent: User) -> None:
    ticket = closed_ticket(actor=agent)

    assert (ticket.satisfaction_confirmed, ticket.close_reason) == (True, CloseReason.CONFIRMED)


def test_reopen_from_resolved(agent: User) -> None:
    ticket = ticket_reopen(actor=agent, ticket=resolved_ticket(actor=agent), reason="客户说还没收到")

    assert ticket.status_category == StatusCategory.OPEN
    assert (ticket.reopened_count, ticket.resolved_at) == (1, None)
    note = ticket.messages.get()
    assert (note.visibility, note.body_text) == ("internal", "客户说还没收到")


def test_reopen_closed_within_window(agent: User) -> None:
    ticket = closed_ticket(actor=agent)
    Ticket.objects.filter(pk=ticket.pk).update(closed_at=timezone.now() - dt.timedelta(days=6, hours=23))

    reopened = ticket_reopen(actor=agent, ticket=ticket, reason="")

    assert reopened.pk == ticket.pk
    assert (reopened.status_category, reopened.closed_at) == (StatusCategory.OPEN, None)
    assert Ticket.objects.count() == 1


def test_reopen_closed_after_window_opens_a_linked_follow_up(agent: User) -> None:
    ticket = closed_ticket(actor=agent, waybills=["SF001001"])
    Ticket.objects.filter(pk=ticket.pk).update(closed_at=timezone.now() - dt.timedelta(days=8))

    follow_up = ticket_reopen(actor=agent, ticket=ticket, reason="又丢了一件")

    assert follow_up.pk != ticket.pk
    assert (follow_up.subject, follow_up.description) == (ticket.subject, "又丢了一件")
    assert list(follow_up.waybills.values_list("waybill_no", flat=True)) == ["SF001001"]
    assert TicketLink.objects.filter(source=follow_up, target=ticket, kind=LinkKind.FOLLOW_UP).exists()
    ticket.refresh_from_db()
    assert (ticket.status_category, ticket.reopened_count) == (StatusCategory.CLOSED, 0)


def test_reopen_window_is_configurable(agent: User, settings: Any) -> None:
    settings.KEFU_REOPEN_WINDOW_DAYS = 30
    ticket = closed_ticket(actor=agent)
    Ticket.objects.filter(pk=ticket.pk).update(closed_at=timezone.now() - dt.timedelta(days=8))

    assert ticket_reopen(actor=agent, ticket=ticket, reason="").pk == ticket.pk


def test_reopen_of_an_open_ticket_is_refused(agent: User) -> None:
    ticket = new_ticket(actor=agent)
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationFailed) as exc:
        ticket_reopen(actor=agent, ticket=ticket, reason="x")

    assert list(exc.value.fields) == ["status"]
    _unchanged(ticket, events)
    assert ticket.messages.count() == 0
