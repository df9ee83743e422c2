"""Revealing a contact's phone number to call the customer back (docs/security.md "Masking policy").

Roles that see numbers masked but work tickets (agents; leads and managers hold the permission too) may see the whole
number of the contact of a ticket they can see, one contact at a time, after giving a reason. Each reveal
is written to the audit log with the reason and counted against ``KEFU_REVEAL_RATE`` per user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core import audit
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.models import AuditAction
from kefu.core.phones import display_phone
from kefu.core.ratelimit import limit_user
from kefu.customers.models import Contact
from kefu.tickets.models import Ticket

PERMISSION = "customers.reveal_contact_phone"
REASON_MAX = 200
# A reason says something: at least this many letters (Chinese characters count), not "..." or "1".
REASON_MIN_LETTERS = 2


def callback_contact(ticket: Ticket) -> Contact | None:
    """The contact a callback reaches: the ticket's contact, else the customer's primary contact (the one
    the ticket page shows)."""
    if ticket.contact is not None:
        return ticket.contact
    if ticket.customer is None:
        return None
    return ticket.customer.contacts.order_by("-is_primary", "id").first()


def may_reveal(user: Any) -> bool:
    """Staff with the reveal permission (never portal users, who see their own contacts unmasked)."""
    return not getattr(user, "is_portal_user", False) and user.has_perm(PERMISSION)


def reason_errors(reason: str) -> list[str]:
    """What is wrong with a reveal reason (empty: nothing)."""
    text = reason.strip()
    if sum(1 for c in text if c.isalpha()) < REASON_MIN_LETTERS:
        return [_("请填写查看原因（至少 2 个字），例如“客户要求回电”")]
    if len(text) > REASON_MAX:
        return [_("原因不能超过 %(max)s 个字") % {"max": REASON_MAX}]
    return []


@dataclass(frozen=True)
class RevealedPhone:
    contact: Contact
    phone: str  # national format, e.g. 138 1234 5678


@transaction.atomic
def contact_phone_reveal(*, actor: Any, ticket: Ticket, reason: str) -> RevealedPhone:
    """Show ``actor`` the whole phone number of the ticket's :func:`callback_contact`, and log it with
    ``reason``. Precondition: ``ticket`` came through ``access_ticket`` for ``actor`` (they may see it).

    Refused: without the permission (403); a bad reason (422 naming ``reason``); no contact phone (422
    naming ``contact``) — neither counted nor logged; over ``KEFU_REVEAL_RATE`` (429)."""
    if not may_reveal(actor):
        raise PermissionDenied(_("你的角色不能查看完整电话号码"))
    errors = reason_errors(reason)
    if errors:
        raise ValidationFailed(_("无法查看号码"), fields={"reason": errors})
    contact = callback_contact(ticket)
    if contact is None or not contact.phone:
        raise ValidationFailed.for_field("contact", _("该工单没有可查看的联系人电话"))
    limit_user(
        actor,
        group="phone-reveal",
        rate=settings.KEFU_REVEAL_RATE,
        message=_("查看完整号码过于频繁，请稍后再试"),
    )
    audit.record(
        actor=actor,
        action=AuditAction.VIEW_PII,
        obj=contact.customer,
        changes={
            "contacts": [None, [contact.public_id]],
            "where": [None, "reveal"],
            "fields": [None, ["phone"]],
            "ticket": [None, ticket.number],
            "reason": [None, reason.strip()],
        },
    )
    return RevealedPhone(contact=contact, phone=display_phone(contact.phone))
