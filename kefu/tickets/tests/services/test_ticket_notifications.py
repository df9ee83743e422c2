"""Who is notified of what on a ticket: assignment, @mention, a customer's reply, a rejected resolution —
each only to people who may open the ticket, each shown in the reader's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import pytest
from django.utils import translation

from kefu.accounts.enums import Role
from kefu.accounts.models import Team, User
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory
from kefu.core.models import Notification
from kefu.core.notifications import text_of
from kefu.customers.tests.factories import PortalAccountFactory, new_customer
from kefu.tickets.enums import AuthorKind, Visibility
from kefu.tickets.services.edit import ticket_assign
from kefu.tickets.services.reopening import resolution_reject
from kefu.tickets.tests.factories import new_message, new_ticket, resolved_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def team() -> Team:
    return cast(Team, TeamFactory(name="华东一组"))


@pytest.fixture
def member(make_user: Callable[..., User], team: Team) -> Callable[..., User]:
    def make(**fields: object) -> User:
        user = make_user(Role.AGENT, **fields)
        MembershipFactory(team=team, user=user)
        return user

    return make


def test_assignment_notifies_the_assignee_in_their_language(member: Callable[..., User], team: Team) -> None:
    lead, agent = member(full_name="王芳"), member(full_name="李小丽")
    ticket = new_ticket(actor=lead, team=team, subject="冷链货物延误")

    ticket_assign(actor=lead, ticket=ticket, assignee=agent)

    notification = Notification.objects.get()
    assert (notification.user, notification.kind, notification.url) == (
        agent,
        "assigned",
        f"/tickets/{ticket.number}/",
    )
    assert text_of(notification) == f"王芳 把工单 {ticket.number} 分配给了你：冷链货物延误"
    with translation.override("en"):
        assert text_of(notification) == f"王芳 assigned ticket {ticket.number} to you: 冷链货物延误"


def test_assigning_yourself_notifies_nobody(member: Callable[..., User], team: Team) -> None:
    agent = member()
    ticket = new_ticket(actor=agent, team=team)

    ticket_assign(actor=agent, ticket=ticket, assignee=agent)

    assert not Notification.objects.exists()


def test_a_customer_reply_notifies_the_assignee(member: Callable[..., User], team: Team) -> None:
    agent = member()
    account = PortalAccountFactory(customer=new_customer(name="顺达冷链"))
    ticket = new_ticket(actor=agent, team=team, assignee=agent, customer=account.customer)

    message = new_message(ticket=ticket, actor=account.user, body="还没收到", author_kind=AuthorKind.CUSTOMER)

    notification = Notification.objects.get()
    assert (notification.user, notification.kind) == (agent, "customer_reply")
    assert notification.url == f"/tickets/{ticket.number}/#m{message.pk}"


def test_a_rejected_resolution_notifies_the_assignee_once(member: Callable[..., User], team: Team) -> None:
    agent = member()
    account = PortalAccountFactory(customer=new_customer(name="顺达冷链"))
    ticket = resolved_ticket(actor=agent, team=team, assignee=agent, customer=account.customer)

    resolution_reject(actor=account.user, ticket=ticket, reason="货还是没到")

    notification = Notification.objects.get()
    assert (notification.user, notification.kind) == (agent, "resolution_rejected")
    with translation.override("en"):
        assert "not resolved" in text_of(notification)


def test_a_mention_reaches_only_those_who_may_see_the_ticket(
    make_user: Callable[..., User], member: Callable[..., User], team: Team
) -> None:
    writer = member(username="xiaoli")
    mate = member(username="wangfang")
    outsider = make_user(Role.AGENT, username="zhaomin")
    MembershipFactory(team=TeamFactory(), user=outsider)
    ticket = new_ticket(actor=writer, team=team)

    new_message(ticket=ticket, actor=writer, body="@wangfang @zhaomin 请看", visibility=Visibility.INTERNAL)

    assert list(Notification.objects.values_list("user", flat=True)) == [mate.pk]
