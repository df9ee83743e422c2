"""The portal's ticket tabs and home: tickets waiting for the customer's confirmation are where the
customer looks first, and every tab says how many tickets it holds."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kefu.customers.tests.factories import PortalAccountFactory, new_customer
from kefu.tickets.tests.factories import closed_ticket, new_ticket, resolved_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def account() -> Any:
    return PortalAccountFactory(customer=new_customer(name="华东快运有限公司"))


@pytest.fixture
def portal(account: Any) -> Client:
    client = Client()
    client.force_login(account.user)
    return client


@pytest.fixture
def tickets(account: Any) -> dict[str, Any]:
    customer = account.customer
    new_ticket(subject="别家公司的工单", customer=new_customer(name="别家物流"))  # never counted
    return {
        "open": new_ticket(subject="包裹还在路上", customer=customer),
        "resolved": resolved_ticket(subject="已改派，请确认", customer=customer),
        "closed": closed_ticket(subject="早已解决的问题", customer=customer),
    }


def test_default_tab_shows_tickets_waiting_for_confirmation_with_counts(
    portal: Client, tickets: dict[str, Any]
) -> None:
    response = portal.get("/portal/tickets/")
    assert response.context["state"] == "open"
    assert {t.number for t in response.context["rows"]} == {
        tickets["open"].number,
        tickets["resolved"].number,
    }
    assert [(key, count) for key, _label, count in response.context["states"]] == [
        ("open", 2),
        ("resolved", 1),
        ("closed", 1),
        ("all", 3),
    ]
    assert 'data-testid="awaiting-notice"' in response.text
    awaiting = portal.get("/portal/tickets/", {"state": "resolved"})
    assert [t.number for t in awaiting.context["rows"]] == [tickets["resolved"].number]
    assert 'data-testid="awaiting-notice"' not in awaiting.text
    assert [t.number for t in portal.get("/portal/tickets/", {"state": "nonsense"}).context["rows"]] == [
        t.number for t in response.context["rows"]
    ]


def test_portal_home_lists_tickets_waiting_for_confirmation(portal: Client, tickets: dict[str, Any]) -> None:
    response = portal.get("/portal/")
    assert response.status_code == 200
    assert [t.number for t in response.context["awaiting"]] == [tickets["resolved"].number]
    assert response.context["ticket_counts"] == {"open": 2, "resolved": 1, "closed": 1, "all": 3}
    assert "已改派，请确认" in response.text
    assert "包裹还在路上" not in response.text
    assert 'href="/portal/tickets/?state=resolved"' in response.text


def test_portal_home_and_list_counts_cost_one_query(
    portal: Client, tickets: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    portal.get("/portal/tickets/")  # warm the reference cache
    with django_assert_max_num_queries(9):
        portal.get("/portal/tickets/")
