"""Revealing the phone number of a ticket's contact to call the customer back: the customers' reveal
(``kefu.customers.reveal``: reason, permission, limit, audit) applied to the contact a callback reaches,
on a ticket the user can see."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from kefu.customers import reveal
from kefu.customers.models import Contact
from kefu.tickets.models import Ticket


def callback_contact(ticket: Ticket) -> Contact | None:
    """The contact a callback reaches: the ticket's contact, else the customer's primary contact (the one
    the ticket page shows)."""
    if ticket.contact is not None:
        return ticket.contact
    if ticket.customer is None:
        return None
    return ticket.customer.contacts.order_by("-is_primary", "id").first()


def contact_phone_reveal(*, actor: Any, ticket: Ticket, reason: str) -> reveal.RevealedPhone:
    """Show ``actor`` the whole phone number of the ticket's :func:`callback_contact`, logged with the
    reason and the ticket number. Precondition: ``ticket`` came through ``access_ticket`` for ``actor``.
    Refused as ``kefu.customers.reveal.contact_phone_reveal`` says."""
    return reveal.contact_phone_reveal(
        actor=actor,
        contact=callback_contact(ticket),
        reason=reason,
        ticket_number=ticket.number,
        no_phone=_("该工单没有可查看的联系人电话"),
    )
