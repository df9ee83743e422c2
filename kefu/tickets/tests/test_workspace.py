"""Each role's home page shows its ticket figures (kefu.tickets.workspace), each linking to the console
queue it counts; the figures cost a fixed number of queries however many tickets there are."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory
from kefu.tickets import workspace
from kefu.tickets.access import ticket_scope
from kefu.tickets.enums import Department, StatusCategory
from kefu.tickets.models import Ticket
from kefu.tickets.services.lifecycle import ticket_transition
from kefu.tickets.services.work_orders import subtask_create
from kefu.tickets.tests.factories import closed_ticket, new_ticket, status

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(make_user: Any) -> dict[str, Any]:
    east, west = (
        TeamFactory(name="华东一组", name_en="East 1"),
        TeamFactory(name="华西一组", name_en="West 1"),
    )
    agent = make_user(Role.AGENT, username="xiaoli")
    lead = make_user(Role.LEAD, username="zuzhang")
    MembershipFactory(team=east, user=agent)
    MembershipFactory(team=east, user=lead, is_lead=True)
    manager = make_user(Role.MANAGER, username="jingli")
    mine = new_ticket(subject="我的工单", team=east, assignee=agent)
    pending = new_ticket(subject="等客户补资料", team=east, assignee=agent)
    ticket_transition(actor=agent, ticket=pending, status=status(StatusCategory.PENDING))
    due = new_ticket(subject="协作单快到期", team=east, assignee=agent)
    subtask_create(
        actor=agent,
        ticket=due,
        department=Department.values[0],
        title="核实签收",
        deadline=timezone.now() + dt.timedelta(hours=3),
        problem_description="客户称未收到",
        support_needed="调取签收照片",
    )
    new_ticket(subject="本组未分配", team=east)
    new_ticket(subject="西区未分配", team=west)
    new_ticket(subject="西区在处理", team=west, assignee=manager)
    closed_ticket(subject="早已关闭", team=east, assignee=agent)
    Ticket.objects.filter(subject="早已关闭").update(created_at=timezone.now() - dt.timedelta(days=3))
    return {"agent": agent, "lead": lead, "manager": manager, "mine": mine, "due": due, "east": east}


def _page(user: Any) -> tuple[Client, Any]:
    client = Client()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return client, response


def _queue_size(client: Client, url: str) -> int:
    return len(client.get(url).context["rows"])


def _figures(response: Any) -> dict[str, int]:
    return {f.key: f.count for f in response.context["ticket_figures"]}


def test_agent_sees_mine_due_soon_and_waiting_each_linking_to_its_queue(desk: dict[str, Any]) -> None:
    client, response = _page(desk["agent"])
    assert _figures(response) == {"mine": 3, "due_soon": 1, "waiting_on_me": 2}
    for figure in response.context["ticket_figures"]:
        assert f'href="{figure.url}"' in response.text.replace("&amp;", "&")
        assert _queue_size(client, figure.url) == figure.count, figure.key
    due_queue = client.get(response.context["ticket_figures"][1].url)
    assert [t.subject for t in due_queue.context["rows"]] == ["协作单快到期"]


def test_lead_sees_team_backlog_unassigned_and_waiting(desk: dict[str, Any]) -> None:
    client, response = _page(desk["lead"])
    assert _figures(response) == {"team": 4, "unassigned": 1, "waiting": 3}
    for figure in response.context["ticket_figures"]:
        assert _queue_size(client, figure.url) == figure.count, figure.key


def test_manager_sees_todays_volume_and_backlog_by_team(desk: dict[str, Any]) -> None:
    client, response = _page(desk["manager"])
    assert _figures(response) == {"today": 6, "backlog": 6, "unassigned": 2}
    by_team = [(str(f.label), f.count) for f in response.context["team_figures"]]
    assert by_team == [("华东一组", 4), ("华西一组", 2)]
    for figure in [*response.context["ticket_figures"], *response.context["team_figures"]]:
        assert _queue_size(client, figure.url) == figure.count, figure.key
    english = client.get("/", headers={"Accept-Language": "en"})
    assert [str(f.label) for f in english.context["team_figures"]] == ["East 1", "West 1"]
    assert "Backlog by team" in english.text


@pytest.mark.parametrize(("role", "figure_queries"), [("agent", 1), ("lead", 1), ("manager", 3)])
def test_figures_cost_a_fixed_number_of_queries(desk: dict[str, Any], role: str, figure_queries: int) -> None:
    """agent, lead: one aggregate over their active tickets; manager: today's count, the backlog per team
    and the teams' names."""
    user = desk[role]
    client = Client()
    client.force_login(user)
    client.get("/")  # warm: permissions are then cached between requests

    def page_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == 200
        return len(ctx.captured_queries)

    before = page_queries()
    for n in range(15):
        new_ticket(subject=f"更多工单{n}", team=desk["east"], assignee=desk["agent"])
    assert page_queries() == before
    user = type(user).objects.get(pk=user.pk)
    ticket_scope(user)  # the access predicate's own reads (permissions, teams) happen once per request
    figures = {
        "agent": workspace.agent_figures,
        "lead": workspace.lead_figures,
        "manager": workspace.desk_figures,
    }
    with CaptureQueriesContext(connection) as ctx:
        figures[role](user)
    assert len(ctx.captured_queries) == figure_queries, [q["sql"] for q in ctx.captured_queries]
