"""The seeded demo tells true stories and shows every feature to the demo logins.

The demo is seeded once for the module (about a minute) inside a transaction rolled back at the end;
each test runs in a savepoint on top of it."""

from __future__ import annotations

import collections
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from kefu.accounts.models import TeamMembership, User
from kefu.core import reference
from kefu.core.notifications import unread_for
from kefu.customers.enums import Tier
from kefu.demo import DEMO_PASSWORD, demo_logins, seed_demo
from kefu.demo.people import DEMO_TEAM, PORTAL_USERNAME
from kefu.demo.stories import ABROAD, CARGO_BY_NAME, HUBS
from kefu.tickets.access import access_ticket, visible_tickets
from kefu.tickets.calls import recent_calls
from kefu.tickets.enums import ACTIVE_CATEGORIES, CallOutcome, StatusCategory, SubtaskStatus
from kefu.tickets.models import CustomField, Message, Subtask, Ticket, TicketLink
from kefu.tickets.services.rules import validate_custom_fields

SEED = 20261125
PLACES = [*HUBS, *ABROAD]  # every city a route names, the transit hubs included


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    # the demo logins sign in under the tests' fast hasher (conftest)
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast, transaction.atomic():
        reference.forget()
        assert seed_demo(seed=SEED) is True
        yield
        transaction.set_rollback(True)
    reference.forget()


@pytest.fixture
def logins(demo: None, db: None) -> dict[str, User]:
    return {role: User.objects.get(username=username) for role, username in demo_logins()}


def cargo_named(text: str) -> list[str]:
    return [name for name in CARGO_BY_NAME if name in text]


def story_tickets() -> list[Ticket]:
    """Every demo ticket but the problem ticket (an outage, not one consignment)."""
    return list(
        Ticket.objects.filter(is_problem=False)
        .select_related("category")
        .prefetch_related("messages", "waybills")
        .order_by("pk")
    )


def test_custom_fields_belong_to_the_category_and_agree_with_the_subject(logins: dict[str, User]) -> None:
    keys = collections.defaultdict(set)
    for code, key in CustomField.objects.values_list("category__code", "key"):
        keys[code].add(key)
    checked: collections.Counter[str] = collections.Counter()
    for ticket in story_tickets():
        assert ticket.category is not None, ticket.number
        code = ticket.category.code
        assert validate_custom_fields(ticket.category, ticket.custom_fields) == ticket.custom_fields
        assert set(ticket.custom_fields) == keys[code], (ticket.number, ticket.custom_fields)
        if code in ("delay", "damage", "loss"):
            (cargo,) = cargo_named(ticket.subject)
            assert ticket.custom_fields["cargo_type"] == CARGO_BY_NAME[cargo].kind, ticket.subject
            assert cargo in ticket.description
        if "origin" in ticket.custom_fields:
            # the route in the subject is the route in the fields
            assert ticket.custom_fields["origin"] in ticket.subject, ticket.subject
            assert ticket.custom_fields["destination"] in ticket.subject, ticket.subject
            # and no other city, but for the hub where it happened
            rest = ticket.subject
            for hub in HUBS.values():
                rest = rest.replace(hub, "")
            assert [p for p in PLACES if p in rest and p not in ticket.custom_fields.values()] == []
        checked[code] += 1
    # every category is told, and the ones with fields often enough to mean something
    assert set(checked) == set(keys) | {"route-change", "signing", "system", "return", "other"}
    assert min(checked[c] for c in ("delay", "damage", "loss", "billing")) > 50
    # a cold-chain subject (temperature words) has the cold-chain cargo type
    cold = Ticket.objects.filter(subject__contains="到货温度")
    assert cold.exists()
    assert {t.custom_fields["cargo_type"] for t in cold} == {"冷链货物"}


def test_the_conversation_and_the_summary_follow_the_story(logins: dict[str, User]) -> None:
    summaries: collections.Counter[str] = collections.Counter()
    for ticket in story_tickets():
        words = set(cargo_named(ticket.description)) | {p for p in PLACES if p in ticket.description}
        assert words, ticket.description
        for message in ticket.messages.all():
            if message.author_kind == "system":
                continue
            assert any(w in message.body_text for w in words), (ticket.subject, message.body_text)
        if ticket.solution_summary:
            summaries[ticket.solution_summary] += 1
            waybills = [w.waybill_no for w in ticket.waybills.all()]
            assert any(w in ticket.solution_summary for w in waybills), ticket.solution_summary
            assert any(w in ticket.solution_summary for w in words), (ticket.subject, ticket.solution_summary)
    assert len(summaries) > 1000
    assert summaries.most_common(1)[0][1] == 1  # no summary reused across tickets


def test_every_feature_is_there_for_the_demo_agent_and_lead(logins: dict[str, User]) -> None:
    agent, lead = logins["agent"], logins["lead"]
    now = timezone.now()
    assert set(agent.teams.values_list("code", flat=True)) == {DEMO_TEAM}
    assert TeamMembership.objects.get(user=lead, is_lead=True).team.code == DEMO_TEAM

    def reachable(ticket: Ticket, *users: User) -> bool:
        return all(
            access_ticket(u, ticket.number).pk == ticket.pk
            and visible_tickets(u).filter(pk=ticket.pk).exists()
            for u in users
        )

    # work orders: open, overdue and done, on tickets the agent and lead follow
    mine = Subtask.objects.filter(ticket__in=visible_tickets(agent), ticket__team__code=DEMO_TEAM)
    mine = mine.select_related("ticket")
    open_ = mine.filter(status=SubtaskStatus.OPEN, deadline__gt=now)
    overdue = mine.filter(status=SubtaskStatus.OPEN, deadline__lt=now)
    done = mine.filter(status=SubtaskStatus.DONE)
    for work_orders in (open_, overdue, done):
        assert work_orders.exists()
        assert all(reachable(w.ticket, agent, lead) for w in work_orders)

    # a work order the agent owns on another team's ticket: the owner follows that ticket too
    owned = Subtask.objects.select_related("ticket__team").get(assignee=agent)
    assert owned.ticket.team is not None
    assert owned.ticket.team.code != DEMO_TEAM
    assert reachable(owned.ticket, agent)

    # calls: answered, a callback promised, missed with callbacks due (one already late)
    calls = list(recent_calls(agent))
    assert {CallOutcome.RESOLVED, CallOutcome.TICKET_CREATED, CallOutcome.CALLBACK} <= {
        c.outcome for c in calls
    }
    missed = [c for c in calls if c.outcome == CallOutcome.NO_ANSWER]
    assert any(c.callback_due_at and c.callback_due_at > now for c in missed)
    assert any(c.callback_due_at and c.callback_due_at < now for c in missed)
    created = next(c.ticket for c in calls if c.outcome == CallOutcome.TICKET_CREATED)
    assert created is not None
    assert reachable(created, agent, lead)

    # a merged duplicate and linked tickets
    merged = Ticket.objects.get(merged_into__isnull=False)
    assert merged.close_reason == "duplicate"
    assert reachable(merged, agent, lead)
    assert merged.merged_into is not None
    assert reachable(merged.merged_into, agent, lead)
    link = TicketLink.objects.get(kind="related")
    assert reachable(link.source, agent, lead)
    assert reachable(link.target, agent, lead)

    # a problem with its incidents, managed by the lead
    problem = Ticket.objects.get(is_problem=True)
    incidents = list(problem.incidents.all())
    assert len(incidents) >= 3
    assert reachable(problem, agent, lead)
    assert all(reachable(t, lead) for t in incidents)
    assert all(t.messages.filter(body_text__contains="已恢复分拣").exists() for t in incidents)

    # a reopened ticket, still being worked
    reopened = Ticket.objects.get(reopened_count__gt=0)
    assert reopened.status_category in ACTIVE_CATEGORIES
    assert reachable(reopened, agent, lead)

    # unread notifications for both
    kinds = set(unread_for(agent).values_list("kind", flat=True))
    assert {"assigned", "customer_reply", "resolution_rejected", "mention"} <= kinds
    assert "mention" in set(unread_for(lead).values_list("kind", flat=True))


def test_the_portal_customer_is_a_vip_followed_end_to_end(logins: dict[str, User]) -> None:
    agent, lead, portal = logins["agent"], logins["lead"], logins["customer-portal"]
    assert portal.username == PORTAL_USERNAME
    customer = portal.portal_account.customer
    assert customer.tier == Tier.VIP
    assert customer.account_agent == agent  # handled by their account agent

    tickets = list(visible_tickets(portal).order_by("pk"))
    assert {t.customer_id for t in tickets} == {customer.pk}
    own = [t for t in tickets if t.team and t.team.code == DEMO_TEAM and t.assignee == agent]
    assert len(own) >= 4
    for ticket in own:
        assert access_ticket(agent, ticket.number) == ticket
        assert access_ticket(lead, ticket.number) == ticket
    states = {t.status_category for t in own}
    assert {StatusCategory.OPEN, StatusCategory.RESOLVED, StatusCategory.CLOSED} <= states

    # mid-conversation: the customer wrote in the portal, the agent answered, the customer replied last
    talking = [
        t
        for t in own
        if t.status_category == StatusCategory.OPEN
        and t.created_by == portal
        and list(t.messages.filter(visibility="public").values_list("author_kind", flat=True))[-2:]
        == ["agent", "customer"]
    ]
    assert talking
    ticket = talking[0]
    last = ticket.messages.filter(visibility="public").order_by("-created_at", "-pk").first()
    assert isinstance(last, Message)

    # and both sides open it in a browser session
    client = Client()
    assert client.login(username=portal.username, password=DEMO_PASSWORD)
    page = client.get(f"/portal/tickets/{ticket.number}/")
    assert page.status_code == 200
    assert last.body_text in page.content.decode()
    for user in (agent, lead):
        client = Client()
        assert client.login(username=user.username, password=DEMO_PASSWORD)
        page = client.get(f"/tickets/{ticket.number}/")
        assert page.status_code == 200
        assert last.body_text in page.content.decode()
