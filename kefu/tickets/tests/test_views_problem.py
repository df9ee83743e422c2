"""The problem section of the ticket page (kefu.tickets.problem_views, tickets/_problem.html)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from kefu.accounts.enums import Role
from kefu.accounts.models import User
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory
from kefu.core.models import AuditEvent
from kefu.tickets.enums import StatusCategory, Visibility
from kefu.tickets.models import IncidentRule, Message, SavedView, Ticket
from kefu.tickets.services.incidents import incident_link
from kefu.tickets.services.problems import problem_mark, problem_post_update
from kefu.tickets.tests.factories import LOGISTICS_FIELDS, new_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def team() -> Any:
    return TeamFactory(name="售后服务组")


def _member(make_user: Any, team: Any, role: Role, username: str) -> User:
    user: User = make_user(role, username=username)
    MembershipFactory(team=team, user=user)
    return user


@pytest.fixture
def lead(make_user: Any, team: Any) -> User:
    return _member(make_user, team, Role.LEAD, "zuzhang")


@pytest.fixture
def agent(make_user: Any, team: Any) -> User:
    return _member(make_user, team, Role.AGENT, "xiaoli")


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def problem(lead: User, team: Any) -> Ticket:
    return problem_mark(actor=lead, ticket=new_ticket(actor=lead, subject="郑州转运中心停运", team=team))


def _state() -> tuple[Any, ...]:
    return (
        list(
            Ticket.objects.order_by("pk").values_list(
                "pk", "version", "problem_id", "is_problem", "status_category"
            )
        ),
        list(IncidentRule.objects.values_list("waybills", "route_nodes")),
        Message.objects.count(),
        AuditEvent.objects.count(),
    )


def test_lead_marks_a_ticket_as_problem(lead: User, team: Any) -> None:
    ticket = new_ticket(actor=lead, team=team)
    page = client_for(lead).get(f"/tickets/{ticket.number}/")
    assert 'data-testid="problem-mark"' in page.text

    response = client_for(lead).post(f"/tickets/{ticket.number}/problem/mark/")

    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).is_problem
    page = client_for(lead).get(f"/tickets/{ticket.number}/")
    assert 'data-testid="problem"' in page.text


def test_agent_sees_no_controls_and_the_server_refuses(agent: User, problem: Ticket, team: Any) -> None:
    plain = new_ticket(team=team)
    assert 'data-testid="problem-mark"' not in client_for(agent).get(f"/tickets/{plain.number}/").text
    page = client_for(agent).get(f"/tickets/{problem.number}/")
    assert 'data-testid="problem"' in page.text  # the overview, read only
    assert "/problem/link/" not in page.text
    before = _state()

    marked = client_for(agent).post(f"/tickets/{plain.number}/problem/mark/")
    linked = client_for(agent).post(
        f"/tickets/{problem.number}/problem/link/", {"mode": "numbers", "numbers": plain.number}
    )

    assert (marked.status_code, linked.status_code) == (403, 403)
    assert _state() == before


def test_link_by_numbers_and_waybills_then_list_with_counts(lead: User, problem: Ticket, team: Any) -> None:
    first = new_ticket(team=team, subject="包裹一")
    second = new_ticket(team=team, subject="包裹二", waybills=["SF007001"])
    client = client_for(lead)

    by_number = client.post(
        f"/tickets/{problem.number}/problem/link/", {"mode": "numbers", "numbers": first.number.lower()}
    )
    by_waybill = client.post(
        f"/tickets/{problem.number}/problem/link/", {"mode": "waybills", "waybills": "SF007001，SF007002"}
    )
    page = client.get(f"/tickets/{problem.number}/")

    assert (by_number.status_code, by_waybill.status_code) == (302, 302)
    assert sorted(problem.incidents.values_list("pk", flat=True)) == [first.pk, second.pk]
    overview = page.context["problem_overview"]
    assert (overview.total, overview.open) == (2, 2)
    assert "包裹一" in page.text
    assert "包裹二" in page.text
    incident_page = client.get(f"/tickets/{first.number}/")
    assert 'data-testid="incident-banner"' in incident_page.text
    assert f"/tickets/{problem.number}/" in incident_page.text


def test_link_in_bulk_from_a_queue_query_and_a_saved_view(lead: User, problem: Ticket, team: Any) -> None:
    delayed = [new_ticket(team=team, category="delay", custom_fields=LOGISTICS_FIELDS) for _ in range(2)]
    other = new_ticket(team=team, category="other")
    view = SavedView.objects.create(owner=lead, name="其他分类", filters={"category": ["other"]})
    client = client_for(lead)

    from_query = client.post(
        f"/tickets/{problem.number}/problem/link/",
        {"mode": "filter", "query": "http://x/tickets/?queue=all&category=delay"},
    )
    from_view = client.post(
        f"/tickets/{problem.number}/problem/link/", {"mode": "filter", "saved_view": view.pk}
    )

    assert (from_query.status_code, from_view.status_code) == (302, 302)
    assert sorted(problem.incidents.values_list("pk", flat=True)) == sorted(
        [*(t.pk for t in delayed), other.pk]
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mode": "filter", "query": ""}, "不能关联全部工单"),
        ({"mode": "filter", "query": "queue=all"}, "不能关联全部工单"),
        ({"mode": "filter", "query": "category=billing"}, "没有符合筛选条件"),
        ({"mode": "filter", "saved_view": "999"}, "保存的视图不存在"),
        ({"mode": "numbers", "numbers": "T0000000000"}, "工单 T0000000000 不存在"),
        ({"mode": "numbers", "numbers": ""}, "请至少填写一个工单号"),
        ({"mode": "waybills", "waybills": "  "}, "请至少填写一个运单号"),
        ({"mode": "teleport"}, "请选择关联方式"),
    ],
)
def test_bad_link_requests_show_the_error_and_change_nothing(
    lead: User, problem: Ticket, team: Any, data: dict[str, str], message: str
) -> None:
    new_ticket(team=team, category="other")
    client = client_for(lead)
    before = _state()

    response = client.post(f"/tickets/{problem.number}/problem/link/", data)

    assert response.status_code == 422
    assert message in response.text
    assert 'data-testid="form-error"' in response.text
    assert _state() == before


def test_a_refused_batch_links_none(lead: User, problem: Ticket, team: Any) -> None:
    ok = new_ticket(team=team)
    other_problem = problem_mark(actor=lead, ticket=new_ticket(actor=lead, team=team))
    before = _state()

    response = client_for(lead).post(
        f"/tickets/{problem.number}/problem/link/",
        {"mode": "numbers", "numbers": f"{ok.number} {other_problem.number}"},
    )

    assert response.status_code == 422
    assert "是问题工单，不能作为事件" in response.text
    assert _state() == before


def test_rule_form_sets_shows_and_clears_the_rule(lead: User, problem: Ticket) -> None:
    client = client_for(lead)

    saved = client.post(
        f"/tickets/{problem.number}/problem/rule/",
        {
            "waybills": "SF000001\nSF000002",
            "route_nodes": "郑州、乌鲁木齐转运中心",
            "categories": ["delay"],
            "ends_at": "2099-01-01T08:00",
        },
    )
    page = client.get(f"/tickets/{problem.number}/")

    assert saved.status_code == 302
    rule = IncidentRule.objects.get(problem=problem)
    assert (rule.waybills, rule.route_nodes, [c.code for c in rule.categories.all()]) == (
        ["SF000001", "SF000002"],
        ["郑州", "乌鲁木齐转运中心"],
        ["delay"],
    )
    assert (
        "运单号：SF000001、SF000002；路由节点：郑州、乌鲁木齐转运中心；分类：时效延误；截止：2099-01-01 08:00"
        in page.text
    )
    assert 'value="2099-01-01T08:00"' in page.text
    assert client.post(f"/tickets/{problem.number}/problem/rule/", {"clear": "1"}).status_code == 302
    assert not IncidentRule.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"waybills": "", "route_nodes": ""}, "请至少填写一个运单号或路由节点"),
        ({"waybills": "SF000001", "ends_at": "2001-01-01T00:00"}, "截止时间必须晚于现在"),
        ({"waybills": "SF000001", "ends_at": "明天"}, "截止时间格式无效"),
        ({"waybills": "SF000001", "categories": ["nope"]}, "分类不存在：nope"),
    ],
)
def test_bad_rules_show_the_error_keep_the_input_and_change_nothing(
    lead: User, problem: Ticket, data: dict[str, Any], message: str
) -> None:
    client = client_for(lead)
    before = _state()

    response = client.post(f"/tickets/{problem.number}/problem/rule/", data)

    assert response.status_code == 422
    assert message in response.text
    assert "自动关联规则：" in response.text  # the summary names which form failed
    assert _state() == before


def test_post_update_reaches_every_open_incident_once(lead: User, problem: Ticket, team: Any) -> None:
    incidents = [new_ticket(team=team) for _ in range(2)]
    incident_link(actor=lead, problem=problem, incidents=incidents)
    client = client_for(lead)
    page = client.get(f"/tickets/{problem.number}/")
    update_id = page.context["problem_update_id"]

    for _ in range(2):  # a double submit posts once
        response = client.post(
            f"/tickets/{problem.number}/problem/update/", {"body": "承运商已恢复发运", "update_id": update_id}
        )
        assert response.status_code == 302

    for incident in incidents:
        assert list(incident.messages.values_list("body_text", "visibility")) == [
            ("承运商已恢复发运", Visibility.PUBLIC)
        ]
    empty = client.post(f"/tickets/{problem.number}/problem/update/", {"body": " ", "update_id": "x2"})
    assert empty.status_code == 422
    assert "内容不能为空" in empty.text


@pytest.mark.parametrize("with_incidents", [True, False])
def test_resolve_problem_with_or_without_its_incidents(
    lead: User, problem: Ticket, team: Any, with_incidents: bool
) -> None:
    incident = new_ticket(team=team)
    incident_link(actor=lead, problem=problem, incidents=[incident])
    data = {"solution_summary": "线路已恢复，货物已发出"}
    if with_incidents:
        data["resolve_incidents"] = "1"

    response = client_for(lead).post(f"/tickets/{problem.number}/problem/resolve/", data)

    assert response.status_code == 302
    assert Ticket.objects.get(pk=problem.pk).status_category == StatusCategory.RESOLVED
    incident.refresh_from_db()
    assert (incident.status_category == StatusCategory.RESOLVED) is with_incidents
    if with_incidents:
        assert incident.solution_summary == "线路已恢复，货物已发出"


def test_resolve_without_summary_is_refused(lead: User, problem: Ticket) -> None:
    before = _state()

    response = client_for(lead).post(f"/tickets/{problem.number}/problem/resolve/", {"solution_summary": ""})

    assert response.status_code == 422
    assert "解决工单需要填写解决方案摘要" in response.text
    assert _state() == before


def test_unknown_operation_is_404_and_get_shows_the_ticket(lead: User, problem: Ticket) -> None:
    client = client_for(lead)
    assert client.post(f"/tickets/{problem.number}/problem/explode/").status_code == 404
    # the address of a refused form loads: the ticket page with that form open
    response = client.get(f"/tickets/{problem.number}/problem/rule/")
    assert response.status_code == 200
    assert problem.subject in response.text


def test_english_problem_section_is_translated(lead: User, problem: Ticket) -> None:
    page = client_for(lead).get(f"/tickets/{problem.number}/", headers={"Accept-Language": "en"})
    section = page.text.split('data-testid="problem"', 1)[1].split("</section>", 1)[0]
    assert "Problem ticket" in section
    assert "Auto-link rule" in section
    # Only data stays Chinese: the subject, and the example node names (typed as the data spells them).
    shown = section.replace(problem.subject, "").replace("乌鲁木齐转运中心, 郑州", "")
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in shown), shown


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("zh-hans", ("群发更新", "公开回复已发到 2 张事件工单")),
        ("en", ("Update to all incidents", "public reply sent to 2 incidents")),
    ],
)
def test_the_history_says_what_an_update_did_not_its_internal_id(
    lead: User, problem: Ticket, team: Any, language: str, shown: tuple[str, str]
) -> None:
    incident_link(actor=lead, problem=problem, incidents=[new_ticket(team=team) for _ in range(2)])
    update_id = "3f2a9c0d41b84e6f9a7c1d2e3f4a5b6c"
    problem_post_update(actor=lead, problem=problem, body="承运商已恢复发运", update_id=update_id)

    page = client_for(lead).get(f"/tickets/{problem.number}/", headers={"Accept-Language": language})

    history = " ".join(re.sub(r"<[^>]+>", " ", page.text.split('data-testid="timeline"', 1)[1]).split())
    assert update_id not in page.text
    label, sent = shown
    assert f"{label} ∅ → {sent}" in history
    # said once, in words: no separate count
    assert "已通知事件工单数" not in history
    assert "Incidents notified" not in history
