"""Rules that used to live in one adapter now live in the services: the console page, the portal page
and the API refuse the same things with the same messages, and a refused action changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory
from kefu.core.models import AuditEvent
from kefu.customers.tests.factories import PortalAccountFactory, new_customer
from kefu.tickets.enums import AuthorKind, StatusCategory, Visibility
from kefu.tickets.models import Message, Ticket
from kefu.tickets.services.lifecycle import ticket_transition
from kefu.tickets.services.merge_split_link import ticket_merge
from kefu.tickets.services.reopening import ticket_reopen
from kefu.tickets.tests.factories import (
    LOGISTICS_FIELDS,
    closed_ticket,
    new_message,
    new_ticket,
    resolved_ticket,
    status,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(agent, team):
    return new_ticket(actor=agent, subject="冷链货物延误", team=team, customer=new_customer())


def _state(*tickets: Ticket) -> list[Any]:
    rows: list[Any] = []
    for t in tickets:
        t.refresh_from_db()
        rows.append((t.version, t.assignee_id, t.team_id, t.status_category, t.messages.count()))
    return [
        *rows,
        Ticket.objects.count(),
        AuditEvent.objects.filter(content_type__app_label="tickets").count(),
    ]


# --- who may be assigned, and which teams a ticket may move to ------------------------------------


@pytest.fixture
def other_team():
    return TeamFactory(name="华南二组")


@pytest.fixture
def candidates(make_user, team, other_team):
    """Someone the agent may not assign to, by reason — and the message that says why."""
    qa = make_user(Role.QA, username="qa", full_name="质检小周")
    MembershipFactory(team=team, user=qa)
    outsider = make_user(Role.AGENT, username="outsider", full_name="外组小陈")
    MembershipFactory(team=other_team, user=outsider)
    gone = make_user(Role.AGENT, username="gone", full_name="离职小王", is_active=False)
    MembershipFactory(team=team, user=gone)
    return {
        "qa": (qa, "质检小周 的角色（质检）不处理工单"),
        "outsider": (outsider, "外组小陈 不是“华东一组”的成员"),
        "inactive": (gone, "处理人必须是在职员工"),
    }


@pytest.mark.parametrize("who", ["qa", "outsider", "inactive"])
@pytest.mark.usefixtures("agent")
def test_page_and_api_refuse_the_same_assignees_with_the_same_message(
    who, candidates, as_agent, api_as, ticket
):
    user, message = candidates[who]
    agent = as_agent.user
    before = _state(ticket)

    page = as_agent.post(
        f"/tickets/{ticket.number}/assign/", {"assignee": user.pk, "version": ticket.version}
    )
    api = api_as(agent).post(f"/tickets/{ticket.number}/assign", {"assignee": user.pk})

    assert page.status_code == api.status_code == 422
    assert page.context["field_errors"] == {"assignee": [message]}
    assert api.json()["fields"] == {"assignee": [message]}
    assert _state(ticket) == before


@pytest.mark.usefixtures("candidates")
def test_the_page_offers_only_assignable_people(as_agent, make_user, team, ticket):
    agent = as_agent.user
    teammate = make_user(Role.LEAD, username="lead", full_name="组长老赵")
    MembershipFactory(team=team, user=teammate)

    offered = as_agent.get(f"/tickets/{ticket.number}/").context["assignees"]

    assert set(offered) == {agent, teammate}


def test_an_agent_may_not_move_a_ticket_to_another_team(api_as, agent, other_team, ticket):
    before = _state(ticket)

    response = api_as(agent).post(
        f"/tickets/{ticket.number}/assign", {"assignee": None, "team": other_team.pk}
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {"team": ["不能把工单交给“华南二组”：你不是该团队的成员"]}
    assert _state(ticket) == before


def test_an_agent_may_file_a_new_ticket_for_another_team(api_as, agent, other_team):
    created = api_as(agent).post("/tickets", {"subject": "转给华南", "team": other_team.pk})

    assert created.status_code == 201  # its creator keeps seeing it
    assert created.json()["internal"]["team"]["id"] == other_team.pk


def test_a_manager_may_move_a_ticket_to_any_team_and_any_handler(
    make_user, api_as, candidates, other_team, ticket
):
    manager = make_user(Role.MANAGER, username="boss")
    outsider, _message = candidates["outsider"]

    response = api_as(manager).post(
        f"/tickets/{ticket.number}/assign", {"assignee": outsider.pk, "team": other_team.pk}
    )

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.team) == (outsider, other_team)


def test_a_manager_still_may_not_assign_to_qa(make_user, api_as, candidates, ticket):
    manager = make_user(Role.MANAGER, username="boss")
    qa, message = candidates["qa"]

    response = api_as(manager).post(f"/tickets/{ticket.number}/assign", {"assignee": qa.pk})

    assert response.status_code == 422
    assert response.json()["fields"] == {"assignee": [message]}


# --- what a portal user may set ---------------------------------------------------------------------


@pytest.fixture
def account():
    return PortalAccountFactory(customer=new_customer(name="华东快运有限公司"))


TYPE_REFUSED = "客户可选的类型：咨询、投诉、建议、售后、询价"


@pytest.mark.parametrize("kind", ["claim", "exception"])
def test_portal_page_and_api_refuse_staff_only_types_alike(kind, account, api_as):
    client = Client()
    client.force_login(account.user)

    page = client.post("/portal/tickets/new/", {"subject": "要求赔偿", "type": kind, "category": "other"})
    api = api_as(account.user).post("/tickets", {"subject": "要求赔偿", "type": kind, "category": "other"})

    assert page.status_code == api.status_code == 422
    assert page.context["field_errors"] == {"type": [TYPE_REFUSED]}
    assert api.json()["fields"] == {"type": [TYPE_REFUSED]}
    assert Ticket.objects.count() == 0


def test_portal_api_may_not_route_or_label_and_the_service_says_so(account, api_as, agent, team):
    body = {"subject": "加急", "priority": "urgent", "assignee": agent.pk, "team": team.pk, "tags": ["VIP"]}

    response = api_as(account.user).post("/tickets", body)

    assert response.status_code == 422
    assert response.json()["fields"] == {
        name: ["不允许客户设置此字段"] for name in ("priority", "team", "assignee", "tags")
    }
    assert Ticket.objects.count() == 0


def test_portal_may_open_the_types_it_is_offered(account, api_as):
    response = api_as(account.user).post("/tickets", {"subject": "投诉派送员", "type": "complaint"})

    assert response.status_code == 201


# --- may-merge: the preview asks the merge's own check ------------------------------------------------


def _writes(queries: list[dict[str, Any]]) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def test_merge_preview_writes_nothing(as_agent, agent, team, ticket):
    survivor = new_ticket(actor=agent, subject="同一票货", team=team, customer=ticket.customer)

    with CaptureQueriesContext(connection) as queries:
        page = as_agent.post(f"/tickets/{ticket.number}/merge/", {"into": survivor.number})

    assert page.status_code == 200
    assert 'data-testid="merge-confirm"' in page.text
    assert [
        sql for sql in _writes(queries.captured_queries) if "tickets_" in sql or "core_audit" in sql
    ] == []


def test_page_and_api_refuse_a_merge_with_the_same_message(as_agent, agent, api_as, team, ticket):
    other = new_ticket(actor=agent, subject="别的公司", team=team, customer=new_customer())
    before = _state(ticket, other)

    page = as_agent.post(f"/tickets/{ticket.number}/merge/", {"into": other.number})
    api = api_as(agent).post(f"/tickets/{ticket.number}/merge", {"into": other.number})

    assert page.status_code == api.status_code == 422
    assert page.context["error_summary"] == api.json()["message"] == "不能合并不同客户的工单"
    assert _state(ticket, other) == before


def test_page_and_api_refuse_to_split_a_system_message_alike(as_agent, agent, api_as, team, ticket):
    new_message(ticket=ticket, actor=agent, body="已联系承运商")
    survivor = new_ticket(actor=agent, subject="同一票货", team=team, customer=ticket.customer)
    new_message(ticket=survivor, actor=agent, body="第一条")

    ticket_merge(actor=agent, source=ticket, target=survivor)
    system = survivor.messages.get(author_kind=AuthorKind.SYSTEM)
    before = _state(survivor)

    page = as_agent.post(f"/tickets/{survivor.number}/split/", {"message": system.pk, "subject": "拆"})
    api = api_as(agent).post(f"/tickets/{survivor.number}/split", {"message": system.pk, "subject": "拆"})

    assert page.status_code == api.status_code == 422
    assert page.context["error_summary"] == api.json()["message"] == "系统消息不能拆分"
    assert _state(survivor) == before


# --- split: the new ticket's category and fields -------------------------------------------------------


@pytest.fixture
def talkative(agent, team):
    ticket = new_ticket(actor=agent, subject="两件事", team=team, customer=new_customer())
    new_message(ticket=ticket, actor=agent, body="咨询运费")
    new_message(ticket=ticket, actor=agent, body="另一票货破损了", visibility=Visibility.INTERNAL)
    return ticket


def test_split_page_offers_the_category_and_checks_its_required_fields(as_agent, talkative):
    note = talkative.messages.get(body_text="另一票货破损了")
    page = as_agent.get(f"/tickets/{talkative.number}/")
    assert f'id="split-fields-{note.pk}"' in page.text
    before = _state(talkative)

    refused = as_agent.post(
        f"/tickets/{talkative.number}/split/",
        {"message": note.pk, "subject": "破损", "category": "damage", "cf_cargo_type": "普通货物"},
    )

    assert refused.status_code == 422
    assert set(refused.context["field_errors"]) == {
        "custom_fields.exception_node",
        "custom_fields.expected_solution",
    }
    assert 'value="普通货物"' in refused.text  # what the agent typed is kept
    assert _state(talkative) == before

    done = as_agent.post(
        f"/tickets/{talkative.number}/split/",
        {
            "message": note.pk,
            "subject": "破损",
            "category": "damage",
            **{f"cf_{k}": v for k, v in LOGISTICS_FIELDS.items()},
        },
    )

    assert done.status_code == 302
    new = Ticket.objects.get(subject="破损")
    assert new.category is not None
    assert (new.category.code, new.custom_fields) == ("damage", LOGISTICS_FIELDS)
    assert Message.objects.get(pk=note.pk).ticket == new


def test_split_api_takes_a_category_and_fields(api_as, agent, talkative):
    note = talkative.messages.get(body_text="另一票货破损了")
    before = _state(talkative)

    refused = api_as(agent).post(
        f"/tickets/{talkative.number}/split", {"message": note.pk, "subject": "破损", "category": "damage"}
    )
    assert refused.status_code == 422
    assert "custom_fields.cargo_type" in refused.json()["fields"]
    assert _state(talkative) == before

    done = api_as(agent).post(
        f"/tickets/{talkative.number}/split",
        {"message": note.pk, "subject": "破损", "category": "damage", "custom_fields": LOGISTICS_FIELDS},
    )
    assert done.status_code == 201
    assert done.json()["category"]["code"] == "damage"
    assert done.json()["custom_fields"] == LOGISTICS_FIELDS


def test_split_without_a_category_keeps_the_originals(api_as, agent, talkative):
    note = talkative.messages.get(body_text="另一票货破损了")

    done = api_as(agent).post(f"/tickets/{talkative.number}/split", {"message": note.pk, "subject": "拆出"})

    assert done.status_code == 201
    assert done.json()["category"]["code"] == talkative.category.code


# --- reopening passes the lifecycle ------------------------------------------------------------------


def _last_change(ticket: Ticket) -> Any:
    return (
        AuditEvent.objects.filter(content_type__model="ticket", object_id=str(ticket.pk), action="update")
        .latest("id")
        .changes
    )


def test_reopen_clears_the_close_and_keeps_it_in_the_audit(agent):
    ticket = closed_ticket(actor=agent, summary="已加急派送")

    reopened = ticket_reopen(actor=agent, ticket=ticket, reason="")

    assert (reopened.satisfaction_confirmed, reopened.close_reason, reopened.solution_summary) == (
        None,
        "",
        "",
    )
    changes = _last_change(ticket)
    assert changes["status_category"] == ["closed", "open"]
    assert changes["satisfaction_confirmed"] == [True, None]
    assert changes["close_reason"] == ["confirmed", ""]
    assert changes["solution_summary"] == ["已加急派送", ""]


def test_a_customer_reply_reopens_a_resolved_ticket_through_the_lifecycle(agent):
    ticket = resolved_ticket(actor=agent, summary="已加急派送")
    version = ticket.version

    new_message(ticket=ticket, body="还是没收到", author_kind=AuthorKind.CUSTOMER)

    ticket.refresh_from_db()
    assert (ticket.status_category, ticket.reopened_count, ticket.solution_summary) == ("open", 1, "")
    assert ticket.version == version + 1
    changes = _last_change(ticket)
    assert changes["status_category"] == ["resolved", "open"]
    assert changes["solution_summary"] == ["已加急派送", ""]


def test_a_customer_reply_moves_pending_to_open_with_an_audit_event(agent):
    ticket = ticket_transition(
        actor=agent, ticket=new_ticket(actor=agent), status=status(StatusCategory.PENDING)
    )

    new_message(ticket=ticket, body="我补充一下地址", author_kind=AuthorKind.CUSTOMER)

    ticket.refresh_from_db()
    assert ticket.status_category == StatusCategory.OPEN
    assert _last_change(ticket)["status_category"] == ["pending", "open"]


def test_the_agents_reopen_on_the_page_clears_the_resolution(as_agent, agent, team):
    ticket = resolved_ticket(actor=agent, team=team, summary="已加急派送")

    response = as_agent.post(f"/tickets/{ticket.number}/reopen/", {"reason": "客户说没收到"})

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status_category, ticket.solution_summary, ticket.resolved_at) == ("open", "", None)


def test_an_agent_may_take_a_ticket_that_goes_to_another_team(as_agent, agent, other_team):
    from kefu.core import reference
    from kefu.tickets.models import Category

    Category.objects.filter(code="other").update(default_team=other_team)
    reference.changed()

    response = as_agent.post(
        "/tickets/new/",
        {"subject": "转运中心咨询", "type": "inquiry", "category": "other", "assign_to_me": "1"},
    )

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.team, ticket.assignee) == (other_team, agent)
