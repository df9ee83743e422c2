"""A portal user's search reads public text only (subject, description, waybills, public messages):
a word only an internal note holds never finds the ticket for them, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kefu.accounts.enums import Role
from kefu.customers.tests.factories import PortalAccountFactory, new_customer
from kefu.tickets import selectors
from kefu.tickets.enums import Visibility
from kefu.tickets.models import Ticket
from kefu.tickets.services.edit import ticket_update
from kefu.tickets.services.merge_split_link import ticket_merge
from kefu.tickets.tests.factories import new_message, new_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def account() -> Any:
    return PortalAccountFactory(customer=new_customer(name="华东快运有限公司"))


@pytest.fixture
def agent(make_user: Any) -> Any:
    return make_user(Role.MANAGER)  # sees every ticket, whatever the visibility rule


@pytest.fixture
def ticket(account: Any, agent: Any) -> Ticket:
    ticket = new_ticket(
        actor=agent, subject="包裹延误", description="上周寄出的包裹还没到", customer=account.customer
    )
    new_message(
        ticket=ticket, actor=agent, body="内部备注：仓库 Zebrafish 批次积压", visibility=Visibility.INTERNAL
    )
    new_message(ticket=ticket, actor=agent, body="您好，我们已联系 Kingfisher 仓库加急派送。")
    return ticket


def numbers(user: Any, q: str) -> list[str]:
    return [t.number for t in selectors.ticket_list(user, filters=selectors.TicketFilters(q=q))]


def test_a_word_only_in_an_internal_note_is_found_by_the_agent_not_by_the_portal_user(
    account: Any, agent: Any, ticket: Ticket
) -> None:
    assert numbers(agent, "zebrafish") == [ticket.number]
    assert numbers(account.user, "zebrafish") == []
    assert numbers(account.user, "积压") == []
    # a word of a public reply, of the subject or of the description: found by both
    for q in ("kingfisher", "延误", "包裹"):
        assert numbers(agent, q) == [ticket.number], q
        assert numbers(account.user, q) == [ticket.number], q
    # one internal word among public ones is still no match for the portal user
    assert numbers(account.user, "kingfisher zebrafish") == []


def test_the_portal_page_and_the_api_search_public_text_only(
    account: Any, ticket: Ticket, api_as: Any
) -> None:
    client = Client()
    client.force_login(account.user)
    assert client.get("/portal/tickets/", {"q": "zebrafish", "state": "all"}).context["rows"] == []
    assert client.get("/portal/tickets/", {"q": "kingfisher", "state": "all"}).context["rows"] == [ticket]
    api = api_as(account.user)
    assert api.get("/tickets?q=zebrafish").json()["items"] == []
    assert [t["number"] for t in api.get("/tickets?q=kingfisher").json()["items"]] == [ticket.number]


def test_a_word_that_becomes_public_is_found_by_the_portal_user(
    account: Any, agent: Any, ticket: Ticket
) -> None:
    new_message(ticket=ticket, actor=agent, body="Zebrafish 批次已处理")
    assert numbers(account.user, "zebrafish") == [ticket.number]


def test_an_edit_rebuilds_both_token_lists(account: Any, agent: Any, ticket: Ticket) -> None:
    locked = Ticket.objects.get(pk=ticket.pk)
    ticket_update(actor=agent, ticket=locked, version=locked.version, changes={"subject": "包裹延误 加急"})
    assert numbers(account.user, "zebrafish") == []
    assert numbers(agent, "zebrafish") == [ticket.number]
    assert numbers(account.user, "加急") == [ticket.number]


def test_a_merge_keeps_internal_words_internal(account: Any, agent: Any, ticket: Ticket) -> None:
    other = new_ticket(actor=agent, subject="另一票包裹", customer=account.customer)
    new_message(ticket=other, actor=agent, body="备注 Narwhal 专线", visibility=Visibility.INTERNAL)
    ticket_merge(actor=agent, source=other, target=ticket)
    assert numbers(agent, "narwhal") == [ticket.number]
    assert numbers(account.user, "narwhal") == []
    assert numbers(account.user, "另一票") == [ticket.number]
