"""The agent console through the test client: queue, ticket page and its actions, new ticket, call log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory, UserFactory
from kefu.customers.tests.factories import new_contact, new_customer
from kefu.tickets.enums import CallOutcome, StatusCategory, Visibility
from kefu.tickets.models import CallLog, Message, SavedView, Subtask, Ticket
from kefu.tickets.services.edit import ticket_assign, ticket_update
from kefu.tickets.tests.factories import (
    LOGISTICS_FIELDS,
    UserClient,
    new_message,
    new_ticket,
    resolved_ticket,
    status,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    customer = new_customer(name="顺达冷链物流有限公司", tier="vip")
    new_contact(customer=customer, name="王小明", phone="+8613812345678")
    return customer


def make_colleague(team, **fields):
    user = UserFactory(role=Role.AGENT, **fields)
    MembershipFactory(team=team, user=user)
    return user


@pytest.fixture
def ticket(agent, team, customer):
    return new_ticket(actor=agent, subject="冷链货物延误", team=team, customer=customer)


# --- queue ----------------------------------------------------------------------------------------


def test_queue_lists_visible_tickets_with_queue_counts(as_agent, ticket, team):
    other_team = TeamFactory()
    hidden = new_ticket(subject="别组的工单", team=other_team)
    response = as_agent.get("/tickets/")
    assert response.status_code == 200
    assert ticket.number in response.text
    assert hidden.number not in response.text
    assert "冷链货物延误" in response.text
    # the counts come separately (htmx, after the list), from what the agent may see
    assert 'hx-get="/tickets/counts/?queue=all"' in response.text
    counted = as_agent.get("/tickets/counts/", {"queue": "team"})
    counts = {key: count for key, _label, count in counted.context["queues"]}
    assert (counts["team"], counts["unassigned"], counts["mine"], counts["all"]) == (1, 1, 0, 1)
    assert 'data-testid="queue-team"' in counted.text
    assert '<span class="count">1</span>' in counted.text
    assert 'hx-trigger="every 60s"' in counted.text


def test_queue_counts_count_active_tickets_only_and_vip_customers(as_agent, agent, team, ticket):
    # given the VIP customer's ticket (the fixture), a standard customer's ticket assigned to the agent,
    # and a resolved VIP ticket
    new_ticket(subject="普通客户的工单", team=team, customer=new_customer(), assignee=agent)
    resolved_ticket(team=team, assignee=agent, customer=ticket.customer)

    counts = {k: c for k, _label, c in as_agent.get("/tickets/counts/").context["queues"]}

    assert (counts["vip"], counts["mine"], counts["all"]) == (1, 1, 2)


def test_queue_counts_need_ticket_access(client):
    from kefu.customers.tests.factories import PortalAccountFactory

    assert client.get("/tickets/counts/").status_code == 302  # to the login page
    portal = UserClient(PortalAccountFactory().user)
    assert portal.get("/tickets/counts/").status_code == 403


def test_queue_filters_and_search(as_agent, agent, team):
    urgent = new_ticket(
        subject="包裹破损严重",
        team=team,
        priority="urgent",
        category="damage",
        custom_fields=LOGISTICS_FIELDS,
    )
    normal = new_ticket(subject="咨询运费 quote", team=team, type="quote")
    client = as_agent
    assert [t.number for t in client.get("/tickets/", {"priority": "urgent"}).context["rows"]] == [
        urgent.number
    ]
    assert [t.number for t in client.get("/tickets/", {"type": "quote"}).context["rows"]] == [normal.number]
    assert [t.number for t in client.get("/tickets/", {"category": "damage"}).context["rows"]] == [
        urgent.number
    ]
    assert [t.number for t in client.get("/tickets/", {"q": "破损"}).context["rows"]] == [urgent.number]
    assert [t.number for t in client.get("/tickets/", {"q": "quote"}).context["rows"]] == [normal.number]
    ticket_update(actor=agent, ticket=normal, version=None, changes={}, add_tags=["加急"])
    assert [t.number for t in client.get("/tickets/", {"tags": "加急"}).context["rows"]] == [normal.number]
    ticket_assign(actor=agent, ticket=urgent, assignee=agent)
    rows = client.get("/tickets/", {"assignee": agent.pk}).context["rows"]
    assert [t.number for t in rows] == [urgent.number]
    mine = client.get("/tickets/", {"queue": "mine"}).context["rows"]
    assert [t.number for t in mine] == [urgent.number]
    rows = client.get("/tickets/", {"status_category": "open"}).context["rows"]
    assert [t.number for t in rows] == [urgent.number]
    assert (
        client.get("/tickets/", {"created_from": "2000-01-01", "created_to": "2000-01-02"}).context["rows"]
        == []
    )
    assert "没有符合条件的工单" in client.get("/tickets/", {"q": "不存在的内容"}).text


def test_queue_filters_by_customer_public_id(as_agent, team, customer, ticket):
    other = new_ticket(subject="别家客户的工单", team=team, customer=new_customer())
    response = as_agent.get("/tickets/", {"customer": customer.public_id})
    assert [t.number for t in response.context["rows"]] == [ticket.number]
    assert f"customer={customer.public_id}" in response.context["query"]  # kept by saved views and paging
    assert as_agent.get("/tickets/", {"customer": "nope"}).context["rows"] == []
    assert {t.number for t in as_agent.get("/tickets/").context["rows"]} == {ticket.number, other.number}
    # the filter form keeps the customer when other filters change, and names it with a way out
    assert f'<input type="hidden" name="customer" value="{customer.public_id}">' in response.text
    assert "顺达冷链物流有限公司" in response.text
    assert response.context["without_customer"] == "queue=all"


def test_new_ticket_form_is_prefilled_with_a_customer(as_agent, customer):
    page = as_agent.get("/tickets/new/", {"customer": customer.public_id})
    assert page.context["customer"] == customer
    assert f'<option value="{customer.public_id}" selected>' in page.text
    assert as_agent.get("/tickets/new/", {"customer": "nope"}).context["customer"] is None


def test_queue_htmx_returns_only_rows(as_agent, ticket):
    response = as_agent.get(
        "/tickets/", {"q": "冷链"}, headers={"HX-Request": "true", "HX-Target": "ticket-rows"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<tbody>" in response.text
    assert ticket.number in response.text


def test_queue_keyset_pagination(as_agent, team):
    for n in range(53):
        new_ticket(subject=f"批量工单 {n}", team=team)
    first = as_agent.get("/tickets/")
    assert len(first.context["rows"]) == 50
    cursor = first.context["next_cursor"]
    assert cursor
    second = as_agent.get("/tickets/", {"cursor": cursor})
    assert len(second.context["rows"]) == 3
    assert second.context["next_cursor"] is None
    seen = {t.pk for t in first.context["rows"]} | {t.pk for t in second.context["rows"]}
    assert len(seen) == 53
    assert len(as_agent.get("/tickets/", {"cursor": "garbage"}).context["rows"]) == 50


def test_queue_query_count_does_not_grow_with_rows(as_agent, team, agent):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert as_agent.get("/tickets/").status_code == 200
        return len(ctx.captured_queries)

    for n in range(3):
        t = new_ticket(subject=f"工单{n}", team=team, customer=new_customer())
        ticket_update(actor=agent, ticket=t, version=None, changes={}, add_tags=["甲", "乙"])
    count()  # warm: permissions are then cached between requests
    few = count()
    for n in range(20):
        t = new_ticket(subject=f"更多工单{n}", team=team, customer=new_customer(), assignee=agent)
        ticket_update(actor=agent, ticket=t, version=None, changes={}, add_tags=["丙"])
    assert count() == few
    # session, user, reference stamp (permissions cached), team ids, rows, tags, views, 4 option lists
    # (assignees, statuses, categories, teams), the bell's unread count (queue counts: by htmx)
    assert few == 12, few


def test_queue_permissions(client, make_user, ticket):
    assert client.get("/tickets/").status_code == 302
    qa = UserClient(make_user(Role.QA))
    response = qa.get("/tickets/")
    assert response.status_code == 200
    assert ticket.number in response.text  # QA sees all, read only
    assert 'name="tickets"' not in response.text  # no bulk checkboxes
    from kefu.customers.tests.factories import PortalAccountFactory

    portal = UserClient(PortalAccountFactory().user)
    assert portal.get("/tickets/").status_code == 403


# --- saved views ----------------------------------------------------------------------------------


def test_saved_views_mine_and_shared_by_teammates(as_agent, agent, team, make_user):
    response = as_agent.post(
        "/tickets/views/",
        {"name": "紧急投诉", "query": "queue=all&priority=urgent&type=complaint", "shared": "1"},
    )
    assert response.status_code == 302
    view = SavedView.objects.get()
    assert view.filters == {"priority": ["urgent"], "type": ["complaint"], "queue": ["all"]}
    assert view.owner == agent
    assert view.shared
    mate = make_user(Role.AGENT)
    MembershipFactory(team=team, user=mate)
    stranger = make_user(Role.AGENT)
    mate_page = UserClient(mate).get("/tickets/")
    assert "紧急投诉" in mate_page.text
    assert "priority=urgent" in mate_page.text
    assert "紧急投诉" not in UserClient(stranger).get("/tickets/").text
    # Only the owner deletes.
    assert UserClient(mate).post(f"/tickets/views/{view.pk}/delete/").status_code == 404
    assert as_agent.post(f"/tickets/views/{view.pk}/delete/").status_code == 302
    assert not SavedView.objects.exists()


def test_saved_view_needs_a_name(as_agent):
    response = as_agent.post("/tickets/views/", {"name": " ", "query": "priority=urgent"}, follow=True)
    assert "请填写视图名称" in response.text
    assert not SavedView.objects.exists()


# --- bulk -----------------------------------------------------------------------------------------


def test_bulk_actions_apply_per_ticket_and_report_failures(as_agent, agent, team):
    a = new_ticket(subject="甲", team=team)
    b = new_ticket(subject="乙", team=team)
    hidden = new_ticket(subject="别组", team=TeamFactory())
    response = as_agent.post(
        "/tickets/bulk/",
        {"tickets": [a.number, b.number, hidden.number], "action": "priority", "priority": "high"},
        follow=True,
    )
    assert response.status_code == 200
    a.refresh_from_db()
    b.refresh_from_db()
    hidden.refresh_from_db()
    assert (a.priority, b.priority, hidden.priority) == ("high", "high", "normal")
    assert "已处理 2 张工单" in response.text
    assert f"{hidden.number}：工单不存在" in response.text
    as_agent.post("/tickets/bulk/", {"tickets": [a.number], "action": "assign", "assignee": str(agent.pk)})
    a.refresh_from_db()
    assert a.assignee == agent
    as_agent.post("/tickets/bulk/", {"tickets": [a.number], "action": "assign", "assignee": "none"})
    a.refresh_from_db()
    assert a.assignee is None
    response = as_agent.post(
        "/tickets/bulk/", {"tickets": [a.number], "action": "tag", "tag": ""}, follow=True
    )
    assert "请填写标签" in response.text
    as_agent.post("/tickets/bulk/", {"tickets": [a.number, b.number], "action": "tag", "tag": "批量"})
    assert set(Ticket.objects.filter(tags__name="批量").values_list("pk", flat=True)) == {a.pk, b.pk}
    resolved = resolved_ticket(subject="已解决", team=team)
    response = as_agent.post(
        "/tickets/bulk/",
        {"tickets": [b.number, resolved.number], "action": "status", "status": "waiting-customer"},
        follow=True,
    )
    b.refresh_from_db()
    assert b.status_category == StatusCategory.PENDING
    assert f"{resolved.number}：请使用“重新打开”操作" in response.text


def test_bulk_is_refused_to_read_only_roles(make_user, ticket):
    qa = UserClient(make_user(Role.QA))
    response = qa.post(
        "/tickets/bulk/", {"tickets": [ticket.number], "action": "priority", "priority": "high"}
    )
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


# --- ticket page ----------------------------------------------------------------------------------


def test_ticket_page_shows_header_timeline_notes_and_customer(as_agent, agent, ticket):
    new_message(ticket=ticket, actor=agent, body="您好，我们正在核实物流轨迹。")
    new_message(ticket=ticket, actor=agent, body="内部：承运商说明天到", visibility=Visibility.INTERNAL)
    response = as_agent.get(f"/tickets/{ticket.number}/")
    assert response.status_code == 200
    text = response.text
    assert ticket.number in text
    assert "冷链货物延误" in text
    assert "您好，我们正在核实物流轨迹。" in text
    assert "内部：承运商说明天到" in text
    assert 'data-testid="message-internal"' in text
    assert "顺达冷链物流有限公司" in text
    assert "138******78" in text  # agents see the contact masked
    assert "13812345678" not in text
    assert "{% block" not in text


def test_ticket_page_query_count_is_bounded(as_agent, agent, ticket):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert as_agent.get(f"/tickets/{ticket.number}/").status_code == 200
        return len(ctx.captured_queries)

    new_message(ticket=ticket, actor=agent)
    count()  # warm: permissions are then cached between requests
    few = count()
    for n in range(10):
        new_message(
            ticket=ticket, actor=agent, body=f"回复 {n}", attachments=[SimpleUploadedFile(f"a{n}.txt", b"x")]
        )
        ticket_update(
            actor=agent, ticket=ticket, version=None, changes={"priority": "high" if n % 2 else "low"}
        )
    assert count() == few
    # one query per panel (incl. links, problem, the reply draft, the bell), none per message or event
    assert few == 21, few


def test_sidebar_lists_only_the_customers_tickets_the_agent_may_see(as_agent, team, customer, ticket):
    # given the same customer's tickets in the agent's team and in another team
    new_ticket(customer=customer, team=team, subject="本组的另一张工单")
    new_ticket(customer=customer, team=TeamFactory(), subject="别组的保密工单")

    # when the agent opens the ticket
    text = as_agent.get(f"/tickets/{ticket.number}/").content.decode()

    # then the sidebar's recent tickets show the team's ticket and nothing of the other team's
    assert "本组的另一张工单" in text
    assert "别组的保密工单" not in text


def test_ticket_of_another_team_is_404(make_user, ticket):
    outsider = make_user(Role.AGENT)
    client = UserClient(outsider)
    assert client.get(f"/tickets/{ticket.number}/").status_code == 404
    assert client.post(f"/tickets/{ticket.number}/reply/", {"body": "hi"}).status_code == 404
    assert not Message.objects.exists()


def test_qa_reads_but_every_post_is_403(make_user, ticket):
    qa = UserClient(make_user(Role.QA))
    page = qa.get(f"/tickets/{ticket.number}/")
    assert page.status_code == 200
    assert 'id="reply-body"' not in page.text
    for action, data in (
        ("reply", {"body": "hi"}),
        ("assign", {"assignee": "me"}),
        ("status", {"status": "open"}),
        ("resolve", {"solution_summary": "x"}),
        ("edit", {"subject": "x"}),
        ("tags", {"add": "x"}),
        ("watch", {"watching": "1"}),
    ):
        assert qa.post(f"/tickets/{ticket.number}/{action}/", data).status_code == 403, action
    assert qa.post("/tickets/new/", {"subject": "x"}).status_code == 403
    assert not Message.objects.exists()


def test_reply_public_and_internal_with_attachment(as_agent, ticket):
    response = as_agent.post(
        f"/tickets/{ticket.number}/reply/",
        {
            "body": "已联系承运商",
            "visibility": "public",
            "seen_version": ticket.version,
            "attachments": [SimpleUploadedFile("轨迹.txt", b"tracking", content_type="text/plain")],
        },
    )
    assert response.status_code == 302
    message = Message.objects.get()
    assert message.visibility == Visibility.PUBLIC
    assert message.attachments.get().name == "轨迹.txt"
    ticket.refresh_from_db()
    as_agent.post(
        f"/tickets/{ticket.number}/reply/",
        {"body": "仅内部", "visibility": "internal", "seen_version": ticket.version},
    )
    assert Message.objects.filter(visibility=Visibility.INTERNAL, body_text="仅内部").exists()
    page = as_agent.get(f"/tickets/{ticket.number}/")
    assert "轨迹.txt" in page.text


def test_reply_with_a_stale_version_keeps_the_draft_and_names_the_change(as_agent, agent, team, ticket):
    colleague = make_colleague(team, full_name="王芳")
    seen = ticket.version
    new_message(ticket=ticket, actor=colleague, body="已安排今天派送")
    response = as_agent.post(
        f"/tickets/{ticket.number}/reply/",
        {"body": "我的草稿内容", "visibility": "public", "seen_version": seen},
    )
    assert response.status_code == 409
    assert "王芳 在 " in response.text
    assert "回复了客户" in response.text
    assert "我的草稿内容" in response.text
    assert Message.objects.count() == 1
    ticket.refresh_from_db()
    assert f'name="seen_version" value="{ticket.version}"' in response.text


def test_reply_with_an_oversized_attachment_is_refused(as_agent, ticket, settings):
    settings.KEFU_ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("big.pdf", b"x" * (1024 * 1024 + 1), content_type="application/pdf")
    response = as_agent.post(
        f"/tickets/{ticket.number}/reply/", {"body": "附件", "visibility": "public", "attachments": [big]}
    )
    assert response.status_code == 422
    assert "超过上限 1 MB" in response.text
    assert "附件" in response.text
    assert not Message.objects.exists()


def test_empty_reply_is_refused(as_agent, ticket):
    response = as_agent.post(f"/tickets/{ticket.number}/reply/", {"body": "  ", "visibility": "public"})
    assert response.status_code == 422
    assert "内容不能为空" in response.text


def test_assign_to_me_then_change_status(as_agent, agent, ticket):
    assert (
        as_agent.post(
            f"/tickets/{ticket.number}/assign/", {"assignee": "me", "version": ticket.version}
        ).status_code
        == 302
    )
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    assert ticket.status_category == StatusCategory.OPEN
    response = as_agent.post(
        f"/tickets/{ticket.number}/status/", {"status": "waiting-carrier", "version": ticket.version}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status.code == "waiting-carrier"


def test_invalid_transition_shows_the_message(as_agent, team):
    done = resolved_ticket(team=team)
    response = as_agent.post(f"/tickets/{done.number}/status/", {"status": "waiting-customer"})
    assert response.status_code == 422
    assert "请使用“重新打开”操作" in response.text


def test_resolve_close_and_reopen(as_agent, ticket):
    response = as_agent.post(f"/tickets/{ticket.number}/resolve/", {"solution_summary": ""})
    assert response.status_code == 422
    assert "解决工单需要填写解决方案摘要" in response.text
    as_agent.post(f"/tickets/{ticket.number}/resolve/", {"solution_summary": "已加急派送"})
    ticket.refresh_from_db()
    assert ticket.status_category == StatusCategory.RESOLVED
    response = as_agent.post(f"/tickets/{ticket.number}/close/", {"reason": "unreachable", "note": ""})
    assert response.status_code == 422
    assert "请记录未确认满意的情况" in response.text
    as_agent.post(
        f"/tickets/{ticket.number}/close/", {"reason": "unreachable", "note": "电话联系 3 次未接通"}
    )
    ticket.refresh_from_db()
    assert ticket.status_category == StatusCategory.CLOSED
    assert ticket.satisfaction_confirmed is False
    assert ticket.close_reason == "unreachable"
    as_agent.post(f"/tickets/{ticket.number}/reopen/", {"reason": "客户再次来电"})
    ticket.refresh_from_db()
    assert ticket.status_category == StatusCategory.OPEN
    assert ticket.reopened_count == 1


def test_edit_fields_with_stale_version_names_what_changed(as_agent, agent, ticket):
    seen = ticket.version
    ticket_update(actor=agent, ticket=ticket, version=None, changes={"subject": "别人改的主题"})
    response = as_agent.post(
        f"/tickets/{ticket.number}/edit/",
        {"version": seen, "subject": "我的主题", "type": "inquiry", "priority": "high", "category": "other"},
    )
    assert response.status_code == 409
    assert "把主题从 冷链货物延误 改为 别人改的主题" in response.text
    assert "我的主题" in response.text  # the form keeps what the user typed
    ticket.refresh_from_db()
    assert ticket.subject == "别人改的主题"


def test_edit_category_requires_its_fields(as_agent, ticket):
    data = {
        "version": ticket.version,
        "subject": "冷链货物延误",
        "type": "complaint",
        "priority": "high",
        "category": "delay",
    }
    response = as_agent.post(f"/tickets/{ticket.number}/edit/", data)
    assert response.status_code == 422
    assert "“货物类型”为必填项" in response.text
    data.update({f"cf_{k}": v for k, v in LOGISTICS_FIELDS.items()}, waybills="SF1234567890")
    assert as_agent.post(f"/tickets/{ticket.number}/edit/", data).status_code == 302
    ticket.refresh_from_db()
    assert ticket.category.code == "delay"
    assert ticket.custom_fields == LOGISTICS_FIELDS
    assert list(ticket.waybills.values_list("waybill_no", flat=True)) == ["SF1234567890"]


def test_tags_and_watch(as_agent, agent, ticket):
    as_agent.post(f"/tickets/{ticket.number}/tags/", {"add": "加急，VIP"})
    assert set(ticket.tags.values_list("name", flat=True)) == {"加急", "VIP"}
    as_agent.post(f"/tickets/{ticket.number}/tags/", {"remove": "VIP"})
    assert set(ticket.tags.values_list("name", flat=True)) == {"加急"}
    as_agent.post(f"/tickets/{ticket.number}/watch/", {"watching": "1"})
    assert list(ticket.watchers.all()) == [agent]
    as_agent.post(f"/tickets/{ticket.number}/watch/", {"watching": "0"})
    assert not ticket.watchers.exists()


def test_subtask_create_with_the_handoff_template(as_agent, ticket):
    data = {
        "department": "carrier",
        "title": "核实轨迹",
        "deadline": "2099-01-01T10:00",
        "problem_description": "货物停滞",
        "support_needed": "提供签收证明",
    }
    response = as_agent.post(f"/tickets/{ticket.number}/subtask/", data)
    assert response.status_code == 422
    assert "交给运输或承运商时必须填写承运商联系人" in response.text
    data.update(carrier_contact="张师傅 138", tracking_evidence="停在杭州分拨 2 天", mandatory="1")
    assert as_agent.post(f"/tickets/{ticket.number}/subtask/", data).status_code == 302
    subtask = Subtask.objects.get()
    page = as_agent.get(f"/tickets/{ticket.number}/")
    assert "核实轨迹" in page.text
    assert "0/1" in page.text
    as_agent.post(f"/tickets/{ticket.number}/subtask_status/", {"subtask": subtask.pk, "status": "done"})
    subtask.refresh_from_db()
    assert subtask.status == "done"


def test_unknown_action_is_404(as_agent, ticket):
    assert as_agent.post(f"/tickets/{ticket.number}/explode/").status_code == 404


def test_presence_shows_the_others(as_agent, make_user, team, ticket):
    colleague = make_user(Role.AGENT, full_name="王芳")
    MembershipFactory(team=team, user=colleague)
    UserClient(colleague).get(f"/tickets/{ticket.number}/")
    response = as_agent.get(f"/tickets/{ticket.number}/presence/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "王芳" in response.text
    assert "李小丽" not in response.text
    page = as_agent.get(f"/tickets/{ticket.number}/")
    assert "王芳 也在查看此工单" in page.text
    assert 'hx-trigger="every 20s"' in page.text


def test_presence_forgets_whoever_left_at_once_and_the_silent_after_two_missed_polls(
    as_agent, make_user, team, ticket, monkeypatch
):
    # given: two colleagues with the ticket open
    leaving, crashed = make_user(Role.AGENT, full_name="王芳"), make_user(Role.AGENT, full_name="赵强")
    for user in (leaving, crashed):
        MembershipFactory(team=team, user=user)
        UserClient(user).get(f"/tickets/{ticket.number}/")
    presence = f"/tickets/{ticket.number}/presence/"
    assert "王芳" in as_agent.get(presence).text

    # when: one leaves the page (its browser says so as the page unloads)
    assert UserClient(leaving).post(presence).status_code == 204

    # then: the others stop seeing them at once; the one whose browser went silent stays for now
    shown = as_agent.get(presence).text
    assert "王芳" not in shown
    assert "赵强" in shown

    # and: once it has missed two polls (20 s each) and a margin, it is gone too
    later = timezone.now() + dt.timedelta(seconds=46)
    monkeypatch.setattr("kefu.tickets.console.timezone.now", lambda: later)
    assert "赵强" not in as_agent.get(presence).text


def test_leaving_a_ticket_one_may_not_see_is_404_and_changes_nothing(as_agent, make_user, ticket):
    outsider = make_user(Role.AGENT, full_name="外组")
    assert UserClient(outsider).post(f"/tickets/{ticket.number}/presence/").status_code == 404
    as_agent.get(f"/tickets/{ticket.number}/")
    assert "外组" not in as_agent.get(f"/tickets/{ticket.number}/presence/").text


def test_lead_with_pii_permission_sees_the_contact_unmasked(make_user, team, ticket):
    lead = make_user(Role.LEAD)
    MembershipFactory(team=team, user=lead)
    page = UserClient(lead).get(f"/tickets/{ticket.number}/")
    assert "+86 138 1234 5678" in page.text or "138 1234 5678" in page.text


# --- new ticket -----------------------------------------------------------------------------------


def test_new_ticket_form_and_category_fields(as_agent, customer):
    page = as_agent.get("/tickets/new/")
    assert page.status_code == 200
    fields = as_agent.get("/tickets/new/fields/", {"category": "damage"}, headers={"HX-Request": "true"})
    assert "货物类型" in fields.text
    assert "cf_cargo_type" in fields.text
    assert "cf_" not in as_agent.get("/tickets/new/fields/", {"category": "other"}).text
    lookup = as_agent.get("/tickets/customers/lookup/", {"customer_q": "顺达"})
    assert customer.public_id in lookup.text


def test_new_ticket_missing_required_fields_are_shown(as_agent, customer):
    response = as_agent.post(
        "/tickets/new/",
        {
            "subject": "货损",
            "type": "complaint",
            "category": "damage",
            "customer": customer.public_id,
            "cf_cargo_type": "冷链货物",
        },
    )
    assert response.status_code == 422
    assert "“异常节点”为必填项" in response.text
    assert 'value="冷链货物" selected' in response.text
    assert not Ticket.objects.exists()


def test_new_ticket_is_created(as_agent, agent, customer):
    data = {
        "subject": "货损赔偿",
        "type": "claim",
        "channel": "phone",
        "priority": "high",
        "category": "damage",
        "customer": customer.public_id,
        "waybills": "SF100200300, YT000555",
        "assign_to_me": "1",
        "attachments": [SimpleUploadedFile("照片.png", b"\x89PNG", content_type="image/png")],
        **{f"cf_{k}": v for k, v in LOGISTICS_FIELDS.items()},
    }
    response = as_agent.post("/tickets/new/", data)
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == f"/tickets/{ticket.number}/"
    assert ticket.customer == customer
    assert ticket.assignee == agent
    assert sorted(ticket.waybills.values_list("waybill_no", flat=True)) == ["SF100200300", "YT000555"]
    assert ticket.messages.get().attachments.get().name == "照片.png"


def test_new_ticket_with_a_refused_attachment_leaves_no_ticket(as_agent):
    data = {
        "subject": "x",
        "type": "inquiry",
        "category": "other",
        "attachments": [SimpleUploadedFile("a.exe", b"MZ")],
    }
    response = as_agent.post("/tickets/new/", data)
    assert response.status_code == 422
    assert "不允许的附件类型" in response.text
    assert not Ticket.objects.exists()


# --- call log -------------------------------------------------------------------------------------


def test_call_log_lookup_record_and_list(as_agent, customer):
    lookup = as_agent.get("/tickets/customers/lookup/", {"caller_number": "13812345678"})
    assert customer.public_id in lookup.text
    response = as_agent.post(
        "/tickets/calls/",
        {
            "caller_number": "138 1234 5678",
            "summary": "询问到货时间",
            "outcome": "resolved",
            "customer": customer.public_id,
        },
    )
    assert response.status_code == 302
    call = CallLog.objects.get()
    assert call.customer == customer
    assert call.ticket is None
    page = as_agent.get("/tickets/calls/")
    assert "询问到货时间" in page.text


def test_call_log_can_open_a_phone_ticket(as_agent, customer):
    response = as_agent.post(
        "/tickets/calls/",
        {
            "caller_number": "13812345678",
            "summary": "货物丢失",
            "outcome": "resolved",
            "customer": customer.public_id,
            "ticket_mode": "new",
            "subject": "丢件投诉",
            "type": "complaint",
            "category": "loss",
            **{f"cf_{k}": v for k, v in LOGISTICS_FIELDS.items()},
        },
    )
    call = CallLog.objects.get()
    assert response.status_code == 302
    assert call.outcome == CallOutcome.TICKET_CREATED
    assert call.ticket is not None
    assert call.ticket.channel == "phone"
    assert call.ticket.customer == customer
    assert response.url == f"/tickets/{call.ticket.number}/"


def test_call_log_errors(as_agent):
    response = as_agent.post("/tickets/calls/", {"caller_number": "", "summary": "", "outcome": "callback"})
    assert response.status_code == 422
    assert "请填写来电号码" in response.text
    assert "约定回电时需要填写回电时间" in response.text
    response = as_agent.post(
        "/tickets/calls/",
        {
            "caller_number": "1381234",
            "summary": "x",
            "outcome": "resolved",
            "ticket_mode": "new",
            "subject": "x",
            "category": "delay",
        },
    )
    assert response.status_code == 422
    assert "“货物类型”为必填项" in response.text
    assert not CallLog.objects.exists()
    assert not Ticket.objects.exists()


def test_call_log_is_read_only_for_qa(make_user):
    qa = UserClient(make_user(Role.QA))
    page = qa.get("/tickets/calls/")
    assert page.status_code == 200
    assert "记录来电" not in page.text
    assert (
        qa.post(
            "/tickets/calls/", {"caller_number": "1381234", "summary": "x", "outcome": "resolved"}
        ).status_code
        == 403
    )


def test_navigation_offers_tickets_and_calls(as_agent):
    page = as_agent.get("/tickets/")
    assert 'href="/tickets/"' in page.text
    assert 'href="/tickets/calls/"' in page.text


def test_english_pages_are_translated(as_agent, agent, ticket):
    new_message(ticket=ticket, actor=agent, body="note", visibility=Visibility.INTERNAL)
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    queue = as_agent.get("/tickets/", **english).text
    for text in ("Queues", "Saved views", "New ticket", "Team tickets", "No saved views yet"):
        assert text in queue
    for text in ("队列", "保存的视图", "新建工单", "本组工单"):
        assert text not in queue
    page = as_agent.get(f"/tickets/{ticket.number}/", **english).text
    for text in ("Conversation", "Internal note", "Public reply", "Actions", "Work orders"):
        assert text in page
    assert "沟通记录" not in page
    calls = as_agent.get("/tickets/calls/", **english).text
    assert "Log a call" in calls
    assert status("open").name_en == "Open"


def test_new_ticket_goes_to_the_agents_team_so_the_agent_keeps_seeing_it(as_agent, team):
    page = as_agent.get("/tickets/new/")
    assert f'<option value="{team.pk}" selected>' in page.text
    response = as_agent.post(
        "/tickets/new/", {"subject": "咨询", "type": "inquiry", "category": "other", "team": team.pk}
    )
    ticket = Ticket.objects.get()
    assert ticket.team == team
    assert as_agent.get(response.url).status_code == 200


def test_attachment_download_checks_access(as_agent, agent, ticket, make_user):
    message = new_message(
        ticket=ticket,
        actor=agent,
        body="见附件",
        attachments=[SimpleUploadedFile("签收单.pdf", b"%PDF-1.4", content_type="application/pdf")],
    )
    attachment = message.attachments.get()
    url = f"/tickets/{ticket.number}/attachments/{attachment.public_id}/"
    assert url in as_agent.get(f"/tickets/{ticket.number}/").text
    response = as_agent.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4"
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert UserClient(make_user(Role.AGENT)).get(url).status_code == 404
    assert as_agent.get(f"/tickets/{ticket.number}/attachments/nope/").status_code == 404
