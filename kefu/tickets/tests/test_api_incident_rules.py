"""GET/PUT/DELETE /api/v1/tickets/{ref}/incident-rule: a problem's automatic linking rule."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import TeamFactory
from kefu.core.models import AuditEvent
from kefu.tickets.models import IncidentRule, Ticket
from kefu.tickets.services.incidents import incident_rule_set
from kefu.tickets.services.problems import problem_mark
from kefu.tickets.tests.factories import LOGISTICS_FIELDS, new_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def team() -> Any:
    return TeamFactory()


@pytest.fixture
def lead(make_user: Any, team: Any) -> Any:
    user = make_user(Role.LEAD)
    team.members.add(user)
    return user


@pytest.fixture
def problem(lead: Any, team: Any) -> Ticket:
    ticket = new_ticket(actor=lead, subject="郑州转运中心停运", team=team)
    return problem_mark(actor=lead, ticket=ticket)


def _state() -> tuple[list[Any], int, list[Any]]:
    rules = list(IncidentRule.objects.values_list("problem_id", "waybills", "route_nodes", "ends_at"))
    return rules, AuditEvent.objects.count(), list(Ticket.objects.values_list("pk", "version"))


def test_set_read_and_clear(api_as: Any, lead: Any, problem: Ticket) -> None:
    client = api_as(lead)
    body = {
        "waybills": ["sf001001", "SF001002"],
        "route_nodes": ["郑州"],
        "categories": ["delay", "loss"],
        "ends_at": "2099-01-01T08:00:00+08:00",
    }

    put = client.put(f"/tickets/{problem.number}/incident-rule", body)
    got = client.get(f"/tickets/{problem.public_id}/incident-rule")

    assert put.status_code == 200, put.content
    assert got.json() == put.json()
    assert got.json()["waybills"] == ["SF001001", "SF001002"]
    assert got.json()["categories"] == ["delay", "loss"]
    assert got.json()["in_force"] is True
    outside = client.post("/tickets", {"subject": "延误", "waybills": ["SF001002"]})  # no category
    linked = client.post(
        "/tickets",
        {"subject": "延误", "waybills": ["SF001002"], "category": "delay", "custom_fields": LOGISTICS_FIELDS},
    )
    assert Ticket.objects.get(number=outside.json()["number"]).problem_id is None
    assert Ticket.objects.get(number=linked.json()["number"]).problem_id == problem.pk
    assert client.delete(f"/tickets/{problem.number}/incident-rule").status_code == 204
    assert client.get(f"/tickets/{problem.number}/incident-rule").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"waybills": ["SF000001"], "colour": "red"}, "colour"),
        ({}, "waybills"),
        ({"waybills": [], "route_nodes": ["  "]}, "route_nodes"),
        ({"waybills": ["SF 1!"]}, "waybills"),
        ({"waybills": ["SF000001"], "categories": ["no-such"]}, "categories"),
        ({"waybills": ["SF000001"], "ends_at": "2001-01-01T00:00:00Z"}, "ends_at"),
        ({"waybills": ["SF000001"], "ends_at": "next week"}, "ends_at"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_changes_nothing(
    api_as: Any, lead: Any, problem: Ticket, body: dict[str, Any], field: str
) -> None:
    client = api_as(lead)
    before = _state()

    response = client.put(f"/tickets/{problem.number}/incident-rule", body)

    assert response.status_code == 422, response.content
    assert any(name == field or name.endswith(f".{field}") for name in response.json()["fields"]), (
        response.json()
    )
    assert _state() == before


def test_non_problem_ticket_is_422_on_problem(api_as: Any, lead: Any, team: Any) -> None:
    ticket = new_ticket(actor=lead, team=team)
    client = api_as(lead)
    before = _state()

    response = client.put(f"/tickets/{ticket.number}/incident-rule", {"waybills": ["SF000001"]})

    assert response.status_code == 422
    assert "problem" in response.json()["fields"]
    assert _state() == before


@pytest.mark.parametrize("role", [Role.AGENT, Role.QA])
def test_without_permission_is_403_and_changes_nothing(
    api_as: Any, make_user: Any, lead: Any, team: Any, problem: Ticket, *, role: Role
) -> None:
    incident_rule_set(actor=lead, problem=problem, waybills=["SF000001"])
    user = make_user(role)
    team.members.add(user)
    client = api_as(user)
    before = _state()

    put = client.put(f"/tickets/{problem.number}/incident-rule", {"waybills": ["SF000002"]})
    delete = client.delete(f"/tickets/{problem.number}/incident-rule")

    assert (put.status_code, delete.status_code) == (403, 403)
    assert _state() == before


def test_portal_user_cannot_read_it(api_as: Any, lead: Any, problem: Ticket) -> None:
    from kefu.customers.tests.factories import PortalAccountFactory

    account = PortalAccountFactory()
    Ticket.objects.filter(pk=problem.pk).update(customer=account.customer)
    incident_rule_set(actor=lead, problem=problem, waybills=["SF000001"])

    assert api_as(account.user).get(f"/tickets/{problem.number}/incident-rule").status_code == 403
