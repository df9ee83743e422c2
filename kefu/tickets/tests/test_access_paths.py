"""Every way a team lead can name or reach a ticket goes through the one access predicate: another
team's ticket is never reached, and nothing about it changes — by number, by waybill, by a queue filter
or saved view, as a problem's incident (listed, updated, resolved), as a merge or link target, through an
idempotency replay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest

from kefu.accounts.enums import Role
from kefu.accounts.models import Team, User
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory
from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditEvent
from kefu.tickets import console
from kefu.tickets.models import Message, SavedView, Ticket, TicketLink
from kefu.tickets.services.edit import ticket_update
from kefu.tickets.services.incidents import incident_link
from kefu.tickets.services.problems import problem_mark
from kefu.tickets.tests.factories import UserClient, new_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def team() -> Team:
    return cast(Team, TeamFactory(name="华东一组"))


@pytest.fixture
def lead(make_user: Callable[..., User], team: Team) -> User:
    user = make_user(Role.LEAD, username="zuzhang")
    MembershipFactory(team=team, user=user)
    return user


@pytest.fixture
def lead_api(api_as: Any, lead: User) -> Any:
    return api_as(lead)


@pytest.fixture
def manager(make_user: Callable[..., User]) -> User:
    return make_user(Role.MANAGER)


@pytest.fixture
def problem(lead: User, team: Team) -> Ticket:
    return problem_mark(actor=lead, ticket=new_ticket(actor=lead, team=team, subject="郑州转运中心停运"))


@pytest.fixture
def theirs() -> Ticket:
    """Another team's ticket about the same waybill."""
    return new_ticket(team=TeamFactory(name="华南二组"), subject="郑州发出的货延误", waybills=["SF100200001"])


def _untouched(ticket: Ticket) -> tuple[Any, ...]:
    fresh = Ticket.objects.get(pk=ticket.pk)
    return (
        fresh.problem_id,
        fresh.version,
        fresh.status_category,
        fresh.merged_into_id,
        Message.objects.filter(ticket=ticket).count(),
        TicketLink.objects.filter(target=ticket).count() + TicketLink.objects.filter(source=ticket).count(),
        AuditEvent.objects.filter(object_id=str(ticket.pk), content_type__model="ticket").count(),
    )


def test_api_link_by_waybill_reaches_only_the_leads_tickets(api_as, lead, team, problem, theirs):
    ours = new_ticket(team=team, subject="我的快递没到", waybills=["SF100200001"])
    before = _untouched(theirs)

    response = api_as(lead).post(f"/tickets/{problem.number}/incidents", {"waybills": ["SF100200001"]})

    assert response.status_code == 200
    assert response.json() == {"linked": [ours.number]}
    assert _untouched(theirs) == before


def test_api_link_by_number_refuses_another_teams_ticket_and_links_none(api_as, lead, team, problem, theirs):
    ours = new_ticket(team=team)
    before = _untouched(theirs), _untouched(ours)

    response = api_as(lead).post(
        f"/tickets/{problem.number}/incidents", {"tickets": [ours.number, theirs.number]}
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {"tickets": [f"工单 {theirs.number} 不存在"]}
    assert (_untouched(theirs), _untouched(ours)) == before


def test_the_service_refuses_an_incident_the_actor_may_not_see(lead, problem, theirs):
    before = _untouched(theirs)

    with pytest.raises(ValidationFailed) as refused:
        incident_link(actor=lead, problem=problem, incidents=[theirs])

    assert refused.value.fields == {"incidents": [f"工单 {theirs.number} 不存在"]}
    assert _untouched(theirs) == before


def test_updates_and_resolution_reach_only_the_incidents_the_lead_may_see(
    lead_api, manager, team, problem, theirs
):
    # given a problem whose incidents a manager linked across teams
    ours = new_ticket(team=team, subject="我的快递没到")
    incident_link(actor=manager, problem=problem, incidents=[ours, theirs])
    before = _untouched(theirs)
    client = lead_api

    # when the lead posts an update, then resolves the problem with its incidents
    update = client.post(
        f"/tickets/{problem.number}/problem-updates", {"body": "转运中心已恢复", "update_id": "u1"}
    )
    resolve = client.post(f"/tickets/{problem.number}/problem-resolve", {"solution_summary": "已恢复运营"})

    # then only the lead's team's incident got the reply and was resolved
    assert update.json() == {"posted": 1}
    assert resolve.json()["resolved"] == [ours.number]
    assert Ticket.objects.get(pk=ours.pk).status_category == "resolved"
    assert _untouched(theirs) == before


def test_the_problem_page_lists_and_counts_only_incidents_the_viewer_may_see(
    manager, lead, team, problem, theirs
):
    ours = new_ticket(team=team, subject="我的快递没到")
    incident_link(actor=manager, problem=problem, incidents=[ours, theirs])

    page = UserClient(lead).get(f"/tickets/{problem.number}/")

    overview = page.context["problem_overview"]
    assert [t.number for t in overview.incidents] == [ours.number]
    assert (overview.total, overview.open) == (1, 1)
    html = page.content.decode()
    section = html[html.index('data-testid="problem"') :]
    assert theirs.number not in section[: section.index("</section>")]


def test_console_link_from_a_saved_view_or_waybill_reaches_only_the_leads_tickets(
    make_user, lead, team, problem, theirs
):
    ours = new_ticket(team=team, subject="郑州发出的货延误", waybills=["SF100200001"])
    colleague = make_user(Role.AGENT)
    MembershipFactory(team=team, user=colleague)
    shared = SavedView.objects.create(owner=colleague, name="郑州", filters={"q": ["郑州"]}, shared=True)
    before = _untouched(theirs)
    client = UserClient(lead)

    by_view = client.post(
        f"/tickets/{problem.number}/problem/link/", {"mode": "filter", "saved_view": shared.pk}
    )
    ticket_update(actor=lead, ticket=ours, version=None, changes={})
    Ticket.objects.filter(pk=ours.pk).update(problem=None)
    by_waybill = client.post(
        f"/tickets/{problem.number}/problem/link/", {"mode": "waybills", "waybills": "SF100200001"}
    )

    assert by_view.status_code == by_waybill.status_code == 302
    assert Ticket.objects.get(pk=ours.pk).problem_id == problem.pk
    assert _untouched(theirs) == before


@pytest.mark.parametrize(("suffix", "field"), [("merge", "into"), ("links", "other")])
def test_merge_and_link_targets_of_another_team_are_refused(lead_api, team, theirs, suffix, field):
    ours = new_ticket(team=team)
    before = _untouched(theirs), _untouched(ours)

    response = lead_api.post(f"/tickets/{ours.number}/{suffix}", {field: theirs.number})

    assert response.status_code == 422
    assert response.json()["fields"] == {field: [f"工单 {theirs.number} 不存在"]}
    assert (_untouched(theirs), _untouched(ours)) == before


def test_bulk_merge_into_another_teams_ticket_is_refused(lead, team, theirs):
    ours = new_ticket(team=team)
    before = _untouched(theirs), _untouched(ours)

    with pytest.raises(ValidationFailed):
        console.bulk_apply(actor=lead, numbers=[ours.number], action="merge", value=theirs.number)

    assert (_untouched(theirs), _untouched(ours)) == before


def test_an_idempotent_replay_does_not_show_a_ticket_the_caller_may_no_longer_see(api_as, make_user, team):
    # given an agent who created a ticket for the team with an idempotency key
    agent = make_user(Role.AGENT)
    MembershipFactory(team=team, user=agent)
    client = api_as(agent)
    key = {"Idempotency-Key": "create-1"}
    body = {"subject": "货物延误", "type": "complaint", "team": team.pk}
    first = client.post("/tickets", body, headers=key)
    created = Ticket.objects.get(number=first.json()["number"])

    # when the ticket is no longer theirs to see (they left the team; someone else's ticket now)
    team.members.remove(agent)
    Ticket.objects.filter(pk=created.pk).update(created_by=None)
    retry = client.post("/tickets", body, headers=key)

    # then the retry is the 404 of any ticket they cannot see, with nothing of it in the body
    assert first.status_code == 201
    assert retry.status_code == 404
    assert created.number not in retry.content.decode()
    assert Ticket.objects.count() == 1
