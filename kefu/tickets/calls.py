"""Call logs (通话记录): every call is recorded, whoever the caller is — an unknown caller may be saved
as a new customer — and it opens a new ticket, is recorded on an existing one, or neither."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kefu.core import audit
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.models import AuditAction
from kefu.core.phones import normalize_phone
from kefu.customers import services as customer_services
from kefu.customers.enums import CustomerKind
from kefu.customers.models import Contact, Customer
from kefu.customers.services import ContactData
from kefu.tickets.enums import CallOutcome, Channel, Visibility
from kefu.tickets.models import CallLog, Ticket
from kefu.tickets.services.create import TicketData, ticket_create
from kefu.tickets.services.messages import message_add


@dataclass(frozen=True)
class NewCaller:
    """An unknown caller saved as a new customer, with one contact: the number they called from."""

    name: str
    kind: str = CustomerKind.CONSUMER
    contact_name: str = ""  # empty: the customer's name (a consumer is their own contact)


# Where a new caller's problems are shown on the call form (the customer services name them
# ``name``, ``kind`` and ``contacts.0.*``).
_NEW_CALLER_FIELDS = {
    "name": "new_customer_name",
    "kind": "new_customer_kind",
    "contacts.0.name": "new_contact_name",
    "contacts.0.phone": "caller_number",
}


def _new_caller_errors(caller: NewCaller, number: str) -> dict[str, list[str]]:
    errors = customer_services.validate_customer_fields({"name": caller.name, "kind": caller.kind})
    try:
        customer_services.validate_contact(
            ContactData(name=caller.contact_name or caller.name, phone=number), prefix="contacts.0."
        )
    except ValidationFailed as exc:
        errors.update(exc.fields)
    return {_NEW_CALLER_FIELDS.get(name, name): messages for name, messages in errors.items()}


@transaction.atomic
def call_log_create(
    *,
    actor: Any,
    caller_number: str,
    summary: str,
    outcome: str,
    customer: Customer | None = None,
    contact: Contact | None = None,
    new_caller: NewCaller | None = None,
    callback_due_at: dt.datetime | None = None,
    ticket: TicketData | None = None,
    existing_ticket: Ticket | None = None,
) -> CallLog:
    """Record a call — all or nothing. With ``new_caller``, the unknown caller is saved as a new
    customer first (their contact is the number they called from). With ``ticket``, a phone ticket is
    opened for the call and the outcome becomes “ticket created”; with ``existing_ticket`` (one the
    actor may see), the call is recorded on that ticket as an internal note."""
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
    if ticket is not None and existing_ticket is not None:
        errors["ticket_mode"] = [_("新建工单和记录到已有工单只能选一个")]
    if ticket is not None:
        outcome = CallOutcome.TICKET_CREATED
    if outcome not in CallOutcome.values:
        errors["outcome"] = [_("请选择结果")]
    if outcome == CallOutcome.CALLBACK and callback_due_at is None:
        errors["callback_due_at"] = [_("约定回电时需要填写回电时间")]
    if contact is not None and customer is not None and contact.customer_id != customer.pk:
        errors["contact"] = [_("联系人不属于该客户")]
    if new_caller is not None:
        if customer is not None:
            errors["new_customer_name"] = [_("已选择了客户：不能同时保存为新客户")]
        elif not actor.has_perm("customers.add_customer"):
            raise PermissionDenied(_("没有权限新建客户"))
        else:
            errors.update(
                {k: v for k, v in _new_caller_errors(new_caller, number).items() if k not in errors}
            )
    if errors:
        raise ValidationFailed(_("通话记录有误"), fields=errors)
    if new_caller is not None:
        customer = customer_services.customer_create(
            actor=actor,
            name=new_caller.name,
            kind=new_caller.kind,
            contacts=[ContactData(name=new_caller.contact_name or new_caller.name, phone=number)],
        )
        contact = customer.contacts.get()
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
        created = ticket_create(actor=actor, data=data)
    elif existing_ticket is not None:
        message_add(
            actor=actor,
            ticket=existing_ticket,
            body=_("电话记录（%(outcome)s）：%(summary)s")
            % {"outcome": CallOutcome(outcome).label, "summary": summary.strip()},
            visibility=Visibility.INTERNAL,
        )
    call = CallLog.objects.create(
        caller_number=number,
        customer=customer or (contact.customer if contact else None),
        contact=contact,
        agent=actor,
        summary=summary.strip(),
        outcome=outcome,
        ticket=created or existing_ticket,
        callback_due_at=callback_due_at,
    )
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=call,
        changes={
            "outcome": [None, outcome],
            "ticket": [None, call.ticket.number if call.ticket else None],
            **({"customer": [None, str(customer)]} if new_caller is not None else {}),
        },
    )
    return call


def recent_calls(user: Any, *, limit: int = 30) -> QuerySet[CallLog]:
    queryset = CallLog.objects.select_related("customer", "agent", "ticket", "contact")
    if not user.has_perm("tickets.view_all_tickets") and not user.is_superuser:
        queryset = queryset.filter(agent=user)
    return queryset.order_by("-created_at")[:limit]
