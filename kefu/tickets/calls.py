"""Call logs (通话记录): every call is recorded, whoever the caller is, optionally with a new ticket."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kefu.core import audit
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.models import AuditAction
from kefu.core.phones import normalize_phone
from kefu.customers.models import Contact, Customer
from kefu.tickets import services
from kefu.tickets.enums import CallOutcome, Channel
from kefu.tickets.models import CallLog


@transaction.atomic
def call_log_create(
    *,
    actor: Any,
    caller_number: str,
    summary: str,
    outcome: str,
    customer: Customer | None = None,
    contact: Contact | None = None,
    callback_due_at: dt.datetime | None = None,
    ticket: services.TicketData | None = None,
) -> CallLog:
    """Record a call. With ``ticket``, a phone ticket is opened for it too and the outcome becomes
    “ticket created”."""
    if getattr(actor, "is_portal_user", False) or not actor.has_perm("tickets.add_calllog"):
        raise PermissionDenied(_("没有权限记录通话"))
    errors: dict[str, list[str]] = {}
    number = "".join(c for c in caller_number.strip() if c.isdigit() or c == "+")
    with contextlib.suppress(ValidationFailed):  # an unusual number is still recorded as dialled
        number = normalize_phone(number) if number else number
    if not number:
        errors["caller_number"] = [_("请填写来电号码")]
    elif len(number) > 20:
        errors["caller_number"] = [_("号码过长")]
    if not summary.strip():
        errors["summary"] = [_("请填写通话摘要")]
    if ticket is not None:
        outcome = CallOutcome.TICKET_CREATED
    if outcome not in CallOutcome.values:
        errors["outcome"] = [_("请选择结果")]
    if outcome == CallOutcome.CALLBACK and callback_due_at is None:
        errors["callback_due_at"] = [_("约定回电时需要填写回电时间")]
    if contact is not None and customer is not None and contact.customer_id != customer.pk:
        errors["contact"] = [_("联系人不属于该客户")]
    if errors:
        raise ValidationFailed(_("通话记录有误"), fields=errors)
    created = None
    if ticket is not None:
        if not actor.has_perm("tickets.add_ticket"):
            raise PermissionDenied(_("没有权限创建工单"))
        data = dataclasses.replace(
            ticket,
            channel=Channel.PHONE,
            customer=ticket.customer or customer,
            contact=ticket.contact or contact,
            description=ticket.description or summary.strip(),
        )
        created = services.ticket_create(actor=actor, data=data)
    call = CallLog.objects.create(
        caller_number=number,
        customer=customer or (contact.customer if contact else None),
        contact=contact,
        agent=actor,
        summary=summary.strip(),
        outcome=outcome,
        ticket=created,
        callback_due_at=callback_due_at,
    )
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=call,
        changes={"outcome": [None, outcome], "ticket": [None, created.number if created else None]},
    )
    return call


def recent_calls(user: Any, *, limit: int = 30) -> QuerySet[CallLog]:
    queryset = CallLog.objects.select_related("customer", "agent", "ticket", "contact")
    if not user.has_perm("tickets.view_all_tickets") and not user.is_superuser:
        queryset = queryset.filter(agent=user)
    return queryset.order_by("-created_at")[:limit]
