"""What the tickets publish (``kefu.tickets.events``): each use case its events, with ids and the actor, in
the transaction of the change — and through the outbox to a webhook only once that commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.accounts.enums import Role
from kefu.accounts.models import User
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory
from kefu.core import events
from kefu.core.events import ActorRef, Event
from kefu.core.models import OutboxMessage
from kefu.customers.tests.factories import PortalAccountFactory, new_customer
from kefu.tickets.enums import AuthorKind, Priority, StatusCategory, TicketType, Visibility
from kefu.tickets.events import (
    MessageAdded,
    StatusChanged,
    TicketAssigned,
    TicketClassified,
    TicketCreated,
    WorkOrderAssigned,
    WorkOrderClosed,
    WorkOrderOpened,
)
from kefu.tickets.services.edit import ticket_assign, ticket_update
from kefu.tickets.services.lifecycle import ticket_resolve
from kefu.tickets.services.work_orders import subtask_create, subtask_set_status
from kefu.tickets.tests.factories import LOGISTICS_FIELDS, category, new_message, new_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard() -> Iterator[list[Event]]:
    seen: list[Event] = []
    events.subscribe(Event, seen.append)
    yield seen
    events.unsubscribe(Event, seen.append)


@pytest.fixture
def desk(make_user: Callable[..., User]) -> tuple[User, User]:
    team = TeamFactory(name="华东一组")
    lead = make_user(Role.LEAD, username="zuzhang", full_name="王芳")
    agent = make_user(Role.AGENT, username="xiaoli")
    for user in (lead, agent):
        MembershipFactory(team=team, user=user)
    return lead, agent


E = TypeVar("E", bound=Event)


def of(kind: type[E], heard: list[Event]) -> list[E]:
    return [e for e in heard if isinstance(e, kind)]


def test_creating_a_ticket_publishes_it_with_ids(desk, heard):
    lead, agent = desk
    customer = new_customer()

    ticket = new_ticket(
        actor=lead, team=lead.teams.first(), assignee=agent, customer=customer, waybills=["SF1234567890"]
    )

    [created] = heard
    assert isinstance(created, TicketCreated)
    assert created.actor == ActorRef(kind="user", id=lead.pk, label="王芳")
    assert (created.ticket_id, created.number, created.assignee_id, created.customer_id) == (
        ticket.pk,
        ticket.number,
        agent.pk,
        customer.pk,
    )
    assert (created.team_id, created.category_id, created.waybills) == (
        ticket.team_id,
        ticket.category_id,
        ("SF1234567890",),
    )
    # created with an assignee: open at once
    assert (created.status_id, created.status_category) == (ticket.status_id, StatusCategory.OPEN)


def test_a_reply_and_a_note_are_told_apart_with_their_author_and_mentions(desk, heard):
    lead, agent = desk
    ticket = new_ticket(actor=lead, team=lead.teams.first(), assignee=agent)
    heard.clear()

    reply = new_message(ticket=ticket, actor=agent, body="已联系承运商", visibility=Visibility.PUBLIC)
    note = new_message(ticket=ticket, actor=agent, body="@zuzhang 请看一下", visibility=Visibility.INTERNAL)

    added = of(MessageAdded, heard)
    assert [(e.message_id, e.visibility, e.author_kind, e.actor.id) for e in added] == [
        (reply.pk, "public", "agent", agent.pk),
        (note.pk, "internal", "agent", agent.pk),
    ]
    assert [e.mentioned_ids for e in added] == [(), (lead.pk,)]


def test_every_status_change_publishes_from_and_to(desk, heard):
    lead, agent = desk
    account = PortalAccountFactory(customer=new_customer())
    ticket = new_ticket(actor=lead, team=lead.teams.first(), customer=account.customer)

    ticket_assign(actor=lead, ticket=ticket, assignee=agent)  # new → open
    ticket = ticket_resolve(actor=agent, ticket=ticket, solution_summary="已补发")
    new_message(
        ticket=ticket, actor=account.user, body="还是没收到", author_kind=AuthorKind.CUSTOMER
    )  # reopens

    moves = [(e.old_category, e.new_category) for e in of(StatusChanged, heard)]
    assert moves == [
        (StatusCategory.NEW, StatusCategory.OPEN),
        (StatusCategory.OPEN, StatusCategory.RESOLVED),
        (StatusCategory.RESOLVED, StatusCategory.OPEN),
    ]
    assert of(StatusChanged, heard)[-1].actor.kind == "customer"


def test_assignment_and_classification_are_published_only_when_they_change(desk, heard):
    lead, agent = desk
    ticket = new_ticket(actor=lead, team=lead.teams.first())
    heard.clear()

    ticket = ticket_assign(actor=lead, ticket=ticket, assignee=agent)
    ticket = ticket_update(
        actor=lead,
        ticket=ticket,
        version=None,
        changes={
            "priority": Priority.URGENT,
            "type": TicketType.COMPLAINT,
            "category": category("delay"),
            "custom_fields": LOGISTICS_FIELDS,
        },
    )
    ticket_update(actor=lead, ticket=ticket, version=None, changes={"subject": "新主题"})

    [assigned] = of(TicketAssigned, heard)
    assert (assigned.old_assignee_id, assigned.assignee_id) == (None, agent.pk)
    [classified] = of(TicketClassified, heard)
    assert classified.changes["priority"] == [Priority.NORMAL, Priority.URGENT]
    assert classified.changes["type"] == [TicketType.INQUIRY, TicketType.COMPLAINT]
    assert classified.changes["category"][1] == category("delay").pk
    assert "subject" not in classified.changes


def test_work_orders_publish_opened_assigned_and_closed(desk, heard):
    lead, agent = desk
    ticket = new_ticket(actor=lead, team=lead.teams.first())
    heard.clear()

    order = subtask_create(
        actor=lead,
        ticket=ticket,
        department="warehouse",
        title="核实库存",
        deadline=timezone.now() + dt.timedelta(days=1),
        problem_description="客户称少件",
        support_needed="请盘点",
        assignee=agent,
    )
    subtask_set_status(actor=agent, subtask=order, status="done")

    assert [type(e) for e in heard] == [WorkOrderOpened, WorkOrderAssigned, WorkOrderClosed]
    assert heard[0].work_order_id == order.pk
    assert (heard[1].assignee_id, heard[1].title) == (agent.pk, "核实库存")
    assert heard[2].status == "done"


def test_creating_a_ticket_costs_no_statement_for_events(desk, settings):
    """Publishing costs nothing of its own; with no webhook configured the outbox is not touched."""
    lead, _ = desk
    new_ticket(actor=lead, team=lead.teams.first())  # warm the reference caches
    settings.KEFU_WEBHOOK_URLS = []

    with CaptureQueriesContext(connection) as queries:
        new_ticket(actor=lead, team=lead.teams.first())

    assert not [q for q in queries.captured_queries if "outbox" in q["sql"] or "dbtaskresult" in q["sql"]]


def test_a_ticket_event_goes_to_the_webhooks_through_the_outbox(desk, settings):
    lead, _ = desk
    settings.KEFU_WEBHOOK_URLS = ["http://127.0.0.1:9/hook"]

    def create_then_fail() -> None:
        with transaction.atomic():
            new_ticket(actor=lead, team=lead.teams.first())
            assert OutboxMessage.objects.count() == 1
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        create_then_fail()
    assert OutboxMessage.objects.count() == 0

    ticket = new_ticket(actor=lead, team=lead.teams.first())
    message = OutboxMessage.objects.get()
    assert message.payload["event"]["kind"] == "ticket.created"
    assert message.payload["event"]["data"]["ticket_id"] == ticket.pk
