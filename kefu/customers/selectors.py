"""Reads shared by the pages and the API: search, detail, and the masked or unmasked presentation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.actors import Actor
from kefu.accounts.enums import Role
from kefu.accounts.models import User
from kefu.core.audit import events_for
from kefu.core.errors import ValidationFailed
from kefu.core.masking import mask_address, mask_email, mask_name, mask_phone
from kefu.core.models import AuditEvent
from kefu.core.pagination import DEFAULT_LIMIT, Page, keyset_page
from kefu.core.phones import display_phone, normalize_phone
from kefu.core.ratelimit import limit_user
from kefu.customers import services
from kefu.customers.access import may_view_personal_data, visible_customers
from kefu.customers.enums import CustomerKind, Tier
from kefu.customers.models import Contact, Customer

# Prefix matches are written as ranges so both SQLite and PostgreSQL use the btree index
# (Django's startswith becomes LIKE … ESCAPE, which SQLite cannot serve from an index).
_PREFIX_END = "\U0010ffff"
# Most customers a phone search (whole number or 尾号) returns; type more digits to narrow it.
PHONE_MATCH_LIMIT = 1000
# The trailing digits a role without personal-data access may search by (尾号): exactly four.
LAST_DIGITS = 4


def _prefix(field: str, value: str) -> Q:
    return Q(**{f"{field}__gte": value, f"{field}__lt": value + _PREFIX_END})


def _phone_match(user: Actor | AnonymousUser, q: str) -> Q | None:
    """How ``q`` (as typed: ``021 6888 1234``, ``+86 138…``, ``5678``) matches contact phones, or
    None when it is no phone query. With ``customers.view_personal_data``: the whole number, or any
    trailing 4+ digits (尾号). Without it, only the whole number or exactly its last four digits:
    suffixes of other lengths would let someone rebuild a masked number digit by digit."""
    digits = "".join(c for c in q if c.isdigit())
    if len(digits) < 4 or len(digits) < len(q.replace(" ", "").replace("-", "").lstrip("+")):
        return None
    try:
        e164 = normalize_phone(q)
    except ValidationFailed:
        e164 = ""
    whole = Q(phone=e164) if e164 else None
    if may_view_personal_data(user):
        suffix = _prefix("phone_rev", digits[::-1])
        return suffix | whole if whole is not None else suffix
    if len(digits) == LAST_DIGITS:
        return _prefix("phone_rev", digits[::-1])
    return whole


def _phone_customer_ids(user: Actor | AnonymousUser, q: str) -> list[int]:
    """Customers with a contact phone matching ``q`` (:func:`_phone_match`). Resolved to ids up front:
    an ``IN (subquery)`` inside an OR stops PostgreSQL from combining indexes and makes it filter every
    customer. A role without personal-data access is rate-limited (``KEFU_PHONE_LOOKUP_RATE``, 429) and
    each of its lookups is written to the audit log, matched or not."""
    match = _phone_match(user, q)
    if match is None or not isinstance(user, User):  # no one else sees any customer
        return []
    masked = not may_view_personal_data(user)
    if masked:
        limit_user(
            user,
            group="phone-lookup",
            rate=settings.KEFU_PHONE_LOOKUP_RATE,
            message=_("按电话号码查找过于频繁，请稍后再试"),
        )
    ids = list(
        Contact.objects.filter(match)
        .order_by()
        .values_list("customer_id", flat=True)
        .distinct()[:PHONE_MATCH_LIMIT]
    )
    if masked:
        services.record_phone_lookup(actor=user, query=q, matches=len(ids))
    return ids


def _filtered(
    user: Actor | AnonymousUser, *, tier: str, kind: str, segment: str, account_agent: int | None, city: str
) -> QuerySet[Customer]:
    queryset = visible_customers(user)
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
    return queryset


_CUSTOMER_NO_LIKE = re.compile(r"^[A-Za-z]{1,6}[-_]?\d{2,}$")
_PHONE_LIKE = re.compile(r"^\+?[\d\s-]{7,}$")


def _q_branches(user: Actor | AnonymousUser, q: str) -> list[Q]:
    """The ways ``q`` can match: name contains it, customer number starts with it, a contact phone.

    A query shaped like a customer number (``KH00123``) or a phone number (7+ digits) is not also
    looked for inside names: that would scan every name for a string no company is called, and it is
    the one branch no index serves (docs/performance.md)."""
    branches = [_prefix("customer_no", q)]
    if not (_CUSTOMER_NO_LIKE.match(q) or _PHONE_LIKE.match(q)):
        # Chinese has no case: a plain LIKE skips UPPER() on every row (a 2-character miss on
        # PostgreSQL, which no trigram can serve, scans in 14 ms instead of 31 ms).
        branches.append(Q(name__contains=q) if q.upper() == q.lower() else Q(name__icontains=q))
    if q.upper() != q:  # customer numbers are usually upper case; "kh0012" should find KH0012…
        branches.append(_prefix("customer_no", q.upper()))
    phone_ids = _phone_customer_ids(user, q)
    if phone_ids:
        branches.append(Q(pk__in=phone_ids))
    return branches


def _shaped(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    return queryset.select_related("account_agent").prefetch_related(
        "segments", Prefetch("contacts", queryset=Contact.objects.order_by("-is_primary", "id"))
    )


def customer_search(
    user: Actor | AnonymousUser,
    *,
    q: str = "",
    tier: str = "",
    kind: str = "",
    segment: str = "",
    account_agent: int | None = None,
    city: str = "",
) -> QuerySet[Customer]:
    """Customers the user may see matching the filters, as one queryset (exports walk all of it).
    ``q`` matches the name (contains), the customer number (prefix) or a contact phone: a whole
    number, or its last 4+ digits (尾号). Pages of it come from :func:`customer_page`."""
    queryset = _filtered(user, tier=tier, kind=kind, segment=segment, account_agent=account_agent, city=city)
    q = q.strip()
    if q:
        match = Q()
        for branch in _q_branches(user, q):
            match |= branch
        queryset = queryset.filter(match)
    return _shaped(queryset)


def customer_page(
    user: Actor | AnonymousUser,
    *,
    q: str = "",
    tier: str = "",
    kind: str = "",
    segment: str = "",
    account_agent: int | None = None,
    city: str = "",
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[Customer]:
    """One page (newest first) of :func:`customer_search`. With ``q``, each way of matching (customer
    number range, phone ids, an early-stopping name scan) runs on its own index: ``keyset_page(any_of=…)``.
    Measured in docs/performance.md."""
    base = _shaped(
        _filtered(user, tier=tier, kind=kind, segment=segment, account_agent=account_agent, city=city)
    )
    q = q.strip()
    return keyset_page(base, cursor=cursor, limit=limit, any_of=(lambda: _q_branches(user, q)) if q else None)


# --- the masking policy: every page, API response and export that shows personal data asks here ----
#
# What is masked (docs/security.md "Masking policy"): contact names, phones, e-mail, WeChat ids and the
# customer's address, unless the viewer may see personal data (``access.may_view_personal_data``: roles
# with ``customers.view_personal_data``, and portal users for their own organization). Never masked: a
# customer's own name — for a consumer (个人客户) that is the person's name, and the contact who is that
# consumer carries it too. Lists are masked for everyone; unmasked views are logged by the caller
# (``services.record_pii_view``), and a phone number shown through a reveal is logged with its reason.


def contact_name(name: str, *, reveal: bool, customer: Customer | None) -> str:
    """A contact's name as shown: masked unless ``reveal``, except the consumer's own name."""
    if reveal or not name:
        return name
    if (
        customer is not None
        and customer.kind == CustomerKind.CONSUMER
        and name.strip() == customer.name.strip()
    ):
        return name
    return mask_name(name)


def phone_shown(e164: str, *, reveal: bool) -> str:
    """A phone number in national format, masked unless ``reveal``."""
    phone = display_phone(e164)
    return phone if reveal else mask_phone(phone)


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


def contact_view(contact: Contact, *, reveal: bool, customer: Customer | None = None) -> ContactView:
    """``contact`` as shown; ``customer`` is its customer when the caller holds it (else read from
    the contact, cached when the contacts came through the customer)."""
    quiet = ""
    if contact.quiet_hours_start and contact.quiet_hours_end:
        quiet = f"{contact.quiet_hours_start:%H:%M}–{contact.quiet_hours_end:%H:%M}"
    return ContactView(
        public_id=contact.public_id,
        name=contact.name
        if reveal
        else contact_name(contact.name, reveal=False, customer=customer or contact.customer),
        title=contact.title,
        phone=phone_shown(contact.phone, reveal=reveal),
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


def customer_detail(user: Actor | AnonymousUser, public_id: str) -> Customer:
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


# --- account agents and first contacts (the role home pages and the team board) ----------------------


def first_contacts_due(
    *, agents: QuerySet[User] | list[User] | None = None, limit: int = 20
) -> QuerySet[Customer]:
    """Assigned customers not yet contacted, soonest deadline first."""
    queryset = Customer.objects.filter(is_active=True, first_contacted_at=None).exclude(
        first_contact_due_at=None
    )
    if agents is not None:
        queryset = queryset.filter(account_agent__in=agents)
    return queryset.select_related("account_agent").order_by("first_contact_due_at", "id")[:limit]


def first_contact_counts(*, agents: Any = None) -> dict[str, int]:
    now = timezone.now()
    queryset = Customer.objects.filter(is_active=True, first_contacted_at=None).exclude(
        first_contact_due_at=None
    )
    if agents is not None:
        queryset = queryset.filter(account_agent__in=agents)
    return queryset.aggregate(
        pending=Count("id"), overdue=Count("id", filter=Q(first_contact_due_at__lt=now))
    )


def customer_counts() -> dict[str, int]:
    return Customer.objects.filter(is_active=True).aggregate(
        total=Count("id"),
        vip=Count("id", filter=Q(tier=Tier.VIP)),
        core=Count("id", filter=Q(tier=Tier.CORE)),
        standard=Count("id", filter=Q(tier=Tier.STANDARD)),
        unassigned=Count("id", filter=Q(account_agent=None)),
    )


def agent_load() -> QuerySet[User]:
    """Agents with their number of account customers (the team board, a manager's home)."""
    return (
        User.objects.filter(role=Role.AGENT, is_active=True)
        .annotate(customers=Count("account_customers", filter=Q(account_customers__is_active=True)))
        .prefetch_related("skills")
        .order_by("-customers", "full_name")
    )
