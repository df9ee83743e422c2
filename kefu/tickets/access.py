"""Who may see which ticket. One predicate decides both what a user may list and what a user may
open, so a list and a detail check can never disagree."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kefu.accounts.enums import Role
from kefu.accounts.models import TeamMembership
from kefu.core.errors import NotFound, PermissionDenied
from kefu.tickets.models import Ticket

NOTHING = Q(pk__in=[])


def ticket_scope(user: Any) -> Q:
    """The tickets ``user`` may see, as a filter.

    agents: their teams' tickets and those assigned to them; leads: their teams' (and their own);
    managers, QA, analysts, admins: all (QA and analysts read-only); portal users: their
    organization's tickets."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if getattr(user, "is_portal_user", False):
        account = getattr(user, "portal_account", None)
        return Q(customer_id=account.customer_id) if account else NOTHING
    if not user.has_perm("tickets.view_ticket"):
        return NOTHING
    if user.is_superuser or user.has_perm("tickets.view_all_tickets"):
        return Q()
    return Q(team_id__in=team_ids(user)) | Q(assignee=user)


def team_ids(user: Any) -> list[int]:
    """The ids of the user's teams, read once per user object (a request's user lives one request).

    Literal ids rather than a subquery let both planners drive a queue from the team index and test
    the scope per row; with a subquery in an ``OR`` they walk every ticket."""
    cached: list[int] | None = getattr(user, "_kefu_team_ids", None)
    if cached is None:
        cached = sorted(TeamMembership.objects.filter(user=user).values_list("team_id", flat=True))
        user._kefu_team_ids = cached
    return cached


def visible_tickets(user: Any) -> QuerySet[Ticket]:
    return Ticket.objects.filter(ticket_scope(user))


def access_ticket(
    user: Any, ref: str, *, lock: bool = False, queryset: QuerySet[Ticket] | None = None
) -> Ticket:
    """Fetch (and with ``lock``, row-lock) a ticket the user may see, by public id or ticket number;
    404 otherwise, with no hint that it exists. ``queryset`` shapes the read (related rows to join)."""
    queryset = (Ticket.objects.all() if queryset is None else queryset).filter(ticket_scope(user))
    if lock:
        queryset = queryset.select_for_update()
    field = "number" if ref[:1] == "T" and ref[1:].isdigit() else "public_id"
    ticket = queryset.filter(**{field: ref}).first()
    if ticket is None:
        raise NotFound(_("工单不存在"))
    return ticket


def require_agent_write(user: Any) -> None:
    """Staff who may change tickets (not QA or analysts, who read only; not portal users)."""
    if getattr(user, "is_portal_user", False) or not user.has_perm("tickets.change_ticket"):
        raise PermissionDenied(_("没有权限修改工单"))


def is_read_only_role(user: Any) -> bool:
    return getattr(user, "role", None) in (Role.QA, Role.ANALYST)
