"""Who may see which ticket. One predicate decides what a user may list, count, search and open, and
which tickets any write may reach (a problem's incidents, a merge or link target, an automatic rule), so
a list and a detail check can never disagree.

A staff user without the wide scope (agents, leads) sees a ticket when they are a member of its team,
its assignee, its creator, one of its watchers, the account agent (专属客服) of its customer, or the
owner of a work order (协作单) on it. Managers, QA, analysts and administrators see every ticket (QA and
analysts read only); a portal user sees its organisation's tickets.

The personal sets (teams, watched tickets, work orders, account customers) are read in one query per
request and written into the SQL as literal ids (:class:`InIds`): every branch of the ``OR`` is then a
test of the ticket's own columns, so a queue is still driven by its index and tests the scope per row,
and when the scope itself must drive, both planners can combine one index per branch. A subquery in the
``OR`` would make them walk every ticket (docs/performance.md has the measurements). One exception, on
SQLite only: for a user of no team the personal branches are ``id IN (SELECT id … UNION ALL …)``, since
SQLite walks every ticket in the queue's order rather than combine one index per branch of the ``OR``."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Case, CharField, Expression, F, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from kefu.accounts.enums import Role
from kefu.accounts.models import TeamMembership, User
from kefu.core.errors import NotFound, PermissionDenied
from kefu.customers.models import Customer
from kefu.tickets.enums import SUBTASK_CLOSED
from kefu.tickets.models import Subtask, Ticket

NOTHING = Q(pk__in=[])
# Above this many account customers the scope names them by a subquery instead of literal ids: a list
# of thousands costs more to send and plan than the subquery (PostgreSQL, 5,555 customers: p50 216 ms
# with the subquery against 349 ms with literals on a loaded machine), while a short list lets the
# planner use the customer index when the scope itself must drive the query (docs/performance.md).
ACCOUNT_IDS_LITERAL_MAX = 1000


@dataclass(frozen=True)
class Reach:
    """What a staff user reaches personally, besides the tickets assigned to or created by them."""

    team_ids: tuple[int, ...]
    watched: tuple[int, ...]  # ticket ids
    work_orders: tuple[int, ...]  # ids of tickets with a work order assigned to the user
    open_work_orders: tuple[int, ...]  # … of which one is still open (not done or cancelled)
    accounts: tuple[int, ...]  # ids of the customers whose account agent the user is (at most the first
    # ACCOUNT_IDS_LITERAL_MAX + 1: more are named by a subquery, see ticket_scope)


def reach(user: Any) -> Reach:
    """The user's :class:`Reach`, read in one query (a ``UNION ALL`` of four small index reads) once per
    user object — a request's user lives one request, so a change shows from the next request on."""
    cached: Reach | None = getattr(user, "_kefu_reach", None)
    if cached is not None:
        return cached

    def tagged(tag: str) -> Value:
        return Value(tag, output_field=CharField())

    work_order = Case(
        When(status__in=sorted(SUBTASK_CLOSED), then=tagged("s")),
        default=tagged("o"),
        output_field=CharField(),
    )
    # No ORDER BY in a compound statement: each part drops its model's default ordering.
    rows = (
        TeamMembership.objects.filter(user=user)
        .order_by()
        .values_list("team_id", tagged("t"))
        .union(
            Ticket.watchers.through.objects.filter(user=user)
            .order_by()
            .values_list("ticket_id", tagged("w")),
            Subtask.objects.filter(assignee=user).order_by().values_list("ticket_id", work_order),
            # Past ACCOUNT_IDS_LITERAL_MAX the scope names the customers by a subquery, so no more ids
            # than that plus one are read (an agent may have thousands: 5,555 rows cost ~15-30 ms).
            Customer.objects.filter(
                account_agent=user,
                pk__in=Customer.objects.filter(account_agent=user)
                .order_by()
                .values("pk")[: ACCOUNT_IDS_LITERAL_MAX + 1],
            )
            .order_by()
            .values_list("pk", tagged("c")),
            all=True,
        )
    )
    sets: dict[str, set[int]] = {"t": set(), "w": set(), "s": set(), "o": set(), "c": set()}
    for pk, key in rows:
        sets[key].add(pk)
    cached = Reach(
        team_ids=tuple(sorted(sets["t"])),
        watched=tuple(sorted(sets["w"])),
        work_orders=tuple(sorted(sets["s"] | sets["o"])),
        open_work_orders=tuple(sorted(sets["o"])),
        accounts=tuple(sorted(sets["c"])),
    )
    user._kefu_reach = cached
    return cached


def team_ids(user: Any) -> tuple[int, ...]:
    """The ids of the user's teams (from :func:`reach`)."""
    return reach(user).team_ids


class InIds(Expression):
    """``column IN (1, 2, 3)`` with the ids written into the SQL: no bound parameter per id (SQLite
    allows 32,766 in a statement; an account agent may have thousands of customers), and the planner
    sees the values. The ids are integers (``int()`` of each), so nothing else can reach the SQL."""

    output_field = BooleanField()

    def __init__(self, column: str, ids: Iterable[int]) -> None:
        super().__init__()
        self.column: Any = F(column)
        self.ids = [int(pk) for pk in ids]

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.column)
        if not self.ids:
            return "1 = 0", []
        return f"{sql} IN ({', '.join(map(str, self.ids))})", params


def ticket_scope(user: Any) -> Q:
    """The tickets ``user`` may see, as a filter (the rule is in the module docstring)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if getattr(user, "is_portal_user", False):
        account = getattr(user, "portal_account", None)
        return Q(customer_id=account.customer_id) if account else NOTHING
    if not user.has_perm("tickets.view_ticket"):
        return NOTHING
    if sees_every_ticket(user):
        return Q()
    mine = reach(user)
    tickets = sorted({*mine.watched, *mine.work_orders})
    branches = [Q(assignee=user), Q(created_by=user)]
    if tickets:
        branches.append(Q(InIds("id", tickets)))
    if len(mine.accounts) > ACCOUNT_IDS_LITERAL_MAX:
        branches.append(Q(customer_id__in=Customer.objects.filter(account_agent=user).values("pk")))
    elif mine.accounts:
        branches.append(Q(InIds("customer_id", mine.accounts)))
    if mine.team_ids:
        return reduce(operator.or_, branches, Q(InIds("team_id", mine.team_ids)))
    if connection.vendor == "sqlite":
        # A user of no team: only the personal branches can drive, and SQLite does not combine one index
        # per branch of an OR under the queue's ORDER BY … LIMIT — it walked every ticket (5.5 s at
        # 390,000). As ``id IN (SELECT id … UNION ALL …)`` each branch is one index read and the small
        # set drives (44 ms). With a team the OR stays: the union would be read whole (2.5 s for the
        # bench agent's "all"), while the team's tickets fill a page at once (docs/performance.md).
        parts = [Ticket.objects.filter(branch).order_by().values("pk") for branch in branches]
        return Q(pk__in=parts[0].union(*parts[1:], all=True))
    return reduce(operator.or_, branches)  # PostgreSQL combines the branches' indexes (BitmapOr)


def sees_every_ticket(user: Any) -> bool:
    """Staff with the wide scope: managers, QA, analysts, administrators (``tickets.view_all_tickets``)."""
    return bool(
        not getattr(user, "is_portal_user", False)
        and (user.is_superuser or user.has_perm("tickets.view_all_tickets"))
    )


def visible_tickets(user: Any) -> QuerySet[Ticket]:
    return Ticket.objects.filter(ticket_scope(user))


def may_see(user: Any, ticket: Ticket | int) -> bool:
    """Whether ``user`` may see ``ticket`` (or the ticket of that id): one query, plus the user's reach
    once per request."""
    return visible_tickets(user).filter(pk=ticket if isinstance(ticket, int) else ticket.pk).exists()


def users_who_may_see(ticket: Ticket | int, users: Iterable[Any]) -> list[Any]:
    """Those of ``users`` who may see ``ticket`` (or the ticket of that id), in the order given: whom a
    notice about the ticket (a mention, an assignment) may go to. A query per user — for the handful a
    notice names."""
    return [user for user in users if may_see(user, ticket)]


def access_ticket(
    user: Any, ref: str, *, lock: bool = False, queryset: QuerySet[Ticket] | None = None
) -> Ticket:
    """Fetch (and with ``lock``, row-lock) a ticket the user may see, by public id or ticket number;
    404 otherwise, with no hint that it exists. ``queryset`` shapes the read (related rows to join)."""
    queryset = (Ticket.objects.all() if queryset is None else queryset).filter(ticket_scope(user))
    if lock:
        queryset = queryset.select_for_update()
    field = "number" if ref[:1] == "T" and ref[1:].isdigit() else "public_id"
    # Not .first(): its ORDER BY id is no use on a unique key, and compiling it hashes every selected
    # column (~10-20 ms for the detail's eight joined tables on this machine under load).
    ticket = next(iter(queryset.filter(**{field: ref}).order_by()[:1]), None)
    if ticket is None:
        raise NotFound(_("工单不存在"))
    return ticket


def require_agent_write(user: Any) -> None:
    """Staff who may change tickets (not QA or analysts, who read only; not portal users)."""
    if getattr(user, "is_portal_user", False) or not user.has_perm("tickets.change_ticket"):
        raise PermissionDenied(_("没有权限修改工单"))


def is_read_only_role(user: Any) -> bool:
    return getattr(user, "role", None) in (Role.QA, Role.ANALYST)


def has_wide_scope(user: Any) -> bool:
    """Whether ``user`` works on every team's tickets (managers, administrators) rather than on their
    own teams' only: such a user may hand a ticket to any team and assign it to anyone who handles
    tickets. Callers that are not users (the system, the bot) act for the whole desk."""
    if not isinstance(user, User):
        return True
    return bool(user.is_superuser or user.has_perm("tickets.view_all_tickets"))
