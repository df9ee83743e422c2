"""Reads shared by the agent console, the portal and the API: queues, filters, search, the timeline."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import BooleanField, Count, Exists, Expression, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy, pgettext_lazy

from kefu.core.models import AuditAction, AuditEvent
from kefu.customers.enums import Tier
from kefu.customers.models import Customer
from kefu.tickets import text, waybills
from kefu.tickets.access import (
    InIds,
    access_ticket,
    is_read_only_role,
    reach,
    sees_every_ticket,
    team_ids,
    visible_tickets,
)
from kefu.tickets.enums import ACTIVE_CATEGORIES, StatusCategory, SubtaskStatus, Visibility
from kefu.tickets.models import Message, Subtask, Ticket

# The console's queues: key → (label, filter for a given user). Counts come from the same filters.
QUEUES: dict[str, Any] = {
    "mine": gettext_lazy("我的工单"),
    "team": gettext_lazy("本组工单"),
    "unassigned": gettext_lazy("未分配"),
    "vip": gettext_lazy("VIP 客户"),
    "waiting_on_me": gettext_lazy("等待我处理"),
    "due_soon": gettext_lazy("即将到期"),
    "work_orders": gettext_lazy("我的协作单"),
    "recent": pgettext_lazy("ticket queue", "最近更新"),
    "all": gettext_lazy("全部"),
}


# A work order is due soon when its deadline is less than this far away (or has passed).
DUE_SOON = dt.timedelta(hours=24)
SUBTASK_UNFINISHED = (SubtaskStatus.OPEN, SubtaskStatus.IN_PROGRESS)


def queue_filter(user: Any, queue: str) -> Q:
    """The tickets of a queue (before the access scope). Every active queue says
    ``status_category IN ACTIVE`` literally, so the partial indexes on active tickets serve it."""
    if queue in ("recent", "all"):
        return Q()
    active = Q(IsActive())
    if queue == "mine":
        return active & Q(assignee=user)
    if queue == "team":
        return active & Q(team_id__in=team_ids(user))
    if queue == "unassigned":
        return active & Q(assignee=None)
    if queue == "vip":
        # EXISTS, not a join: the list walks the active index and looks each customer up by key; the
        # counts need not join every customer (a hash of 100,000 rows on PostgreSQL).
        return active & Q(Exists(Customer.objects.filter(pk=OuterRef("customer_id"), tier=Tier.VIP)))
    if queue == "waiting_on_me":
        # Mine and the ball is in our court: new or open (not waiting on the customer or a carrier).
        return active & Q(assignee=user, status_category__in=(StatusCategory.NEW, StatusCategory.OPEN))
    if queue == "due_soon":
        # Mine with an unfinished work order due within DUE_SOON (or overdue): the few such work orders
        # come from their (status, deadline) index, not from a probe per active ticket.
        due = Subtask.objects.filter(
            status__in=SUBTASK_UNFINISHED, deadline__lt=timezone.now() + DUE_SOON
        ).values("ticket_id")
        return active & Q(assignee=user, pk__in=due)
    if queue == "work_orders":
        # Tickets on which a work order (协作单) assigned to me is still open: the other departments'
        # queue. Literal ids, read with the access scope's sets (access.reach).
        return active & Q(InIds("id", reach(user).open_work_orders))
    raise KeyError(queue)


@dataclass
class TicketFilters:
    """Filters any list of tickets accepts (console, saved views, API)."""

    status_category: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    type: list[str] = field(default_factory=list)
    category: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    customer: str = ""  # customer public id
    assignee: int | None = None
    team: int | None = None
    tags: list[str] = field(default_factory=list)
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    updated_since: dt.datetime | None = None
    waybill: str = ""
    q: str = ""


def apply_filters(
    queryset: QuerySet[Ticket], filters: TicketFilters, *, public_only: bool = False
) -> QuerySet[Ticket]:
    """``filters`` applied; ``public_only`` (portal users): ``q`` searches public text only."""
    if filters.status_category:
        queryset = queryset.filter(status_category__in=filters.status_category)
    if filters.status:
        queryset = queryset.filter(status__code__in=filters.status)
    if filters.type:
        queryset = queryset.filter(type__in=filters.type)
    if filters.category:
        queryset = queryset.filter(category__code__in=filters.category)
    if filters.priority:
        queryset = queryset.filter(priority__in=filters.priority)
    if filters.channel:
        queryset = queryset.filter(channel__in=filters.channel)
    if filters.customer:
        queryset = queryset.filter(customer__public_id=filters.customer)
    if filters.assignee is not None:
        queryset = queryset.filter(assignee_id=filters.assignee)
    if filters.team is not None:
        queryset = queryset.filter(team_id=filters.team)
    for tag in filters.tags:
        queryset = queryset.filter(tags__name=tag)
    if filters.created_from:
        queryset = queryset.filter(created_at__gte=filters.created_from)
    if filters.created_to:
        queryset = queryset.filter(created_at__lt=filters.created_to)
    if filters.updated_since:
        queryset = queryset.filter(updated_at__gte=filters.updated_since)
    if filters.waybill:
        queryset = queryset.filter(waybills__waybill_no=waybills.normalized(filters.waybill))
    if filters.q.strip():
        queryset = queryset.filter(search_q(filters.q, public_only=public_only))
    return queryset


# SQLite: a full-text query matching at least this many tickets is tested row by row (HasAllTokens).
FTS_DRIVE_LIMIT = 10_000
# PostgreSQL: a number-like token (digits, 6+ characters) matching at most this many tickets is
# looked up before the list query (HasAllTokens).
NUMBER_TOKEN = re.compile(r"(?=.*\d)[0-9a-z_-]{6,}")
FEW_HITS = 1000


class IsActive(Expression):
    """``status_category IN ('new', 'open', 'pending')`` with the values written into the SQL, as in the
    partial indexes' ``WHERE`` (models.ACTIVE_Q): SQLite uses a partial index only when the query
    states its condition, and a bound parameter does not count."""

    output_field = BooleanField()

    def __init__(self) -> None:
        super().__init__()
        self.column: Any = F("status_category")

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.column)
        values = ", ".join(
            f"'{value}'" for value in ACTIVE_CATEGORIES
        )  # fixed enum values, lowercase letters
        return f"{sql} IN ({values})", params


class HasAllTokens(Expression):
    """True when every one of ``tokens`` is one of the ticket's ``search_text`` tokens (whole tokens).

    Served by an index on both databases (migration tickets 0003): on PostgreSQL the GIN index on
    ``string_to_array(search_text, ' ')``; on SQLite the FTS5 table ``tickets_ticket_fts`` (ascii
    tokenizer: one FTS token per jieba token). Elsewhere a padded ``LIKE`` per token, with the same
    result."""

    output_field = BooleanField()

    def __init__(self, tokens: list[str]) -> None:
        super().__init__()
        self.tokens = list(tokens)
        self.pk: Any = F("pk")
        self.text: Any = F("search_text")

    def get_source_expressions(self) -> list[Any]:
        return [self.pk, self.text]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.pk, self.text = exprs

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        # Tokens are alphanumeric (text.tokens), so they hold no LIKE wildcards.
        sql, params = compiler.compile(self.text)
        padded = f"(' ' || {sql} || ' ')"
        return " AND ".join(f"{padded} LIKE %s" for _ in self.tokens), [
            value for token in self.tokens for value in (*params, f"% {token} %")
        ]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        match = " ".join(f'"{token}"' for token in self.tokens)
        # ``id IN (SELECT rowid … MATCH …)`` reads every match before the list's order applies: cheap for
        # a rare word, 0.3–1 s for a word in a third of a million tickets. SQLite has no statistics to
        # choose, so ask FTS5 how many tickets match (counting stops at FTS_DRIVE_LIMIT): below it the
        # index drives; above it each ticket the list's own index walks is tested with LIKE, and with so
        # many matches a page fills after a few hundred rows.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM (SELECT 1 FROM tickets_ticket_fts WHERE tickets_ticket_fts MATCH %s LIMIT %s)",
                [match, FTS_DRIVE_LIMIT],
            )
            matches = cursor.fetchone()[0]
        if matches >= FTS_DRIVE_LIMIT:
            return self.as_sql(compiler, connection, **extra)
        sql, params = compiler.compile(self.pk)
        return (
            f"{sql} IN (SELECT rowid FROM tickets_ticket_fts WHERE tickets_ticket_fts MATCH %s)",  # noqa: S608 - sql is a column
            [*params, match],
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.text)
        if any(NUMBER_TOKEN.fullmatch(token) for token in self.tokens):
            # A waybill, phone or order number is in a ticket or two, but the planner estimates any
            # token it has no statistics for at ~0.2 % of the table and, sampling being random, may
            # walk the updated_at index through a million tickets looking for it (seconds). Look the
            # number up first through the GIN index and filter by id; many hits: the plain condition.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM tickets_ticket WHERE string_to_array(search_text, ' ') @> %s::text[] LIMIT %s",
                    [self.tokens, FEW_HITS + 1],
                )
                ids = [row[0] for row in cursor.fetchall()]
            if len(ids) <= FEW_HITS:
                pk_sql, pk_params = compiler.compile(self.pk)
                return f"{pk_sql} = ANY(%s)", [*pk_params, ids]
        return f"string_to_array({sql}, ' ') @> %s::text[]", [*params, self.tokens]


class HasNoInternalToken(Expression):
    """True when none of ``tokens`` is one of the ticket's ``internal_search_text`` tokens (words only
    its internal notes hold). Not indexed: it only ever narrows what :class:`HasAllTokens` found
    through its index, and the column is empty for most tickets."""

    output_field = BooleanField()

    def __init__(self, tokens: list[str]) -> None:
        super().__init__()
        self.tokens = list(tokens)
        self.text: Any = F("internal_search_text")

    def get_source_expressions(self) -> list[Any]:
        return [self.text]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.text,) = exprs

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.text)
        padded = f"(' ' || {sql} || ' ')"
        return " AND ".join(f"{padded} NOT LIKE %s" for _ in self.tokens), [
            value for token in self.tokens for value in (*params, f"% {token} %")
        ]


def search_q(q: str, *, public_only: bool = False) -> Q:
    """Full text in Chinese and English: every jieba token of ``q`` must be one of the ticket's tokens
    (subject, description, messages, waybill numbers — whole tokens, so part of a waybill number does
    not match); a ticket number matches exactly, a waybill number as typed (``SF 1234 5678 9012``) too.
    Indexed on both databases (:class:`HasAllTokens`). ``public_only`` (portal users): a word only
    internal notes hold does not match."""
    q = q.strip()
    if q[:1] in "Tt" and q[1:].isdigit():
        return Q(number=q.upper())
    number = waybills.typed_number(q)
    tokens = [number.lower()] if number else text.tokens(q).split()
    if not tokens:
        return Q()
    if public_only:
        return Q(HasAllTokens(tokens)) & Q(HasNoInternalToken(tokens))
    return Q(HasAllTokens(tokens))


def ticket_list(user: Any, *, queue: str = "all", filters: TicketFilters | None = None) -> QuerySet[Ticket]:
    """The tickets of a queue the user may see, filtered, newest activity first, shaped for a list."""
    queryset = visible_tickets(user).filter(queue_filter(user, queue)).filter(merged_into=None)
    if filters is not None:
        queryset = apply_filters(queryset, filters, public_only=getattr(user, "is_portal_user", False))
    return queryset.select_related("customer", "assignee", "team", "status", "category").order_by(
        "-updated_at", "-id"
    )


def ticket_changes(user: Any, *, since: dt.datetime | None) -> QuerySet[Ticket]:
    """Every ticket the user may see whose last change is at or after ``since`` (all without one),
    merged ones too so an integration mirroring kefu learns about the merge, shaped for the export.

    Only changes older than ``KEFU_CHANGES_SETTLE_SECONDS``: a change's time is taken before its
    transaction commits, so a reader paging through the newest changes could pass a change that is
    still committing and never see it; a settled change can no longer appear behind a reader."""
    settled = timezone.now() - dt.timedelta(seconds=settings.KEFU_CHANGES_SETTLE_SECONDS)
    return (
        apply_filters(visible_tickets(user), TicketFilters(updated_since=since))
        .filter(updated_at__lt=settled)
        .select_related("customer", "assignee", "team", "status", "category")
        .prefetch_related("tags", "waybills")
    )


def queue_counts(user: Any) -> dict[str, int]:
    """Active-ticket counts per queue, in one query over the active tickets the user may see."""
    base = visible_tickets(user).filter(IsActive(), merged_into=None)
    aggregates: dict[str, Any] = {
        key: Count("id", filter=queue_filter(user, key)) for key in QUEUES if key not in ("recent", "all")
    }
    aggregates["all"] = Count("id")
    return base.aggregate(**aggregates)


# The portal's tabs: key → (label, status categories; empty: all). The default tab holds everything
# not yet closed, so a ticket waiting for the customer's confirmation (resolved) is where the customer
# looks first; "resolved" holds only those.
PORTAL_STATES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "open": (gettext_lazy("未完成"), (*ACTIVE_CATEGORIES, StatusCategory.RESOLVED)),
    "resolved": (gettext_lazy("待您确认"), (StatusCategory.RESOLVED,)),
    "closed": (gettext_lazy("已关闭"), (StatusCategory.CLOSED,)),
    "all": (gettext_lazy("全部"), ()),
}
PORTAL_DEFAULT_STATE = "open"


def portal_state_filters(state: str, *, q: str = "") -> TicketFilters:
    """The filters of a portal tab (an unknown key is the default tab)."""
    _label, categories = PORTAL_STATES.get(state, PORTAL_STATES[PORTAL_DEFAULT_STATE])
    return TicketFilters(status_category=list(categories), q=q)


def portal_state_counts(user: Any) -> dict[str, int]:
    """The number of tickets on each portal tab, in one query over the tickets the user may see."""
    base = visible_tickets(user).filter(merged_into=None)
    return base.aggregate(
        **{
            key: Count("id", filter=Q(status_category__in=categories)) if categories else Count("id")
            for key, (_label, categories) in PORTAL_STATES.items()
        }
    )


def with_output_relations(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """What showing one ticket reads (the API's detail, the ticket page's header): joined or
    prefetched, not fetched one by one."""
    return queryset.select_related(
        "customer", "contact", "assignee", "team", "status", "category", "problem", "merged_into"
    ).prefetch_related("tags", "waybills")


def ticket_detail(user: Any, ref: str, *, page: bool = True) -> Ticket:
    """One ticket the user may see, with what it shows; ``page``: also watchers and work orders (the
    ticket page; the API's detail has neither)."""
    shaped = with_output_relations(Ticket.objects.all())
    if page:
        shaped = shaped.prefetch_related("watchers", "subtasks__assignee")
    return access_ticket(user, ref, queryset=shaped)


@dataclass(frozen=True)
class TimelineItem:
    at: dt.datetime
    kind: str  # "message" | "event"
    message: Message | None = None
    event: AuditEvent | None = None


def ticket_timeline(ticket: Ticket, *, for_customer: bool) -> list[TimelineItem]:
    """Messages, notes and audit events in one timeline, oldest first. For a customer: public messages
    only — internal notes and audit events never reach a customer path."""
    messages = ticket.messages.select_related("author").prefetch_related("attachments")
    if for_customer:
        messages = messages.filter(visibility=Visibility.PUBLIC)
        return [TimelineItem(at=m.created_at, kind="message", message=m) for m in messages]
    items = [TimelineItem(at=m.created_at, kind="message", message=m) for m in messages]
    events = AuditEvent.objects.filter(
        content_type__app_label="tickets", content_type__model="ticket", object_id=str(ticket.pk)
    ).exclude(action=AuditAction.VIEW_PII)
    items += [TimelineItem(at=e.at, kind="event", event=e) for e in events.select_related("actor")]
    return sorted(items, key=lambda item: item.at)


def customer_recent_tickets(
    user: Any, customer_id: int, *, exclude: int | None = None, limit: int = 5
) -> QuerySet[Ticket]:
    """The customer's latest tickets that ``user`` may see (the sidebar of the ticket page)."""
    queryset = visible_tickets(user).filter(customer_id=customer_id).select_related("status")
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude)
    return queryset.order_by("-created_at")[:limit]


def customer_card(user: Any, customer: Customer) -> dict[str, Any] | None:
    """The tickets' card on the customer page (``kefu.customers.cards``), for viewers who may see
    tickets: the latest and the number open, read like the queue reads them."""
    if not user.has_perm("tickets.view_ticket"):
        return None
    open_filter = TicketFilters(customer=customer.public_id, status_category=list(ACTIVE_CATEGORIES))
    return {
        "recent": list(customer_recent_tickets(user, customer.pk)),
        "open_count": ticket_list(user, filters=open_filter).count(),
        "queue_query": urlencode({"queue": "all", "customer": customer.public_id}),
        "may_create": user.has_perm("tickets.add_ticket") and not is_read_only_role(user),
        # Without the wide scope an empty card says "none you may see", not "none".
        "sees_all": sees_every_ticket(user),
    }
