"""Revealing a contact's phone number to call the customer back (docs/security.md "Masking policy").

Roles that see numbers masked but work with customers (agents; leads and managers hold the permission
too) may see one contact's whole number after giving a reason — on the customer page, and on a ticket
they can see (``kefu.tickets.reveal`` picks the ticket's contact). Each reveal is written to the audit
log with the reason and counted against ``KEFU_REVEAL_RATE`` per user, one count for every surface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.actors import Actor, person
from kefu.accounts.models import User
from kefu.core import audit
from kefu.core.errors import KefuError, PermissionDenied, ValidationFailed
from kefu.core.models import AuditAction
from kefu.core.phones import display_phone
from kefu.core.ratelimit import limit_user
from kefu.customers.models import Contact

PERMISSION = "customers.reveal_contact_phone"
REASON_MAX = 200
# A reason says something: at least this many letters (Chinese characters count), not "..." or "1".
REASON_MIN_LETTERS = 2


def may_reveal(user: Actor | AnonymousUser) -> bool:
    """Staff with the reveal permission (never portal users, who see their own contacts unmasked)."""
    return isinstance(user, User) and not user.is_portal_user and user.has_perm(PERMISSION)


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
def contact_phone_reveal(
    *, actor: User, contact: Contact | None, reason: str, ticket_number: str = "", no_phone: str = ""
) -> RevealedPhone:
    """Show ``actor`` the whole phone number of ``contact`` and log it with ``reason`` (and the ticket
    it was revealed on, when ``ticket_number``). Precondition: the actor may see the contact (its
    customer, or the ticket it was reached through).

    Refused: without the permission (403); a bad reason (422 naming ``reason``); no contact or no phone
    (422 naming ``contact``, with ``no_phone`` as the message when given) — neither counted nor logged;
    over ``KEFU_REVEAL_RATE`` (429); an actor that is not a person (403 naming it)."""
    actor = person(actor)
    if not may_reveal(actor):
        raise PermissionDenied(_("你的角色不能查看完整电话号码"))
    errors = reason_errors(reason)
    if errors:
        raise ValidationFailed(_("无法查看号码"), fields={"reason": errors})
    if contact is None or not contact.phone:
        raise ValidationFailed.for_field("contact", no_phone or _("该联系人没有电话号码"))
    limit_user(
        actor,
        group="phone-reveal",
        rate=settings.KEFU_REVEAL_RATE,
        message=_("查看完整号码过于频繁，请稍后再试"),
    )
    changes: dict[str, Any] = {
        "contacts": [None, [contact.public_id]],
        "where": [None, "reveal"],
        "fields": [None, ["phone"]],
    }
    if ticket_number:
        changes["ticket"] = [None, ticket_number]
    changes["reason"] = [None, reason.strip()]
    audit.record(actor=actor, action=AuditAction.VIEW_PII, obj=contact.customer, changes=changes)
    return RevealedPhone(contact=contact, phone=display_phone(contact.phone))


def refusal_message(exc: KefuError) -> str:
    """The one line a page shows under the reveal form for a refused reveal."""
    fields = getattr(exc, "fields", {}) or {}
    return str((fields.get("reason") or fields.get("contact") or [exc.message])[0])
