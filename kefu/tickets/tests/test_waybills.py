"""Waybill numbers (kefu.tickets.waybills): one normal form and one rule on every path that takes one."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory
from kefu.core.actors import SYSTEM
from kefu.core.errors import ValidationFailed
from kefu.customers.tests.factories import PortalAccountFactory, new_customer
from kefu.tickets import waybills
from kefu.tickets.models import IncidentRule, Ticket, TicketWaybill
from kefu.tickets.services.edit import ticket_update
from kefu.tickets.services.incidents import incident_rule_set, incidents_link_by_waybill
from kefu.tickets.services.problems import problem_mark
from kefu.tickets.tests.factories import new_ticket

pytestmark = pytest.mark.django_db

TYPED = "SF 1234 5678 9012"
STORED = "SF123456789012"
REFUSED = ["1", "ABC", "运单123", "SF-12", "ABCDEFGHIJ"]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (TYPED, STORED),
        ("sf-1234-5678-9012", STORED),
        (" ＳＦ１２３４ ５６７８ ９０１２ ", STORED),  # full-width, from a Chinese input method
        ("JDVA00123456789", "JDVA00123456789"),
        ("773 012 345 678", "773012345678"),
    ],
)
def test_typed_numbers_are_stored_in_one_form(raw: str, stored: str) -> None:
    assert waybills.waybill_clean(raw) == stored


@pytest.mark.parametrize("raw", REFUSED)
def test_numbers_that_no_carrier_prints_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        waybills.waybills_clean(["SF123456789012", raw], field="waybills")
    assert list(caught.value.fields) == ["waybills"]
    assert f"“{raw}”" in caught.value.fields["waybills"][0]


def test_a_text_field_lists_numbers_by_comma_or_line_not_by_space() -> None:
    assert waybills.split(f"{TYPED}，YT 5555 6666 7777\nJD0099887766、 ") == [
        TYPED,
        "YT 5555 6666 7777",
        "JD0099887766",
    ]


def test_ticket_create_and_update_normalise_and_refuse() -> None:
    ticket = new_ticket(waybills=[TYPED, "sf123456789012"])
    assert list(ticket.waybills.values_list("waybill_no", flat=True)) == [STORED]
    for raw in REFUSED:
        with pytest.raises(ValidationFailed) as caught:
            ticket_update(actor=SYSTEM, ticket=ticket, version=ticket.version, changes={}, waybills=[raw])
        assert "waybills" in caught.value.fields
    assert list(TicketWaybill.objects.values_list("waybill_no", flat=True)) == [STORED]
    with pytest.raises(ValidationFailed):
        new_ticket(subject="运单号写错", waybills=["运单123"])
    assert not Ticket.objects.filter(subject="运单号写错").exists()


@pytest.fixture
def agent(make_user: Any) -> Any:
    user = make_user(Role.AGENT, username="xiaoli")
    MembershipFactory(team=TeamFactory(name="华东一组"), user=user)
    return user


def test_api_create_update_and_filter(api_as: Any, agent: Any) -> None:
    api = api_as(agent)
    team = agent.teams.get()
    created = api.post(
        "/tickets",
        {"subject": "包裹未到", "channel": "phone", "type": "inquiry", "team": team.pk, "waybills": [TYPED]},
    )
    assert created.status_code == 201, created.json()
    assert created.json()["waybills"] == [STORED]
    refused = api.post(
        "/tickets",
        {
            "subject": "运单号写错",
            "channel": "phone",
            "type": "inquiry",
            "team": team.pk,
            "waybills": ["ABC"],
        },
    )
    assert refused.status_code == 422
    assert list(refused.json()["fields"]) == ["waybills"]
    assert not Ticket.objects.filter(subject="运单号写错").exists()
    ticket_id = created.json()["id"]
    patched = api.patch(f"/tickets/{ticket_id}", {"waybills": ["1"], "version": created.json()["version"]})
    assert patched.status_code == 422
    assert list(patched.json()["fields"]) == ["waybills"]
    listed = api.get("/tickets", QUERY_STRING="waybill=sf-1234-5678-9012")
    assert [t["id"] for t in listed.json()["items"]] == [ticket_id]
    bad_filter = api.get("/tickets", QUERY_STRING="waybill=%E8%BF%90%E5%8D%95123")
    assert bad_filter.status_code == 422
    assert list(bad_filter.json()["fields"]) == ["waybill"]


def test_console_form_and_search(agent: Any) -> None:
    client = Client()
    client.force_login(agent)
    team = agent.teams.get()
    response = client.post(
        "/tickets/new/",
        {
            "subject": "包裹未到",
            "channel": "phone",
            "type": "inquiry",
            "team": team.pk,
            "waybills": "运单123",
        },
    )
    assert response.status_code == 422
    assert "运单号“运单123”无效" in response.text
    assert not Ticket.objects.exists()
    response = client.post(
        "/tickets/new/",
        {"subject": "包裹未到", "channel": "phone", "type": "inquiry", "team": team.pk, "waybills": TYPED},
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert list(ticket.waybills.values_list("waybill_no", flat=True)) == [STORED]
    found = client.get("/tickets/", {"q": TYPED})
    assert [t.number for t in found.context["rows"]] == [ticket.number]


def test_portal_form() -> None:
    account: Any = PortalAccountFactory(customer=new_customer(name="华东快运有限公司"))
    client = Client()
    client.force_login(account.user)
    response = client.post(
        "/portal/tickets/new/", {"subject": "包裹未到", "description": "请查一下", "waybills": "ABC"}
    )
    assert response.status_code == 422
    assert "运单号“ABC”无效" in response.text
    assert not Ticket.objects.exists()
    client.post("/portal/tickets/new/", {"subject": "包裹未到", "description": "请查一下", "waybills": TYPED})
    assert list(TicketWaybill.objects.values_list("waybill_no", flat=True)) == [STORED]


def test_incidents_by_waybill_and_rules(make_user: Any) -> None:
    lead = make_user(Role.LEAD, username="zuzhang")
    MembershipFactory(team=TeamFactory(name="售后服务组"), user=lead)
    problem = problem_mark(
        actor=lead, ticket=new_ticket(actor=lead, subject="华东分拨中心停摆", team=lead.teams.get())
    )
    incident = new_ticket(subject="包裹未到", waybills=[STORED], team=lead.teams.get())
    with pytest.raises(ValidationFailed) as caught:
        incidents_link_by_waybill(actor=lead, problem=problem, waybill_nos=["ABC"])
    assert list(caught.value.fields) == ["waybills"]
    with pytest.raises(ValidationFailed) as caught:
        incident_rule_set(actor=lead, problem=problem, waybills=["1"])
    assert "waybills" in caught.value.fields
    assert not IncidentRule.objects.exists()
    linked = incidents_link_by_waybill(actor=lead, problem=problem, waybill_nos=[TYPED])
    assert [t.pk for t in linked] == [incident.pk]
