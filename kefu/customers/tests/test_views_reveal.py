"""Revealing a masked phone on the customer page: the same service, rules and audit as on a ticket
(kefu.customers.reveal) — a reason, the permission, one rate limit for both pages, logged."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers.models import Customer
from kefu.customers.tests.factories import new_contact
from kefu.customers.tests.pages import UserClient, shunda
from kefu.tickets.tests.factories import new_ticket

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def reveals(user: Any = None) -> list[AuditEvent]:
    events = AuditEvent.objects.filter(action=AuditAction.VIEW_PII, changes__where=[None, "reveal"])
    return list(events.filter(actor=user) if user else events)


def url(customer: Customer, contact_id: str | None = None) -> str:
    contact_id = contact_id or customer.contacts.get(is_primary=True).public_id
    return f"/customers/{customer.public_id}/contacts/{contact_id}/reveal-phone/"


def test_an_agent_reveals_one_contacts_number_in_place_and_it_is_logged(as_role, customer):
    second = new_contact(customer=customer, name="李四", phone="+8613900001111")
    agent = as_role(Role.AGENT)
    page = agent.get(f"/customers/{customer.public_id}/")
    assert "138******78" in page.text
    assert page.text.count('data-testid="reveal-form"') == 2  # one per contact with a phone

    response = agent.post(url(customer, second.public_id), {"reason": "客户要求回电"}, headers=HTMX)

    assert response.status_code == 200
    assert "139 0000 1111" in response.text
    assert "138 1234 5678" not in response.text  # only the contact asked for
    assert "<html" not in response.text
    (event,) = reveals(agent.user)
    assert event.object_id == str(customer.pk)
    assert event.changes == {
        "contacts": [None, [second.public_id]],
        "where": [None, "reveal"],
        "fields": [None, ["phone"]],
        "reason": [None, "客户要求回电"],
    }
    # the page stays masked on reload: each reveal is one logged look
    assert "139 0000 1111" not in agent.get(f"/customers/{customer.public_id}/").text


def test_without_javascript_the_page_comes_back_with_the_number(as_role, customer):
    agent = as_role(Role.AGENT)
    page = agent.post(url(customer), {"reason": "客户要求回电"})
    assert page.status_code == 200
    assert "138 1234 5678" in page.text
    assert 'data-testid="revealed-note"' in page.text
    assert agent.get(url(customer)).status_code == 302  # the address in the bar loads the page


@pytest.mark.parametrize("reason", ["", "   ", "。", "1", "..", "12345", "x" * 201])
def test_a_bad_or_empty_reason_is_refused_with_a_clear_error_and_nothing_logged(as_role, customer, reason):
    agent = as_role(Role.AGENT)
    fragment = agent.post(url(customer), {"reason": reason}, headers=HTMX)
    assert fragment.status_code == 200
    assert 'data-testid="reveal-error"' in fragment.text
    assert "138 1234 5678" not in fragment.text
    page = agent.post(url(customer), {"reason": reason})
    assert page.status_code == 422
    assert 'data-testid="reveal-error"' in page.text
    assert "138 1234 5678" not in page.text
    assert reveals() == []


@pytest.mark.parametrize("role", [Role.QA, Role.ANALYST])
def test_read_only_roles_are_not_offered_it_and_are_refused(as_role, customer, role):
    client = as_role(role)
    assert 'data-testid="reveal-form"' not in client.get(f"/customers/{customer.public_id}/").text
    response = client.post(url(customer), {"reason": "客户要求回电"})
    assert response.status_code == 403
    assert "138 1234 5678" not in response.text
    assert reveals() == []


def test_a_lead_sees_the_number_without_revealing(as_role, customer):
    page = as_role(Role.LEAD).get(f"/customers/{customer.public_id}/")
    assert "138 1234 5678" in page.text
    assert 'data-testid="reveal-form"' not in page.text


def test_another_customers_contact_or_an_unknown_one_is_404(as_role, customer):
    other = shunda(name="别家物流", contacts=[])
    stranger = new_contact(customer=other, phone="+8613700002222")
    agent = as_role(Role.AGENT)
    assert agent.post(url(customer, stranger.public_id), {"reason": "客户要求回电"}).status_code == 404
    assert agent.post(url(customer, "nosuchcontact000"), {"reason": "客户要求回电"}).status_code == 404
    assert reveals() == []


def test_a_contact_without_a_phone_offers_nothing_and_is_refused(as_role, customer):
    bare = new_contact(customer=customer, name="赵会计", phone="")
    agent = as_role(Role.AGENT)
    assert agent.get(f"/customers/{customer.public_id}/").text.count('data-testid="reveal-form"') == 1
    response = agent.post(url(customer, bare.public_id), {"reason": "客户要求回电"})
    assert response.status_code == 422
    assert "该联系人没有电话号码" in response.text
    assert reveals() == []


def test_one_limit_counts_reveals_on_customer_and_ticket_pages(make_user, customer, settings):
    settings.KEFU_REVEAL_RATE = "2/h"
    agent = make_user(Role.AGENT)
    team = TeamFactory()
    MembershipFactory(team=team, user=agent)
    ticket = new_ticket(subject="请回电", customer=customer, team=team)
    client = UserClient(agent)
    assert (
        client.post(f"/tickets/{ticket.number}/reveal-phone/", {"reason": "客户要求回电"}).status_code == 200
    )
    assert client.post(url(customer), {"reason": "客户要求回电"}).status_code == 200

    refused = client.post(url(customer), {"reason": "客户要求回电"}, headers=HTMX)

    assert "查看完整号码过于频繁，请稍后再试" in refused.text
    assert "138 1234 5678" not in refused.text
    assert client.post(url(customer), {"reason": "客户要求回电"}).status_code == 429
    assert len(reveals(agent)) == 2


def test_in_english(as_role, customer):
    agent = as_role(Role.AGENT)
    agent.cookies["django_language"] = "en"
    page = agent.get(f"/customers/{customer.public_id}/")
    assert "Show the whole number" in page.text
    for reason in ("1", "客户要求回电"):
        fragment = agent.post(url(customer), {"reason": reason}, headers=HTMX).text
        assert not re.search(r"[\u3400-\u9fff]", fragment), fragment
    bare = new_contact(customer=customer, name="Zhao", phone="")
    refused = agent.post(url(customer, bare.public_id), {"reason": "call back"}, headers=HTMX).text
    assert "This contact has no phone number" in refused
