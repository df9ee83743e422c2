"""Automatic incident linking: a problem's rule links tickets created afterwards, on every entry path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.accounts.enums import Role
from kefu.accounts.models import User
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory
from kefu.core import reference
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.models import ActorKind, AuditEvent
from kefu.customers.tests.factories import PortalAccountFactory, new_customer
from kefu.tickets.enums import FieldKind, StatusCategory
from kefu.tickets.models import CustomField, IncidentRule, Ticket
from kefu.tickets.services.create import TicketData, ticket_create
from kefu.tickets.services.edit import ticket_assign
from kefu.tickets.services.incidents import incident_rule_clear, incident_rule_set
from kefu.tickets.services.lifecycle import ticket_close, ticket_resolve
from kefu.tickets.services.problems import problem_mark
from kefu.tickets.tests.factories import LOGISTICS_FIELDS, category, closed_ticket, new_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(make_user: Callable[..., User]) -> User:
    """Who sets the rules here: a manager, who may see every ticket, so a rule reaches every new
    ticket it matches (a team lead's rule reaches only what the lead sees: the tests at the end)."""
    return make_user(Role.MANAGER, username="jingli")


@pytest.fixture
def problem(lead: User) -> Ticket:
    return problem_mark(actor=lead, ticket=new_ticket(actor=lead, subject="乌鲁木齐转运中心暴雪停运"))


@pytest.fixture
def city_nodes() -> None:
    """An operator who records the hub or city as the exception node (text instead of the seeded stages)."""
    CustomField.objects.filter(key="exception_node").update(kind=FieldKind.TEXT, choices=[])
    reference.changed()  # update() sends no signal


def delay_ticket(**fields: Any) -> Ticket:
    custom = {**LOGISTICS_FIELDS, **fields.pop("custom_fields", {})}
    return new_ticket(category="delay", custom_fields=custom, **fields)


def test_links_a_new_ticket_about_a_rule_waybill(lead: User, problem: Ticket) -> None:
    incident_rule_set(actor=lead, problem=problem, waybills=["sf001001", "SF001002"])
    problem.refresh_from_db()
    before = problem.version

    ticket = new_ticket(subject="我的快递没到", waybills=["SF001002"])

    ticket.refresh_from_db()
    problem.refresh_from_db()
    assert ticket.problem_id == problem.pk
    assert problem.version == before + 1
    event = AuditEvent.objects.filter(object_id=str(ticket.pk), changes__has_key="problem").get()
    assert (event.actor_kind, event.changes["problem"]) == (ActorKind.RULE, [None, str(problem)])
    assert event.actor_label == f"incident rule {problem.number} · {lead.get_full_name() or lead}"
    assert AuditEvent.objects.filter(
        object_id=str(problem.pk), changes__incidents__1=[ticket.number]
    ).exists()


def test_links_by_route_node_in_the_exception_node(lead: User, problem: Ticket, city_nodes: None) -> None:
    incident_rule_set(actor=lead, problem=problem, route_nodes=["乌鲁木齐", "郑州"])

    matching = delay_ticket(custom_fields={"exception_node": "郑州转运中心"})
    other_city = delay_ticket(custom_fields={"exception_node": "广州白云分拨"})

    assert Ticket.objects.get(pk=matching.pk).problem_id == problem.pk
    assert Ticket.objects.get(pk=other_city.pk).problem_id is None


def test_route_node_matches_a_seeded_stage(lead: User, problem: Ticket) -> None:
    incident_rule_set(actor=lead, problem=problem, route_nodes=["干线运输"])

    ticket = delay_ticket()  # exception node 干线运输

    assert Ticket.objects.get(pk=ticket.pk).problem_id == problem.pk


def test_category_limit(lead: User, problem: Ticket) -> None:
    incident_rule_set(actor=lead, problem=problem, waybills=["SF002001"], categories=[category("delay")])

    other_category = new_ticket(category="other", waybills=["SF002001"])
    in_category = delay_ticket(waybills=["SF002001"])

    assert Ticket.objects.get(pk=other_category.pk).problem_id is None
    assert Ticket.objects.get(pk=in_category.pk).problem_id == problem.pk


def test_expired_rule_links_nothing(lead: User, problem: Ticket) -> None:
    incident_rule_set(
        actor=lead, problem=problem, waybills=["SF003001"], ends_at=timezone.now() + dt.timedelta(hours=1)
    )
    IncidentRule.objects.update(ends_at=timezone.now() - dt.timedelta(seconds=1))

    ticket = new_ticket(waybills=["SF003001"])

    assert Ticket.objects.get(pk=ticket.pk).problem_id is None


@pytest.mark.parametrize("finish", ["resolve", "close"])
def test_resolved_or_closed_problem_links_nothing(lead: User, problem: Ticket, finish: str) -> None:
    incident_rule_set(actor=lead, problem=problem, waybills=["SF004001"])
    ticket_resolve(actor=lead, ticket=problem, solution_summary="已恢复")
    if finish == "close":
        ticket_close(actor=lead, ticket=problem, satisfaction_confirmed=True)

    ticket = new_ticket(waybills=["SF004001"])

    assert Ticket.objects.get(pk=ticket.pk).problem_id is None


def test_non_matching_ticket_is_left_alone(lead: User, problem: Ticket) -> None:
    incident_rule_set(actor=lead, problem=problem, waybills=["SF005001"], route_nodes=["郑州"])

    ticket = delay_ticket(waybills=["SF005002"])

    assert Ticket.objects.get(pk=ticket.pk).problem_id is None
    assert problem.incidents.count() == 0


def test_oldest_matching_problem_wins(lead: User, problem: Ticket) -> None:
    later = problem_mark(actor=lead, ticket=new_ticket(actor=lead))
    incident_rule_set(actor=lead, problem=later, waybills=["SF006001"])
    incident_rule_set(actor=lead, problem=problem, waybills=["SF006001"])

    ticket = new_ticket(waybills=["SF006001"])

    assert Ticket.objects.get(pk=ticket.pk).problem_id == problem.pk


def test_rules_are_read_once_then_cached_until_a_rule_changes(lead: User, problem: Ticket) -> None:
    def rule_reads() -> int:
        data = TicketData(
            subject="查询运价",
            channel="phone",
            type="inquiry",
            category=category("other"),
            waybills=["SF007001"],
        )
        with CaptureQueriesContext(connection) as ctx:
            ticket_create(actor=lead, data=data)
        return len([q for q in ctx.captured_queries if "incidentrule" in q["sql"]])

    reference.forget()  # as a fresh process
    assert (rule_reads(), rule_reads()) == (1, 0)
    incident_rule_set(actor=lead, problem=problem, waybills=["SF009999"], route_nodes=["郑州"])
    assert rule_reads() >= 1  # the new rule is read (with its categories)
    assert rule_reads() == 0
    ticket = new_ticket(subject="寄往郑州的包裹延误", waybills=["SF000001"])  # and it applies at once
    assert Ticket.objects.get(pk=ticket.pk).problem_id == problem.pk


def test_links_a_ticket_whose_text_names_a_route_node(lead: User, problem: Ticket) -> None:
    # given a rule for a hub closure, with the seeded exception-node field (stages, not places)
    incident_rule_set(actor=lead, problem=problem, route_nodes=["郑州转运中心"])

    # when customers write about that hub, and about another one
    about_it = delay_ticket(subject="包裹在郑州转运中心滞留三天", description="一直没有更新物流信息")
    elsewhere = delay_ticket(subject="包裹在广州转运中心滞留", description="郑州发出的货")

    # then only the ticket naming the whole node is linked (every token of the node must occur)
    assert Ticket.objects.get(pk=about_it.pk).problem_id == problem.pk
    assert Ticket.objects.get(pk=elsewhere.pk).problem_id is None


def test_portal_ticket_is_linked(lead: User, problem: Ticket) -> None:
    incident_rule_set(actor=lead, problem=problem, waybills=["SF008001"])
    account: Any = PortalAccountFactory(customer=new_customer())
    client = Client()
    client.force_login(account.user)

    response = client.post(
        "/portal/tickets/new/",
        {"subject": "包裹延误", "type": "complaint", "category": "other", "waybills": "SF008001"},
    )

    assert response.status_code == 302
    assert Ticket.objects.get(customer=account.customer).problem_id == problem.pk


def test_api_ticket_is_linked(lead: User, problem: Ticket, api_as: Any) -> None:
    incident_rule_set(actor=lead, problem=problem, waybills=["SF008002"])

    response = api_as(lead).post(
        "/tickets", {"subject": "包裹延误", "category": "other", "waybills": ["SF008002"]}
    )

    assert response.status_code == 201, response.content
    assert Ticket.objects.get(number=response.json()["number"]).problem_id == problem.pk


def test_set_replaces_and_clear_removes_the_rule(lead: User, problem: Ticket) -> None:
    incident_rule_set(actor=lead, problem=problem, waybills=["SF000001"])
    rule = incident_rule_set(
        actor=lead, problem=problem, route_nodes=[" 郑州 ", "郑州", ""], categories=[category("delay")]
    )

    assert (rule.waybills, rule.route_nodes) == ([], ["郑州"])
    assert IncidentRule.objects.count() == 1
    incident_rule_clear(actor=lead, problem=problem)
    assert not IncidentRule.objects.exists()
    changes = [
        e.changes["incident_rule"]
        for e in AuditEvent.objects.filter(
            object_id=str(problem.pk), changes__has_key="incident_rule"
        ).order_by("id")
    ]
    assert changes == [
        [None, "运单号：SF000001"],
        ["运单号：SF000001", "路由节点：郑州；分类：时效延误"],
        ["路由节点：郑州；分类：时效延误", None],
    ]


def _snapshot() -> tuple[list[Any], list[Any], int]:
    rules = list(IncidentRule.objects.values_list("problem_id", "waybills", "route_nodes", "ends_at"))
    tickets = list(Ticket.objects.order_by("pk").values_list("pk", "version"))
    return rules, tickets, AuditEvent.objects.count()


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({}, {"waybills", "route_nodes"}),
        ({"waybills": ["  "], "route_nodes": [" "]}, {"waybills", "route_nodes"}),
        ({"waybills": ["SF 1"]}, {"waybills"}),
        ({"route_nodes": ["长" * 65]}, {"route_nodes"}),
        ({"waybills": ["SF000001"], "ends_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)}, {"ends_at"}),
    ],
)
def test_bad_rules_are_refused_naming_the_field(
    lead: User, problem: Ticket, kwargs: dict[str, Any], fields: set[str]
) -> None:
    before = _snapshot()

    with pytest.raises(ValidationFailed) as caught:
        incident_rule_set(actor=lead, problem=problem, **kwargs)

    assert set(caught.value.fields) == fields
    assert _snapshot() == before


def test_rule_needs_an_open_problem_and_the_permission(lead: User, agent: User) -> None:
    plain = new_ticket(actor=lead)
    done = closed_ticket(actor=lead)
    before = _snapshot()

    with pytest.raises(ValidationFailed) as not_problem:
        incident_rule_set(actor=lead, problem=plain, waybills=["SF000001"])
    with pytest.raises(PermissionDenied):
        incident_rule_set(actor=agent, problem=plain, waybills=["SF000001"])
    problem = problem_mark(actor=lead, ticket=new_ticket(actor=lead))
    ticket_resolve(actor=lead, ticket=problem, solution_summary="已恢复")
    before = _snapshot()
    with pytest.raises(ValidationFailed) as resolved:
        incident_rule_set(actor=lead, problem=problem, waybills=["SF000001"])

    assert "problem" in not_problem.value.fields
    assert "problem" in resolved.value.fields
    assert _snapshot() == before
    assert done.status_category == StatusCategory.CLOSED


# --- what a rule may reach: the tickets its author (who saved it last) may see ----------------------


@pytest.fixture
def team_lead(make_user: Callable[..., User]) -> tuple[User, Any]:
    user = make_user(Role.LEAD, username="zuzhang")
    team = TeamFactory(name="华东一组")
    MembershipFactory(team=team, user=user)
    return user, team


def test_a_leads_rule_links_only_tickets_the_lead_may_see(team_lead: tuple[User, Any]) -> None:
    # given a team lead's problem and rule
    lead, team = team_lead
    problem = problem_mark(actor=lead, ticket=new_ticket(actor=lead, team=team))
    incident_rule_set(actor=lead, problem=problem, waybills=["SF100200001"])
    before = Ticket.objects.get(pk=problem.pk).version

    # when tickets about the waybill arrive for the lead's team and for another team
    ours = new_ticket(subject="我的快递没到", waybills=["SF100200001"], team=team)
    theirs = new_ticket(subject="我的快递也没到", waybills=["SF100200001"], team=TeamFactory(name="华南二组"))

    # then only the lead's team's ticket is linked; the other team's ticket is untouched
    assert Ticket.objects.get(pk=ours.pk).problem_id == problem.pk
    untouched = Ticket.objects.get(pk=theirs.pk)
    assert (untouched.problem_id, untouched.version) == (None, theirs.version)
    assert not AuditEvent.objects.filter(object_id=str(theirs.pk), changes__has_key="problem").exists()
    assert Ticket.objects.get(pk=problem.pk).version == before + 1  # the one incident


def test_a_rule_whose_author_left_links_nothing(lead: User, problem: Ticket) -> None:
    incident_rule_set(actor=lead, problem=problem, waybills=["SF100200001"])
    lead.is_active = False
    lead.save(update_fields=["is_active"])

    ticket = new_ticket(subject="我的快递没到", waybills=["SF100200001"])

    assert Ticket.objects.get(pk=ticket.pk).problem_id is None


def test_saving_a_rule_makes_it_act_for_whoever_saved_it(
    lead: User, problem: Ticket, team_lead: tuple[User, Any]
) -> None:
    # given a manager's rule, replaced by a team lead who sees only the team's tickets
    incident_rule_set(actor=lead, problem=problem, waybills=["SF100200001"])
    team_leader, team = team_lead
    ticket_assign(actor=lead, ticket=problem, assignee=None, team=team)  # the lead's to open
    incident_rule_set(actor=team_leader, problem=problem, waybills=["SF100200001", "SF100300001"])

    # when a ticket of another team matches
    theirs = new_ticket(subject="我的快递没到", waybills=["SF100300001"], team=TeamFactory(name="华南二组"))

    # then the rule reaches only what its last author may see
    assert IncidentRule.objects.get(problem=problem).set_by == team_leader
    assert Ticket.objects.get(pk=theirs.pk).problem_id is None
