from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts import selectors, services
from kefu.accounts.enums import Availability, Role
from kefu.core.audit import recent_events
from kefu.core.errors import ValidationFailed
from kefu.core.web import AuthedRequest, audit_for_display, staff_view
from kefu.customers.access import may_view_personal_data
from kefu.tickets import workspace


def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its own home page; portal users go to the portal."""
    user = request.user
    if not user.is_authenticated:
        return redirect("login")
    if user.is_portal_user:
        return redirect("portal-home")
    return _staff_home(cast(AuthedRequest, request))


@staff_view()
def _staff_home(request: AuthedRequest) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {
        "role": user.role,
        "availability_choices": Availability.choices,
        "now": timezone.now(),
        "show_due": user.role in (Role.AGENT, Role.LEAD),
    }
    if user.has_perm("tickets.view_ticket"):
        if user.role == Role.AGENT:
            context["ticket_figures"] = workspace.agent_figures(user)
        elif user.role == Role.LEAD:
            context["ticket_figures"] = workspace.lead_figures(user)
        else:
            context["ticket_figures"], context["team_figures"] = workspace.desk_figures(user)
    if user.role == Role.AGENT:
        context["due"] = selectors.first_contacts_due(agents=[user])
        context["due_counts"] = selectors.first_contact_counts(agents=[user])
        context["my_customer_count"] = user.account_customers.filter(is_active=True).count()
        context["teams"] = selectors.teams_with_members().filter(memberships__user=user)
    elif user.role == Role.LEAD:
        teams = list(selectors.led_teams(user))
        members = [m.user for team in teams for m in team.memberships.all()]
        context["teams"] = teams
        context["due"] = selectors.first_contacts_due(agents=members)
        context["due_counts"] = selectors.first_contact_counts(agents=members)
    elif user.role in (Role.MANAGER, Role.ADMIN):
        context["teams"] = selectors.teams_with_members()
        context["customer_counts"] = selectors.customer_counts()
        context["availability"] = selectors.staff_availability()
        context["due_counts"] = selectors.first_contact_counts()
        context["agents"] = selectors.agent_load()[:10]
    elif user.role == Role.QA:
        context["events"] = audit_for_display(recent_events(limit=20), reveal=may_view_personal_data(user))
        context["customer_counts"] = selectors.customer_counts()
    elif user.role == Role.ANALYST:
        context["customer_counts"] = selectors.customer_counts()
        context["agents"] = selectors.agent_load()
    return render(request, "accounts/home.html", context)


@require_POST
@staff_view()
def set_availability(request: AuthedRequest) -> HttpResponse:
    value = request.POST.get("availability", "")
    try:
        services.user_set_availability(
            actor=request.user, user=request.user, availability=Availability(value)
        )
    except (ValueError, ValidationFailed):
        return render(
            request, "400.html", {"message": _("未知的在线状态：%(value)s") % {"value": value}}, status=400
        )
    return redirect("home")


@staff_view("accounts.view_team")
def team_list(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "accounts/teams.html",
        {"teams": selectors.teams_with_members(), "agents": selectors.agent_load()},
    )
