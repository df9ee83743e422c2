"""Reads for the role home pages and the team board."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from kefu.accounts.enums import Availability, Role
from kefu.accounts.models import Team, TeamMembership, User
from kefu.customers.enums import Tier
from kefu.customers.models import Customer


def teams_with_members() -> QuerySet[Team]:
    members = TeamMembership.objects.select_related("user").order_by("-is_lead", "user__full_name")
    return Team.objects.prefetch_related("skills", Prefetch("memberships", queryset=members))


def led_teams(user: User) -> QuerySet[Team]:
    return teams_with_members().filter(memberships__user=user, memberships__is_lead=True)


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


def agent_load() -> QuerySet[User]:
    """Agents with their number of account customers, for balancing at a glance."""
    return (
        User.objects.filter(role=Role.AGENT, is_active=True)
        .annotate(customers=Count("account_customers", filter=Q(account_customers__is_active=True)))
        .prefetch_related("skills")
        .order_by("-customers", "full_name")
    )
