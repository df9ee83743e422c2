"""Each role's home page, the team board and the portal's home: figures from accounts, customers and
tickets on one page."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from kefu.accounts import selectors as account_selectors
from kefu.accounts.enums import Availability, Role
from kefu.accounts.http import AuthedRequest
from kefu.core.audit import recent_events
from kefu.core.web import audit_for_display, portal_view, staff_view
from kefu.customers import selectors as customer_selectors
from kefu.customers import services as customer_services
from kefu.customers.access import may_view_personal_data
from kefu.tickets import selectors as ticket_selectors
from kefu.tickets import workspace

AWAITING_ON_HOME = 5


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
        context["due"] = customer_selectors.first_contacts_due(agents=[user])
        context["due_counts"] = customer_selectors.first_contact_counts(agents=[user])
        context["my_customer_count"] = user.account_customers.filter(is_active=True).count()
        context["teams"] = account_selectors.teams_with_members().filter(memberships__user=user)
    elif user.role == Role.LEAD:
        teams = list(account_selectors.led_teams(user))
        members = [m.user for team in teams for m in team.memberships.all()]
        context["teams"] = teams
        context["due"] = customer_selectors.first_contacts_due(agents=members)
        context["due_counts"] = customer_selectors.first_contact_counts(agents=members)
    elif user.role in (Role.MANAGER, Role.ADMIN):
        context["teams"] = account_selectors.teams_with_members()
        context["customer_counts"] = customer_selectors.customer_counts()
        context["availability"] = account_selectors.staff_availability()
        context["due_counts"] = customer_selectors.first_contact_counts()
        context["agents"] = customer_selectors.agent_load()[:10]
    elif user.role == Role.QA:
        context["events"] = audit_for_display(recent_events(limit=20), reveal=may_view_personal_data(user))
        context["customer_counts"] = customer_selectors.customer_counts()
    elif user.role == Role.ANALYST:
        context["customer_counts"] = customer_selectors.customer_counts()
        context["agents"] = customer_selectors.agent_load()
    return render(request, "home/home.html", context)


@staff_view("accounts.view_team")
def team_list(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "home/teams.html",
        {"teams": account_selectors.teams_with_members(), "agents": customer_selectors.agent_load()},
    )


@portal_view
def portal_home(request: AuthedRequest) -> HttpResponse:
    """The portal's home: the customer's own organization and its tickets by state."""
    account = request.user.portal_account
    customer = customer_selectors.customer_detail(request.user, account.customer.public_id)
    contacts = list(customer.contacts.all())
    customer_services.record_pii_view(
        actor=request.user, customer=customer, contacts=contacts, where="portal"
    )
    contacts_view = [customer_selectors.contact_view(c, reveal=True) for c in contacts]
    awaiting = ticket_selectors.ticket_list(
        request.user, filters=ticket_selectors.portal_state_filters("resolved")
    )[:AWAITING_ON_HOME]
    return render(
        request,
        "home/portal_home.html",
        {
            "customer": customer,
            "contacts": contacts_view,
            "address": customer_selectors.customer_address(customer, reveal=True),
            "ticket_counts": ticket_selectors.portal_state_counts(request.user),
            "ticket_states": [(key, label) for key, (label, _c) in ticket_selectors.PORTAL_STATES.items()],
            "awaiting": list(awaiting),
        },
    )
