"""The ticket figures of each role's home page (工作台). Every figure counts exactly the tickets of the
console queue it links to — the same queue filter (:func:`selectors.queue_filter`), the same access
predicate (:func:`access.visible_tickets`) — so a click never shows a different number.

Cost, whatever the number of tickets: an agent's and a lead's figures are one aggregate over their
visible active tickets (the partial indexes on active tickets); the wide roles' are one aggregate and one
``GROUP BY team`` over active tickets and the teams' names, with today's volume read through the ``updated_at`` index (a
ticket created today was updated today). ``tests/test_workspace.py`` pins the queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Team
from kefu.tickets.access import visible_tickets
from kefu.tickets.enums import StatusCategory
from kefu.tickets.selectors import IsActive, queue_filter

WAITING_ON_US = (StatusCategory.NEW, StatusCategory.OPEN)


@dataclass(frozen=True)
class Figure:
    key: str
    label: Any  # a lazy translation or a team's name
    count: int
    url: str
    alert: bool = False  # worth a look when not zero (overdue, due soon)


def queue_url(queue: str, **filters: Any) -> str:
    return f"{reverse('ticket-queue')}?{urlencode({'queue': queue, **filters}, doseq=True)}"


def _active(user: Any) -> Any:
    return visible_tickets(user).filter(IsActive(), merged_into=None)


def agent_figures(user: Any) -> list[Figure]:
    """Mine open, mine with a work order due soon, mine waiting on me (new or open: the customer wrote
    last or nobody answered yet)."""
    keys = ("mine", "due_soon", "waiting_on_me")
    counts = _active(user).aggregate(**{key: Count("id", filter=queue_filter(user, key)) for key in keys})
    return [
        Figure("mine", _("我的未完成工单"), counts["mine"], queue_url("mine")),
        Figure("due_soon", _("协作单即将到期"), counts["due_soon"], queue_url("due_soon"), alert=True),
        Figure("waiting_on_me", _("等待我处理"), counts["waiting_on_me"], queue_url("waiting_on_me")),
    ]


def lead_figures(user: Any) -> list[Figure]:
    """The team's backlog (active tickets of the lead's teams), unassigned tickets, and the team's
    tickets waiting on the team (new or open)."""
    team = queue_filter(user, "team")
    counts = _active(user).aggregate(
        team=Count("id", filter=team),
        unassigned=Count("id", filter=queue_filter(user, "unassigned")),
        waiting=Count("id", filter=team & Q(status_category__in=WAITING_ON_US)),
    )
    return [
        Figure("team", _("本组积压"), counts["team"], queue_url("team")),
        Figure("unassigned", _("未分配"), counts["unassigned"], queue_url("unassigned"), alert=True),
        Figure(
            "waiting",
            _("等待本组处理"),
            counts["waiting"],
            queue_url("team", status_category="ours"),
        ),
    ]


def start_of_today() -> dt.datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def desk_figures(user: Any) -> tuple[list[Figure], list[Figure]]:
    """For the roles that see every ticket: today's volume, the backlog and the unassigned tickets; and
    the backlog of each team, largest first."""
    today = start_of_today()
    # ``updated_at >= today`` follows from ``created_at >= today`` and lets the updated index find them.
    created_today = (
        visible_tickets(user).filter(merged_into=None, created_at__gte=today, updated_at__gte=today).count()
    )
    rows = (
        _active(user)
        .values_list("team")
        .annotate(backlog=Count("id"), unassigned=Count("id", filter=Q(assignee=None)))
        .values_list("team", "backlog", "unassigned")
    )
    per_team: dict[int | None, int] = {}
    unassigned = 0
    for team_id, backlog, team_unassigned in rows:
        per_team[team_id] = backlog
        unassigned += team_unassigned
    active = "active"  # forms.STATUS_GROUPS
    totals = [
        Figure(
            "today", _("今日新建"), created_today, queue_url("all", created_from=today.date().isoformat())
        ),
        Figure("backlog", _("未完成工单"), sum(per_team.values()), queue_url("all", status_category=active)),
        Figure("unassigned", _("未分配"), unassigned, queue_url("unassigned"), alert=True),
    ]
    teams = Team.objects.filter(pk__in=[pk for pk in per_team if pk is not None]).only(
        "pk", "name", "name_en"
    )
    by_team = [
        Figure(f"team-{t.pk}", str(t), per_team[t.pk], queue_url("all", status_category=active, team=t.pk))
        for t in teams
    ]
    by_team.sort(key=lambda f: (-f.count, str(f.label)))
    return totals, by_team
