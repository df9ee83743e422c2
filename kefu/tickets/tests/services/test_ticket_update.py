from __future__ import annotations

from collections.abc import Callable

import pytest

from kefu.accounts.enums import Role
from kefu.accounts.models import User
from kefu.core.errors import Conflict, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.tests.factories import new_contact, new_customer
from kefu.tickets.enums import Priority
from kefu.tickets.models import Status, Ticket
from kefu.tickets.services.edit import ticket_assign, ticket_update
from kefu.tickets.services.lifecycle import ticket_transition
from kefu.tickets.tests.factories import LOGISTICS_FIELDS, category, closed_ticket, new_message, new_ticket

pytestmark = pytest.mark.django_db


def _tags(ticket: Ticket) -> list[str]:
    return sorted(ticket.tags.values_list("name", flat=True))


def test_update_bumps_version_and_audits_old_and_new(agent: User) -> None:
    ticket = new_ticket(actor=agent)

    updated = ticket_update(
        actor=agent, ticket=ticket, version=1, changes={"priority": Priority.URGENT, "subject": " 催件 "}
    )

    assert (updated.version, updated.priority, updated.subject) == (2, Priority.URGENT, "催件")
    event = AuditEvent.objects.filter(object_id=str(ticket.pk)).latest("id")
    assert event.changes == {
        "priority": ["normal", "urgent"],
        "subject": ["货物未按时送达", "催件"],
        "version": [1, 2],  # the version it made: what a conflict check reads
    }
    assert event.actor == agent


def test_stale_version_on_the_same_field_is_a_conflict_in_plain_words(agent: User, colleague: User) -> None:
    # given: both open version 1; 王芳 raises the priority first
    colleague.full_name = "王芳"
    colleague.save()
    ticket = new_ticket(actor=agent)
    ticket_update(actor=colleague, ticket=ticket, version=1, changes={"priority": Priority.HIGH})
    events = AuditEvent.objects.count()

    # when: the agent sets the priority too, against version 1
    with pytest.raises(Conflict) as exc:
        ticket_update(actor=agent, ticket=ticket, version=1, changes={"priority": Priority.URGENT})

    # then: the error says who changed what, from what to what; nothing changed
    assert "王芳 在 " in exc.value.message
    assert "把优先级从 普通 改为 高" in exc.value.message
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.version) == (Priority.HIGH, 2)
    assert AuditEvent.objects.count() == events


def test_stale_version_on_another_field_is_no_conflict(agent: User, colleague: User) -> None:
    # given: both open version 1; the colleague changes the priority first
    ticket = new_ticket(actor=agent)
    ticket_update(actor=colleague, ticket=ticket, version=1, changes={"priority": Priority.HIGH})

    # when: the agent saves the subject against version 1
    updated = ticket_update(actor=agent, ticket=ticket, version=1, changes={"subject": "新主题"})

    # then: both changes hold
    assert (updated.subject, updated.priority, updated.version) == ("新主题", Priority.HIGH, 3)


def test_a_stale_form_that_would_undo_a_change_is_a_conflict(agent: User, colleague: User) -> None:
    # given: the agent's form still shows priority "normal"; the colleague set "high" since
    ticket = new_ticket(actor=agent)
    ticket_update(actor=colleague, ticket=ticket, version=1, changes={"priority": Priority.HIGH})

    # when: the agent's form posts every field as it showed them, with a new subject
    with pytest.raises(Conflict) as exc:
        ticket_update(
            actor=agent, ticket=ticket, version=1, changes={"subject": "新主题", "priority": Priority.NORMAL}
        )

    # then: saving would silently undo the colleague's change: held, nothing changed
    assert "优先级" in exc.value.message
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.priority) == ("货物未按时送达", Priority.HIGH)


def test_an_assignment_does_not_hold_back_a_status_change(agent: User, colleague: User) -> None:
    # given: both open version 1 of a new ticket; the colleague takes it (assignee, and status → open)
    ticket = new_ticket(actor=agent)
    ticket_assign(actor=colleague, ticket=ticket, assignee=colleague, version=1)
    waiting = Status.objects.get(code="waiting-customer")

    # when: the agent, still on version 1, sets "waiting on customer"
    # then: the status change from 新建 (new) → 处理中 is a real conflict on the same field …
    with pytest.raises(Conflict) as exc:
        ticket_transition(actor=agent, ticket=ticket, status=waiting, version=1)
    assert "状态" in exc.value.message
    # … but after only an assignment, the status change goes through
    current = Ticket.objects.get(pk=ticket.pk).version
    ticket_assign(actor=colleague, ticket=ticket, assignee=agent, version=current)
    moved = ticket_transition(actor=agent, ticket=ticket, status=waiting, version=current)
    assert (moved.status.code, moved.assignee) == ("waiting-customer", agent)


def test_concurrent_tag_edits_merge(agent: User, colleague: User) -> None:
    # given: two people opened the same ticket (same in-memory version)
    ticket = new_ticket(actor=agent)
    seen_by_agent = Ticket.objects.get(pk=ticket.pk)
    seen_by_colleague = Ticket.objects.get(pk=ticket.pk)

    # when: each adds a different tag without a version
    ticket_update(actor=agent, ticket=seen_by_agent, version=None, changes={}, add_tags=["加急"])
    ticket_update(actor=colleague, ticket=seen_by_colleague, version=None, changes={}, add_tags=["投诉"])

    # then: both tags are kept; removing one keeps the other
    assert _tags(ticket) == ["加急", "投诉"]
    ticket_update(actor=agent, ticket=seen_by_agent, version=None, changes={}, remove_tags=["加急"])
    assert _tags(ticket) == ["投诉"]
    ticket.refresh_from_db()
    assert ticket.version == 4


def test_no_change_does_not_bump_version(agent: User) -> None:
    ticket = new_ticket(actor=agent)
    events = AuditEvent.objects.count()

    ticket_update(actor=agent, ticket=ticket, version=1, changes={"subject": "货物未按时送达"})

    ticket.refresh_from_db()
    assert ticket.version == 1
    assert AuditEvent.objects.count() == events


def test_unknown_field_is_refused(agent: User) -> None:
    ticket = new_ticket(actor=agent)

    with pytest.raises(ValidationFailed) as exc:
        ticket_update(actor=agent, ticket=ticket, version=1, changes={"number": "T1"})

    assert list(exc.value.fields) == ["number"]
    ticket.refresh_from_db()
    assert ticket.version == 1


def test_closed_ticket_cannot_be_edited(agent: User) -> None:
    ticket = closed_ticket(actor=agent)
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationFailed) as exc:
        ticket_update(actor=agent, ticket=ticket, version=None, changes={"priority": Priority.LOW})

    assert list(exc.value.fields) == ["status"]
    ticket.refresh_from_db()
    assert ticket.priority == Priority.NORMAL
    assert AuditEvent.objects.count() == events


def test_changing_category_enforces_its_fields(agent: User) -> None:
    ticket = new_ticket(actor=agent)

    with pytest.raises(ValidationFailed) as exc:
        ticket_update(actor=agent, ticket=ticket, version=1, changes={"category": category("loss")})

    assert set(exc.value.fields) == {
        "custom_fields.cargo_type",
        "custom_fields.exception_node",
        "custom_fields.expected_solution",
    }
    ticket.refresh_from_db()
    assert ticket.category == category("other")

    ticket_update(
        actor=agent,
        ticket=ticket,
        version=1,
        changes={"category": category("loss"), "custom_fields": LOGISTICS_FIELDS},
    )
    ticket.refresh_from_db()
    assert (ticket.category, ticket.custom_fields) == (category("loss"), LOGISTICS_FIELDS)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": "长" * 201}, "subject"),
        ({"subject": ""}, "subject"),
        ({"priority": "asap"}, "priority"),
        ({"type": "gossip"}, "type"),
    ],
)
def test_invalid_values_change_nothing(agent: User, changes: dict[str, str], field: str) -> None:
    ticket = new_ticket(actor=agent)

    with pytest.raises(ValidationFailed) as exc:
        ticket_update(actor=agent, ticket=ticket, version=1, changes=changes)

    assert list(exc.value.fields) == [field]
    ticket.refresh_from_db()
    assert (ticket.version, ticket.subject) == (1, "货物未按时送达")


def test_portal_user_cannot_become_assignee(agent: User, make_user: Callable[..., User]) -> None:
    ticket = new_ticket(actor=agent)

    with pytest.raises(ValidationFailed) as exc:
        ticket_update(actor=agent, ticket=ticket, version=1, changes={"assignee": make_user(Role.CUSTOMER)})

    assert list(exc.value.fields) == ["assignee"]
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_contact_must_belong_to_the_tickets_customer(agent: User) -> None:
    ticket = new_ticket(actor=agent, customer=new_customer())

    with pytest.raises(ValidationFailed) as exc:
        ticket_update(actor=agent, ticket=ticket, version=1, changes={"contact": new_contact()})

    assert list(exc.value.fields) == ["contact"]
    ticket.refresh_from_db()
    assert ticket.contact is None


def test_edit_keeps_the_conversation_searchable(agent: User) -> None:
    ticket = new_ticket(actor=agent)
    new_message(ticket=ticket, actor=agent, body="包裹在杭州分拨中心滞留")

    ticket_update(actor=agent, ticket=ticket, version=None, changes={"subject": "催件"})

    ticket.refresh_from_db()
    assert "杭州" in ticket.search_text.split()


def test_assign_moves_new_to_open_and_notifies(agent: User, colleague: User) -> None:
    ticket = new_ticket(actor=agent)

    assigned = ticket_assign(actor=agent, ticket=ticket, assignee=colleague)

    assert (assigned.assignee, assigned.status_category) == (colleague, "open")
    assert colleague.notifications.filter(kind="assigned").count() == 1
