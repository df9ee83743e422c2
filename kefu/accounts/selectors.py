"""Reads of teams and staff for the role home pages and the team board."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from kefu.accounts.enums import Availability, Role
from kefu.accounts.models import Team, TeamMembership, User


def teams_with_members() -> QuerySet[Team]:
    members = TeamMembership.objects.select_related("user").order_by("-is_lead", "user__full_name")
    return Team.objects.prefetch_related("skills", Prefetch("memberships", queryset=members))


def led_teams(user: User) -> QuerySet[Team]:
    return teams_with_members().filter(memberships__user=user, memberships__is_lead=True)


def staff_availability() -> dict[str, int]:
    rows = (
        User.objects.filter(is_active=True)
        .exclude(role=Role.CUSTOMER)
        .values("availability")
        .annotate(n=Count("id"))
    )
    counts = {a.value: 0 for a in Availability}
    counts.update({row["availability"]: row["n"] for row in rows})
    return counts
