"""Domain events the tickets publish (``kefu.core.events``), inside the transaction of the change.

Apps above tickets (SLA, shipments, inbox, bot, analytics) subscribe in their ``AppConfig.ready``; the
tickets import none of them. Every event carries the ticket's id and number; ids of users, teams,
categories and customers; status and enum values as their stored codes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from kefu.core.events import ActorRef, Event

if TYPE_CHECKING:
    from kefu.tickets.models import Ticket


@dataclass(frozen=True, kw_only=True)
class TicketEvent(Event, base=True):
    """Base of the ticket events (subscribe to it to hear them all)."""

    ticket_id: int
    number: str
    subject: str


@dataclass(frozen=True, kw_only=True)
class TicketCreated(TicketEvent):
    kind: ClassVar[str] = "ticket.created"
    description: str
    custom_fields: dict[str, Any]
    channel: str
    type: str
    category_id: int | None
    priority: str
    status_id: int
    status_category: str
    team_id: int | None
    assignee_id: int | None
    customer_id: int | None
    waybills: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class MessageAdded(TicketEvent):
    """A reply, a customer's message or an internal note; ``author_kind`` is agent, customer or system,
    the author is the actor. ``assignee_id`` is the ticket's assignee when it was written;
    ``rejects_resolution``: the customer's message says the resolution did not solve it."""

    kind: ClassVar[str] = "ticket.message_added"
    message_id: int
    visibility: str  # public | internal
    author_kind: str
    mentioned_ids: tuple[int, ...]
    assignee_id: int | None
    rejects_resolution: bool = False


@dataclass(frozen=True, kw_only=True)
class StatusChanged(TicketEvent):
    """Every status change, through ``services.lifecycle.status_change``: statuses by id, with their
    categories (new, open, pending, resolved, closed)."""

    kind: ClassVar[str] = "ticket.status_changed"
    old_status_id: int
    new_status_id: int
    old_category: str
    new_category: str


@dataclass(frozen=True, kw_only=True)
class TicketAssigned(TicketEvent):
    """The assignee or the team changed (``None``: nobody); ``version`` is the ticket's version after it."""

    kind: ClassVar[str] = "ticket.assigned"
    version: int
    old_assignee_id: int | None
    assignee_id: int | None
    old_team_id: int | None
    team_id: int | None


@dataclass(frozen=True, kw_only=True)
class TicketClassified(TicketEvent):
    """Priority, type or category changed: ``changes`` is ``{field: [old, new]}`` of those that did
    (the category by id). A ticket's customer is set when it is created; no service changes it."""

    kind: ClassVar[str] = "ticket.classified"
    changes: dict[str, list[str | int | None]]


@dataclass(frozen=True, kw_only=True)
class WorkOrderOpened(TicketEvent):
    kind: ClassVar[str] = "ticket.work_order_opened"
    work_order_id: int
    department: str
    assignee_id: int | None
    deadline: dt.datetime


@dataclass(frozen=True, kw_only=True)
class WorkOrderAssigned(TicketEvent):
    """A work order got a new owner (also when it is opened with one)."""

    kind: ClassVar[str] = "ticket.work_order_assigned"
    work_order_id: int
    version: int  # the work order's
    title: str
    assignee_id: int


@dataclass(frozen=True, kw_only=True)
class WorkOrderClosed(TicketEvent):
    """A work order became done or cancelled."""

    kind: ClassVar[str] = "ticket.work_order_closed"
    work_order_id: int
    status: str


def about(ticket: Ticket, actor: Any) -> dict[str, Any]:
    """What every ticket event carries: ``publish(StatusChanged(**about(ticket, actor), …))``."""
    return {
        "actor": ActorRef.of(actor),
        "ticket_id": ticket.pk,
        "number": ticket.number,
        "subject": ticket.subject,
    }
