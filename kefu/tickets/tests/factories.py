"""Typed helpers that build tickets through the real services, so test data always passes the same
validation as production data."""

from __future__ import annotations

from typing import Any

from django.test import Client

from kefu.core.actors import SYSTEM
from kefu.tickets.enums import Channel, TicketType, Visibility
from kefu.tickets.models import Category, Message, Status, Ticket
from kefu.tickets.services.common import default_status
from kefu.tickets.services.create import TicketData, ticket_create
from kefu.tickets.services.lifecycle import ticket_close, ticket_resolve
from kefu.tickets.services.messages import message_add

# The fields every delay / damage / loss ticket must carry (seeded by migration 0002).
LOGISTICS_FIELDS = {"cargo_type": "普通货物", "exception_node": "干线运输", "expected_solution": "尽快派送"}


def category(code: str) -> Category:
    """A seeded category by code (``other`` has no required fields; ``delay`` … ``loss`` do)."""
    return Category.objects.get(code=code)


def status(category: str) -> Status:
    """The default admin status of a status category (``StatusCategory.OPEN`` → 处理中)."""
    return default_status(category)


def new_ticket(*, actor: Any = SYSTEM, **fields: Any) -> Ticket:
    """A saved ticket created by ``ticket_create``.

    Defaults: channel phone, type inquiry, category ``other`` (no required fields), a numbered
    subject. ``category`` may be a Category or its code; any other ``TicketData`` field may be given.
    """
    cat = fields.pop("category", "other")
    if isinstance(cat, str):
        cat = category(cat)
    data = TicketData(
        subject=fields.pop("subject", "货物未按时送达"),
        channel=fields.pop("channel", Channel.PHONE),
        type=fields.pop("type", TicketType.INQUIRY),
        category=cat,
        **fields,
    )
    return ticket_create(actor=actor, data=data)


def new_message(
    *,
    ticket: Ticket,
    actor: Any = SYSTEM,
    body: str = "您好，我们正在核实。",
    visibility: str = Visibility.PUBLIC,
    **kwargs: Any,
) -> Message:
    """A message added by ``message_add`` (a public agent reply by default); ``actor`` is a
    user, ``"bot"`` or None (system), as for every service."""
    return message_add(actor=actor, ticket=ticket, body=body, visibility=visibility, **kwargs)


def resolved_ticket(*, actor: Any = SYSTEM, summary: str = "已联系承运商加急派送", **fields: Any) -> Ticket:
    ticket = new_ticket(actor=actor, **fields)
    return ticket_resolve(actor=actor, ticket=ticket, solution_summary=summary)


def closed_ticket(*, actor: Any = SYSTEM, **fields: Any) -> Ticket:
    ticket = resolved_ticket(actor=actor, **fields)
    return ticket_close(actor=actor, ticket=ticket, satisfaction_confirmed=True)


class UserClient(Client):
    """A test client signed in as ``user`` (kept as ``.user``)."""

    def __init__(self, user: Any) -> None:
        super().__init__()
        self.user = user
        self.force_login(user)
