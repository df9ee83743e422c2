"""Revealing a masked phone number to call the customer back: agents (and leads) on a ticket they can
see, with a reason, logged, rate-limited; on the ticket page (htmx, in place) and the API."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.accounts.enums import Role
from kefu.accounts.models import Team, User
from kefu.accounts.tests.factories import MembershipFactory
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers.tests.factories import new_contact, new_customer
from kefu.tickets.models import Ticket
from kefu.tickets.tests.factories import UserClient, new_ticket

pytestmark = pytest.mark.django_db

PHONE = "+8613812345678"


@pytest.fixture
def ticket(team: Team) -> Ticket:
    customer = new_customer(name="华东快运有限公司")
    contact = new_contact(customer=customer, name="王小明", phone=PHONE, phone_rev=PHONE[1:][::-1])
    return new_ticket(subject="请回电", customer=customer, contact=contact, team=team)


def contact_id(ticket: Ticket) -> str:
    assert ticket.contact is not None
    return ticket.contact.public_id


def reveals(user: User | None = None) -> list[AuditEvent]:
    events = AuditEvent.objects.filter(action=AuditAction.VIEW_PII, changes__where=[None, "reveal"])
    return list(events.filter(actor=user) if user else events)


def test_an_agent_reveals_the_number_in_place_with_a_reason_and_it_is_logged(
    as_agent: UserClient, agent: User, ticket: Ticket
) -> None:
    page = as_agent.get(f"/tickets/{ticket.number}/")
    assert "138******78" in page.text
    assert 'data-testid="reveal-form"' in page.text

    response = as_agent.post(
        f"/tickets/{ticket.number}/reveal-phone/", {"reason": "客户要求回电"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "138 1234 5678" in response.text
    assert "<html" not in response.text  # the fragment only, swapped in place
    (event,) = reveals(agent)
    assert event.object_id == str(ticket.customer_id)
    assert event.changes["reason"] == [None, "客户要求回电"]
    assert event.changes["ticket"] == [None, ticket.number]
    assert event.changes["contacts"] == [None, [contact_id(ticket)]]
    # the page itself stays masked: each reveal is one logged look
    assert "138 1234 5678" not in as_agent.get(f"/tickets/{ticket.number}/").text


@pytest.mark.parametrize("reason", ["", "   ", "。", "1", "..", "12345", "x" * 201])
def test_a_bad_or_empty_reason_is_refused_with_a_clear_error_and_nothing_logged(
    as_agent: UserClient, ticket: Ticket, reason: str
) -> None:
    response = as_agent.post(
        f"/tickets/{ticket.number}/reveal-phone/", {"reason": reason}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200  # an htmx fragment; the error is in it
    assert 'data-testid="reveal-error"' in response.text
    assert "138 1234 5678" not in response.text
    assert reveals() == []
    # without htmx: the ticket page with the error, 422
    page = as_agent.post(f"/tickets/{ticket.number}/reveal-phone/", {"reason": reason})
    assert page.status_code == 422
    assert 'data-testid="reveal-error"' in page.text


def test_the_api_reveals_with_a_reason_and_names_the_field_when_it_is_missing(
    api_as: Any, agent: User, ticket: Ticket
) -> None:
    api = api_as(agent)
    assert api.get(f"/tickets/{ticket.number}").json()["contact"]["name"] == "王*明"
    bad = api.post(f"/tickets/{ticket.number}/reveal-phone", {"reason": " "})
    assert bad.status_code == 422
    assert list(bad.json()["fields"]) == ["reason"]
    missing = api.post(f"/tickets/{ticket.number}/reveal-phone", {})
    assert missing.status_code == 422
    assert reveals() == []

    ok = api.post(f"/tickets/{ticket.number}/reveal-phone", {"reason": "customer asked for a call back"})

    assert ok.status_code == 200
    assert ok.json() == {
        "contact": {"id": contact_id(ticket), "name": "王*明"},
        "phone": "138 1234 5678",
    }
    assert len(reveals(agent)) == 1


@pytest.mark.parametrize("role", [Role.QA, Role.ANALYST])
def test_read_only_roles_may_not_reveal(make_user: Any, api_as: Any, ticket: Ticket, role: Role) -> None:
    user = make_user(role)
    response = api_as(user).post(f"/tickets/{ticket.number}/reveal-phone", {"reason": "想看看"})
    assert response.status_code == 403
    assert "138 1234 5678" not in response.text
    page = UserClient(user).get(f"/tickets/{ticket.number}/")
    assert page.status_code == 200
    assert 'data-testid="reveal-form"' not in page.text
    assert (
        UserClient(user).post(f"/tickets/{ticket.number}/reveal-phone/", {"reason": "想看看"}).status_code
        == 403
    )
    assert reveals() == []


def test_a_ticket_the_agent_cannot_see_is_404(make_user: Any, api_as: Any, ticket: Ticket) -> None:
    outsider = make_user(Role.AGENT)  # in no team, not assigned
    assert (
        api_as(outsider)
        .post(f"/tickets/{ticket.number}/reveal-phone", {"reason": "客户要求回电"})
        .status_code
        == 404
    )
    assert (
        UserClient(outsider)
        .post(f"/tickets/{ticket.number}/reveal-phone/", {"reason": "客户要求回电"})
        .status_code
        == 404
    )
    assert reveals() == []


def test_portal_users_may_not_reveal(api_as: Any, ticket: Ticket) -> None:
    from kefu.customers.tests.factories import PortalAccountFactory

    account = PortalAccountFactory(customer=ticket.customer)
    assert (
        api_as(account.user).post(f"/tickets/{ticket.number}/reveal-phone", {"reason": "回电"}).status_code
        == 403
    )


def test_reveals_are_rate_limited_per_user(
    agent: User, make_user: Any, api_as: Any, settings: Any, ticket: Ticket
) -> None:
    settings.KEFU_REVEAL_RATE = "2/h"
    api = api_as(agent)
    for _ in range(2):
        assert (
            api.post(f"/tickets/{ticket.number}/reveal-phone", {"reason": "客户要求回电"}).status_code == 200
        )
    refused = api.post(f"/tickets/{ticket.number}/reveal-phone", {"reason": "客户要求回电"})
    assert refused.status_code == 429
    assert refused.json()["message"] == "查看完整号码过于频繁，请稍后再试"
    page = UserClient(agent).post(
        f"/tickets/{ticket.number}/reveal-phone/", {"reason": "客户要求回电"}, headers={"HX-Request": "true"}
    )
    assert "查看完整号码过于频繁，请稍后再试" in page.text
    assert "138 1234 5678" not in page.text
    assert len(reveals(agent)) == 2
    colleague = make_user(Role.AGENT)
    MembershipFactory(team=ticket.team, user=colleague)
    assert (
        api_as(colleague)
        .post(f"/tickets/{ticket.number}/reveal-phone", {"reason": "客户要求回电"})
        .status_code
        == 200
    )


def test_a_lead_sees_the_number_without_revealing(make_user: Any, team: Team, ticket: Ticket) -> None:
    lead = make_user(Role.LEAD)
    MembershipFactory(team=team, user=lead)
    page = UserClient(lead).get(f"/tickets/{ticket.number}/")
    assert "138 1234 5678" in page.text
    assert 'data-testid="reveal-form"' not in page.text
