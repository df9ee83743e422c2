"""Creating a ticket, from any entry path (agent form, portal, API, e-mail, split, follow-up)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.core import audit
from kefu.core.errors import ValidationFailed
from kefu.core.events import publish
from kefu.core.sequences import next_value
from kefu.customers.models import Contact, Customer
from kefu.tickets import text
from kefu.tickets.enums import AuthorKind, Channel, Priority, StatusCategory, TicketType
from kefu.tickets.events import TicketCreated, about
from kefu.tickets.models import Category, Status, Ticket, TicketWaybill
from kefu.tickets.services.common import check_choice, default_status
from kefu.tickets.services.rules import customer_ticket_errors, handling_errors, validate_custom_fields
from kefu.tickets.services.tags import clean_tags, tags_named
from kefu.tickets.waybills import waybills_clean

TICKET_FIELDS = (
    "subject",
    "description",
    "channel",
    "type",
    "category",
    "priority",
    "customer",
    "contact",
    "team",
    "assignee",
    "status",
    "custom_fields",
)


def new_ticket_number(now: dt.datetime | None = None) -> str:
    """``T`` + local date (yymmdd) + a per-day counter: ``T2611250001`` — short enough to say on the phone."""
    day = timezone.localtime(now or timezone.now()).strftime("%y%m%d")
    return f"T{day}{next_value(f'ticket:{day}'):04d}"


@dataclass(frozen=True)
class TicketData:
    """A new ticket as an entry path gives it. Each path builds it in one place: the API
    (``api.tickets._ticket_data``), the console's forms (``views.ticket_data_from``: the new-ticket page
    and the call log, whose ticket ``calls.call_log_create`` gives the caller), the portal's form
    (``portal_views.portal_ticket_new``), a ticket continuing another (:meth:`continuing`: a split, a
    follow-up), the demo (``demo.scenes.story_ticket``). Frozen: a path never changes another's."""

    subject: str
    channel: str
    type: str
    description: str = ""
    category: Category | None = None
    priority: str = Priority.NORMAL
    customer: Customer | None = None
    contact: Contact | None = None
    team: Team | None = None
    assignee: User | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)
    tags: Sequence[str] = ()
    waybills: Sequence[str] = ()

    @classmethod
    def continuing(
        cls,
        origin: Ticket,
        *,
        subject: str,
        description: str,
        category: Category | None,
        custom_fields: Mapping[str, Any],
        assignee: User | None = None,
        waybills: Sequence[str] = (),
    ) -> TicketData:
        """A ticket continuing ``origin`` (a split, a follow-up): the same customer, contact, channel,
        type, priority and team. Create it with ``ticket_create(…, origin=origin)``."""
        return cls(
            subject=subject,
            description=description,
            channel=origin.channel,
            type=origin.type,
            category=category,
            priority=origin.priority,
            customer=origin.customer,
            contact=origin.contact,
            team=origin.team,
            assignee=assignee,
            custom_fields=dict(custom_fields),
            waybills=waybills,
        )


def ticket_create(
    *, actor: Any, data: TicketData, author_kind: str = AuthorKind.AGENT, origin: Ticket | None = None
) -> Ticket:
    """Validate and create a ticket with its waybills, tags and audit entry; link it to an open problem
    whose rule it matches. Checks and reads come first, outside the write transaction: on SQLite that
    transaction holds the database's write lock, so it holds only the writes.

    Staff file it for any team and assign it among :func:`assignable_users`; a portal user sets only
    what :func:`customer_ticket_errors` allows. A ticket continuing ``origin`` (a split, a follow-up)
    keeps its assignee: that was not chosen now."""
    errors: dict[str, list[str]] = {}
    subject = data.subject.strip()
    if not subject:
        errors["subject"] = [_("主题不能为空")]
    elif len(subject) > 200:
        errors["subject"] = [_("主题不能超过 200 字")]
    check_choice(data.channel, Channel, "channel", errors)
    check_choice(data.type, TicketType, "type", errors)
    check_choice(data.priority, Priority, "priority", errors)
    if (
        data.contact is not None
        and data.customer is not None
        and data.contact.customer_id != data.customer.pk
    ):
        errors["contact"] = [_("联系人不属于该客户")]
    if getattr(actor, "is_portal_user", False):
        given = [
            name
            for name, value in (
                ("priority", data.priority != Priority.NORMAL),
                ("team", data.team),
                ("assignee", data.assignee),
                ("tags", data.tags),
            )
            if value
        ]
        errors.update(customer_ticket_errors(type=data.type, given=given))
    else:
        errors.update(
            handling_errors(
                actor=actor,
                team=data.team or (data.category.default_team if data.category else None),
                # A new ticket may be filed for any team: its creator keeps seeing it (access.reach).
                # Moving an existing ticket is what movable_teams limits.
                team_chosen=False,
                assignee=data.assignee if data.assignee != getattr(origin, "assignee", None) else None,
            )
        )
    custom: dict[str, Any] = {}
    try:
        custom = validate_custom_fields(data.category, data.custom_fields)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    waybills: list[str] = []
    try:
        waybills = waybills_clean(data.waybills)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    tag_names: list[str] = []
    try:
        tag_names = clean_tags(data.tags)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(_("工单信息有误"), fields=errors)
    status = default_status(StatusCategory.OPEN if data.assignee else StatusCategory.NEW)
    description = data.description.strip()
    checked = _CheckedTicket(
        subject=subject,
        description=description,
        customer=data.customer or (data.contact.customer if data.contact else None),
        status=status,
        custom=custom,
        # Tokenised before the insert: a new ticket has no messages yet (one write instead of two).
        search_text=text.tokens(subject, description, " ".join(waybills)),
        waybills=waybills,
        tag_names=tag_names,
    )
    with transaction.atomic():
        return _insert_ticket(actor=actor, data=data, checked=checked)


@dataclass(frozen=True)
class _CheckedTicket:
    """A new ticket's validated values, ready to write."""

    subject: str
    description: str
    customer: Customer | None
    status: Status
    custom: dict[str, Any]
    search_text: str  # without the number, which is taken inside the write transaction
    waybills: list[str]
    tag_names: list[str]


def _insert_ticket(*, actor: Any, data: TicketData, checked: _CheckedTicket) -> Ticket:
    number = new_ticket_number()
    ticket = Ticket.objects.create(
        number=number,
        subject=checked.subject,
        description=checked.description,
        channel=data.channel,
        type=data.type,
        category=data.category,
        priority=data.priority,
        customer=checked.customer,
        contact=data.contact,
        # No team given (portal, API): the category's default team, so the ticket reaches agents.
        team=data.team
        or (data.category.default_team if data.category and data.category.default_team_id else None),
        assignee=data.assignee,
        status=checked.status,
        status_category=checked.status.category,
        custom_fields=checked.custom,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        search_text=text.merged(text.tokens(number), checked.search_text),
    )
    # A new ticket has no tags or waybills to merge with: plain inserts, and the rows are remembered
    # so that serializing the new ticket reads no more.
    waybill_rows = TicketWaybill.objects.bulk_create(
        [TicketWaybill(ticket=ticket, waybill_no=w) for w in checked.waybills]
    )
    tags = tags_named(checked.tag_names)
    Ticket.tags.through.objects.bulk_create([Ticket.tags.through(ticket=ticket, tag=tag) for tag in tags])
    _remember(ticket, tags=tags, waybills=waybill_rows)
    audit.record_created(actor=actor, obj=ticket, fields=TICKET_FIELDS)
    # Subscribers: incident rules link it (services.incidents), the assignee is told (notices).
    publish(
        TicketCreated(
            **about(ticket, actor),
            description=ticket.description,
            custom_fields=ticket.custom_fields,
            channel=ticket.channel,
            type=ticket.type,
            category_id=ticket.category_id,
            priority=ticket.priority,
            status_id=ticket.status_id,
            status_category=ticket.status_category,
            team_id=ticket.team_id,
            assignee_id=ticket.assignee_id,
            customer_id=ticket.customer_id,
            waybills=tuple(checked.waybills),
        )
    )
    return ticket


def _remember(ticket: Ticket, **related: list[Any]) -> None:
    """Put rows just written into the ticket's prefetch cache (as ``prefetch_related`` would), so that
    ``ticket.tags.all()`` and the like read no more."""
    cache = ticket.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in related.items():
        queryset = getattr(ticket, name).all()
        queryset._result_cache = rows
        queryset._prefetch_done = True
        cache[name] = queryset
