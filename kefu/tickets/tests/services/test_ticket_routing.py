"""A ticket created without a team (portal, API) goes to its category's default team."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest
from django.apps import apps as global_apps
from django.test import Client

from kefu.accounts.models import Team, User
from kefu.accounts.tests.factories import TeamFactory
from kefu.core import reference
from kefu.customers.tests.factories import PortalAccountFactory, new_customer
from kefu.tickets.models import Category, Ticket
from kefu.tickets.tests.factories import category, new_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def after_sales() -> Any:
    team: Any = TeamFactory(code="after-sales-x", name="售后")
    Category.objects.filter(code__in=["other", "loss"]).update(default_team=team)
    return team


def test_no_team_given_uses_the_categorys_default_team(after_sales: Team) -> None:
    assert new_ticket(category="other").team == after_sales


def test_a_given_team_wins(after_sales: Team) -> None:
    mine: Any = TeamFactory()
    assert new_ticket(category="other", team=mine).team == mine


def test_no_category_or_no_default_team_leaves_it_unrouted(after_sales: Team) -> None:
    Category.objects.filter(code="billing").update(default_team=None)
    reference.changed()  # update() sends no signal
    assert new_ticket(category=None).team is None
    assert new_ticket(category="billing").team is None


def test_portal_ticket_reaches_the_default_teams_agents(after_sales: Team, make_user: Any) -> None:
    account: Any = PortalAccountFactory(customer=new_customer())
    portal = Client()
    portal.force_login(account.user)
    agent: User = make_user(username="shouhou")
    after_sales.members.add(agent)

    response = portal.post(
        "/portal/tickets/new/", {"subject": "包裹延误", "type": "complaint", "category": "other"}
    )

    ticket = Ticket.objects.get(customer=account.customer)
    assert response.status_code == 302
    assert ticket.team == after_sales
    staff = Client()
    staff.force_login(agent)
    assert staff.get(f"/tickets/{ticket.number}/").status_code == 200


def test_api_ticket_gets_the_default_team(after_sales: Team, make_user: Any, api_as: Any) -> None:
    response = api_as(make_user()).post("/tickets", {"subject": "查询", "category": "other"})

    assert response.status_code == 201, response.content
    assert response.json()["internal"]["team"]["id"] == after_sales.pk


def test_migration_sets_the_seeded_categories_default_teams() -> None:
    teams: dict[str, Any] = {
        code: TeamFactory(code=code) for code in ("after-sales", "complaints", "inquiry")
    }
    Category.objects.update(default_team=None)
    migration = import_module("kefu.tickets.migrations.0005_incident_rules_category_default_team")

    migration.set_default_teams(global_apps, None)

    assert category("delay").default_team == teams["after-sales"]
    assert category("billing").default_team == teams["complaints"]
    assert category("other").default_team == teams["inquiry"]


def test_category_admin_shows_the_default_team(admin_client: Client, after_sales: Team) -> None:
    listing = admin_client.get("/admin/tickets/category/")
    change = admin_client.get(f"/admin/tickets/category/{category('other').pk}/change/")

    assert listing.status_code == change.status_code == 200
    assert "售后" in listing.text
    assert 'name="default_team"' in change.text
