"""Reads shared by the pages and the API: search, detail, and the masked or unmasked presentation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from kefu.core.audit import events_for
from kefu.core.masking import mask_address, mask_email, mask_name, mask_phone
from kefu.core.models import AuditEvent
from kefu.core.phones import display_phone
from kefu.customers.access import visible_customers
from kefu.customers.models import Contact, Customer

# Prefix matches are written as ranges so both SQLite and PostgreSQL use the btree index
# (Django's startswith becomes LIKE … ESCAPE, which SQLite cannot serve from an index).
_PREFIX_END = "\U0010ffff"
# Most customers a phone search (whole number or 尾号) returns; type more digits to narrow it.
PHONE_MATCH_LIMIT = 1000


def _prefix(field: str, value: str) -> Q:
    return Q(**{f"{field}__gte": value, f"{field}__lt": value + _PREFIX_END})


def customer_search(
    user: Any,
    *,
    q: str = "",
    tier: str = "",
    kind: str = "",
    segment: str = "",
    account_agent: int | None = None,
    city: str = "",
) -> QuerySet[Customer]:
    """Customers the user may see matching the filters. ``q`` matches the name (contains), the
    customer number (prefix) or a contact phone: a whole number, or its last 4+ digits (尾号)."""
    queryset = visible_customers(user)
    q = q.strip()
    if q:
        digits = "".join(c for c in q if c.isdigit())
        match = Q(name__icontains=q) | _prefix("customer_no", q.upper())
        if len(digits) >= 4 and len(digits) >= len(q.replace(" ", "").replace("-", "").lstrip("+")):
            # Resolved here rather than as a subquery: an ``IN (subquery)`` inside the OR stops PostgreSQL
            # from combining the branches' indexes (BitmapOr) and makes it filter every customer; the
            # matches are few (a 4-digit 尾号 hits ~1 in 10,000 numbers), see docs/performance.md.
            phone_ids = list(
                Contact.objects.filter(_prefix("phone_rev", digits[::-1]))
                .order_by()
                .values_list("customer_id", flat=True)
                .distinct()[:PHONE_MATCH_LIMIT]
            )
            if phone_ids:
                match |= Q(pk__in=phone_ids)
        queryset = queryset.filter(match)
    if tier:
        queryset = queryset.filter(tier=tier)
    if kind:
        queryset = queryset.filter(kind=kind)
    if segment:
        queryset = queryset.filter(segments__code=segment)
    if account_agent is not None:
        queryset = queryset.filter(account_agent_id=account_agent)
    if city:
        queryset = queryset.filter(city=city)
    return queryset.select_related("account_agent").prefetch_related(
        "segments", Prefetch("contacts", queryset=Contact.objects.order_by("-is_primary", "id"))
    )


@dataclass(frozen=True)
class ContactView:
    """A contact as a given viewer may see it: masked unless ``revealed``."""

    public_id: str
    name: str
    title: str
    phone: str
    email: str
    wechat_id: str
    preferred_channel: str
    preferred_channel_label: str
    quiet_hours: str
    is_primary: bool
    revealed: bool


def contact_view(contact: Contact, *, reveal: bool) -> ContactView:
    phone = display_phone(contact.phone)
    quiet = ""
    if contact.quiet_hours_start and contact.quiet_hours_end:
        quiet = f"{contact.quiet_hours_start:%H:%M}–{contact.quiet_hours_end:%H:%M}"
    return ContactView(
        public_id=contact.public_id,
        name=contact.name if reveal else mask_name(contact.name),
        title=contact.title,
        phone=phone if reveal else mask_phone(phone),
        email=contact.email if reveal else (mask_email(contact.email) if contact.email else ""),
        wechat_id=contact.wechat_id
        if reveal
        else (mask_name(contact.wechat_id) if contact.wechat_id else ""),
        preferred_channel=contact.preferred_channel,
        preferred_channel_label=str(contact.get_preferred_channel_display()),
        quiet_hours=quiet,
        is_primary=contact.is_primary,
        revealed=reveal,
    )


def customer_address(customer: Customer, *, reveal: bool) -> str:
    return customer.address if reveal else mask_address(customer.address)


def customer_detail(user: Any, public_id: str) -> Customer:
    from kefu.customers.access import access_customer

    customer = access_customer(user, public_id)
    return (
        Customer.objects.select_related("account_agent")
        .prefetch_related(
            "segments",
            "notes__author",
            Prefetch("contacts", queryset=Contact.objects.order_by("-is_primary", "id")),
        )
        .get(pk=customer.pk)
    )


def customer_history(customer: Customer, *, limit: int = 100) -> list[AuditEvent]:
    return list(
        events_for(customer, related=list(customer.contacts.all()) + list(customer.notes.all()))[:limit]
    )
