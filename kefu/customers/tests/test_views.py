"""Staff customer pages and the portal home, through the test client."""

from __future__ import annotations

from typing import cast

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory
from kefu.core.actors import SYSTEM
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers import services
from kefu.customers.models import Customer, CustomerNote, ImportJob, Segment
from kefu.customers.tests.factories import ContactFactory, CustomerFactory, PortalAccountFactory
from kefu.customers.tests.pages import ADDRESS, UserClient, shunda
from kefu.tickets.tests.factories import new_ticket, resolved_ticket

pytestmark = pytest.mark.django_db

HTMX_ROWS = {"HX-Request": "true", "HX-Target": "customer-rows"}


@pytest.fixture
def customer(make_user):
    make_user(Role.AGENT, full_name="客户经理甲")  # the new customer gets an account agent and a deadline
    return shunda(tier="vip", segments=["cold-chain"], city="上海", assign_account_agent=True)


# --- list ------------------------------------------------------------------------------------------


def test_list_shows_customers_with_masked_primary_contact(as_role, customer):
    response = as_role(Role.AGENT).get("/customers/")
    assert response.status_code == 200
    assert "顺达冷链物流有限公司" in response.text
    assert "138******78" in response.text
    assert "王*明" in response.text
    assert "13812345678" not in response.text
    assert "冷链" in response.text


def test_list_search_by_name_number_and_phone_tail(as_role, customer):
    services.customer_create(actor=SYSTEM, name="远洋货运有限公司", customer_no="KH-YY-1")
    client = as_role(Role.AGENT)
    for q in ("顺达", "5678", "13812345678"):
        response = client.get("/customers/", {"q": q})
        assert "顺达冷链物流有限公司" in response.text, q
        assert "远洋货运有限公司" not in response.text, q
    response = client.get("/customers/", {"q": "kh-yy"})
    assert "远洋货运有限公司" in response.text
    assert "顺达冷链物流有限公司" not in response.text


def test_list_filters_by_tier_kind_and_segment(as_role, customer):
    services.customer_create(actor=SYSTEM, name="张先生", kind="consumer", segments=["retail"])
    client = as_role(Role.AGENT)
    assert [r["customer"] for r in client.get("/customers/", {"tier": "vip"}).context["rows"]] == [customer]
    rows = client.get("/customers/", {"kind": "consumer"}).context["rows"]
    assert [r["customer"].name for r in rows] == ["张先生"]
    rows = client.get("/customers/", {"segment": "cold-chain"}).context["rows"]
    assert [r["customer"] for r in rows] == [customer]
    empty = client.get("/customers/", {"q": "不存在的名字"})
    assert "没有符合条件的客户" in empty.text


def test_list_htmx_request_returns_only_the_rows(as_role, customer):
    client = as_role(Role.AGENT)
    partial = client.get("/customers/", {"q": "顺达"}, headers=HTMX_ROWS)
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert "<form" not in partial.text
    assert "<tbody>" in partial.text
    assert "顺达冷链物流有限公司" in partial.text
    full = client.get("/customers/", headers={"HX-Request": "true", "HX-Target": "main"})
    assert "<html" in full.text


def test_list_pages_with_a_cursor(as_role):
    CustomerFactory.create_batch(55)
    client = as_role(Role.AGENT)
    first = client.get("/customers/")
    assert len(first.context["rows"]) == 50
    cursor = first.context["next_cursor"]
    assert cursor
    assert f"cursor={cursor}" in first.text
    second = client.get("/customers/", {"cursor": cursor})
    assert len(second.context["rows"]) == 5
    assert second.context["next_cursor"] is None
    assert len(client.get("/customers/", {"cursor": "garbage"}).context["rows"]) == 50


def test_list_access(client, as_role):
    assert client.get("/customers/").status_code == 302
    portal = PortalAccountFactory()
    client.force_login(portal.user)
    assert client.get("/customers/").status_code == 403


def test_list_query_count_does_not_grow_with_rows(as_role, django_assert_max_num_queries):
    client = as_role(Role.AGENT)
    segments = list(Segment.objects.all()[:2])

    def add(n):
        for _ in range(n):
            c = cast(Customer, CustomerFactory(account_agent=client.user))
            c.segments.set(segments)
            ContactFactory.create_batch(2, customer=c)

    add(3)
    client.get("/customers/")  # warm: permissions are then cached between requests
    with CaptureQueriesContext(connection) as few:
        client.get("/customers/")
    add(30)
    with CaptureQueriesContext(connection) as many:
        client.get("/customers/")
    assert len(many) == len(few)
    with django_assert_max_num_queries(10):
        client.get("/customers/", {"q": "测试"})


# --- detail ----------------------------------------------------------------------------------------


def test_detail_masks_personal_data_for_an_agent_and_records_no_view(as_role, customer):
    client = as_role(Role.AGENT)
    response = client.get(f"/customers/{customer.public_id}/")
    assert response.status_code == 200
    text = response.text
    assert "138******78" in text
    assert "上海市浦东新区张江路88号3号楼****" in text
    # Nowhere on the page — the history timeline included — is the personal data shown in full.
    for secret in ("1202", "王小明", "wxm@shunda.cn", "1234 5678", "+8613812345678"):
        assert secret not in text, secret
    assert "个人信息已按电子面单规范脱敏显示" in text
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW_PII).exists()


def test_detail_unmasked_for_a_lead_with_an_audit_event(as_role, customer):
    client = as_role(Role.LEAD)
    response = client.get(f"/customers/{customer.public_id}/")
    assert "138 1234 5678" in response.text
    assert ADDRESS in response.text
    assert "王小明" in response.text
    event = AuditEvent.objects.get(action=AuditAction.VIEW_PII)
    assert event.actor == client.user
    assert event.object_id == str(customer.pk)
    assert event.changes["where"] == [None, "web"]
    assert event.changes["contacts"] == [None, [c.public_id for c in customer.contacts.all()]]


def test_detail_history_shows_the_audit_trail(as_role, customer):
    client = as_role(Role.LEAD)
    services.customer_update(actor=client.user, customer=customer, city="杭州")
    services.customer_note_add(actor=client.user, customer=customer, body="客户要求周一回电")
    response = client.get(f"/customers/{customer.public_id}/")
    history = response.context["history"]
    actions = [e.action for e in history]
    assert actions.count(AuditAction.CREATE) == 3  # customer, contact, note
    assert AuditAction.UPDATE in actions
    text = response.text
    assert "城市" in text
    assert "上海 → 杭州" in text
    assert "客户要求周一回电" in text
    assert "修改" in text


def test_detail_unknown_or_portal(as_role, customer, client):
    assert as_role(Role.AGENT).get("/customers/nope/").status_code == 404
    portal = PortalAccountFactory()
    client.force_login(portal.user)
    assert client.get(f"/customers/{customer.public_id}/").status_code == 403


def test_detail_query_count_does_not_grow_with_contacts_notes_history_and_tickets(
    as_role, customer, django_assert_max_num_queries
):
    client = as_role(Role.LEAD)
    url = f"/customers/{customer.public_id}/"
    services.customer_note_add(
        actor=client.user, customer=customer, body="第一条备注"
    )  # notes' authors: 1 query
    client.get(url)  # warm: permissions are then cached between requests
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(10):
        services.contact_create(
            actor=client.user,
            customer=customer,
            data=services.ContactData(name=f"联系人{n}", phone=f"1391234{n:04d}"),
        )
        services.customer_note_add(actor=client.user, customer=customer, body=f"备注{n}")
        new_ticket(subject=f"工单{n}", customer=customer, assignee=client.user)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    with django_assert_max_num_queries(20):
        client.get(url)


# --- the customer's tickets ------------------------------------------------------------------------


@pytest.fixture
def team_agent(make_user):
    """An agent of 华东一组, with the team."""
    team = TeamFactory(name="华东一组")
    agent = make_user(Role.AGENT)
    MembershipFactory(team=team, user=agent)
    return agent, team


def test_tickets_card_lists_only_tickets_the_agent_may_see(team_agent, customer):
    agent, team = team_agent
    customer.account_agent = None  # not the agent's account: its account agent sees all its tickets
    customer.save(update_fields=["account_agent"])
    mine = new_ticket(subject="冷链货物延误", team=team, customer=customer, priority="urgent")
    done = resolved_ticket(subject="运费发票重开", team=team, customer=customer)
    other_team = new_ticket(subject="别组的工单", team=TeamFactory(), customer=customer)
    new_ticket(subject="别家客户的工单", team=team, customer=CustomerFactory())
    response = UserClient(agent).get(f"/customers/{customer.public_id}/")
    card = response.context["tickets"]
    assert [t.number for t in card["recent"]] == [done.number, mine.number]
    assert card["open_count"] == 1  # the resolved ticket and the other team's are not counted
    text = response.text
    assert f'href="/tickets/{mine.number}/"' in text
    assert "冷链货物延误" in text
    assert "运费发票重开" in text
    assert "1 张未结" in text
    assert other_team.number not in text
    assert "别组的工单" not in text
    assert "别家客户的工单" not in text
    assert f'href="/tickets/?queue=all&amp;customer={customer.public_id}"' in text
    assert f'href="/tickets/new/?customer={customer.public_id}"' in text


def test_tickets_card_counts_every_open_ticket_a_manager_may_see(as_role, customer):
    for team in (TeamFactory(), TeamFactory()):
        new_ticket(team=team, customer=customer)
    resolved_ticket(customer=customer)
    response = as_role(Role.MANAGER).get(f"/customers/{customer.public_id}/")
    assert response.context["tickets"]["open_count"] == 2
    assert len(response.context["tickets"]["recent"]) == 3
    assert "2 张未结" in response.text


def test_tickets_card_empty_state_and_read_only_roles(as_role, customer):
    response = as_role(Role.QA).get(f"/customers/{customer.public_id}/")
    assert response.context["tickets"]["recent"] == []
    assert response.context["tickets"]["open_count"] == 0
    assert "该客户还没有工单" in response.text
    assert "0 张未结" in response.text
    assert "/tickets/new/" not in response.text  # QA reads only
    assert "后续版本" not in response.text


def test_tickets_card_in_english(team_agent, customer):
    agent, team = team_agent
    new_ticket(subject="冷链货物延误", team=team, customer=customer)
    new_ticket(subject="二次派送", team=team, customer=customer)
    client = UserClient(agent)
    text = client.get(f"/customers/{customer.public_id}/", headers={"accept-language": "en"}).text
    assert "Tickets" in text
    assert "2 open" in text
    assert "View in ticket queue" in text
    assert "New ticket" in text
    assert "张未结" not in text
    other = cast(Customer, CustomerFactory())
    empty = client.get(f"/customers/{other.public_id}/", headers={"accept-language": "en"}).text
    assert "No tickets of this customer that you may see" in empty
    assert "0 open" in empty


def test_the_account_agent_sees_every_ticket_of_the_customer(team_agent, customer):
    # given a customer whose tickets other teams handle, and its account agent (专属客服) in 华东一组
    agent, _team = team_agent
    customer.account_agent = None
    customer.save(update_fields=["account_agent"])
    elsewhere = new_ticket(subject="冷链货物延误", team=TeamFactory(name="华南二组"), customer=customer)
    client = UserClient(agent)
    before = client.get(f"/customers/{customer.public_id}/")

    customer.account_agent = agent
    customer.save(update_fields=["account_agent"])
    after = client.get(f"/customers/{customer.public_id}/")

    # then the card, which said there was nothing for them, lists and counts the ticket
    assert "该客户没有你可查看的工单" in before.text
    assert [t.number for t in after.context["tickets"]["recent"]] == [elsewhere.number]
    assert after.context["tickets"]["open_count"] == 1
    assert "冷链货物延误" in after.text
    assert client.get(f"/tickets/{elsewhere.number}/").status_code == 200


# --- notes and first contact -----------------------------------------------------------------------


def test_add_note(as_role, customer):
    client = as_role(Role.AGENT)
    response = client.post(f"/customers/{customer.public_id}/notes/", {"body": "  已电话确认月结账期  "})
    assert response.status_code == 302
    note = CustomerNote.objects.get()
    assert note.body == "已电话确认月结账期"
    assert note.author == client.user
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_id=str(note.pk)).exists()
    assert "已电话确认月结账期" in client.get(response.url).text


def test_add_note_rejects_empty_and_needs_permission(as_role, customer):
    response = as_role(Role.AGENT).post(f"/customers/{customer.public_id}/notes/", {"body": "   "})
    assert response.status_code == 422
    assert "备注内容不能为空" in response.text
    assert as_role(Role.QA).post(f"/customers/{customer.public_id}/notes/", {"body": "x"}).status_code == 403
    assert as_role(Role.AGENT).get(f"/customers/{customer.public_id}/notes/").status_code == 405
    assert not CustomerNote.objects.exists()


def test_mark_contacted(as_role, customer):
    client = as_role(Role.AGENT)
    assert "标记为已联系" in client.get(f"/customers/{customer.public_id}/").text
    response = client.post(f"/customers/{customer.public_id}/contacted/")
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.first_contacted_at is not None
    page = client.get(f"/customers/{customer.public_id}/").text
    assert "标记为已联系" not in page
    assert "联系" in page


def test_mark_contacted_needs_permission_and_post(as_role, customer):
    assert as_role(Role.QA).post(f"/customers/{customer.public_id}/contacted/").status_code == 403
    assert as_role(Role.AGENT).get(f"/customers/{customer.public_id}/contacted/").status_code == 405
    customer.refresh_from_db()
    assert customer.first_contacted_at is None


# --- import ----------------------------------------------------------------------------------------


def test_import_page(as_role):
    response = as_role(Role.LEAD).get("/customers/import/")
    assert response.status_code == 200
    assert "只导入有效行" in response.text
    assert "还没有导入记录" in response.text
    assert as_role(Role.AGENT).get("/customers/import/").status_code == 403


def test_import_without_a_file_shows_the_error(as_role):
    response = as_role(Role.LEAD).post("/customers/import/", {"mode": "valid_rows"})
    assert response.status_code == 422
    assert "请选择要导入的文件" in response.text
    assert 'value="valid_rows" checked' in response.text
    assert not ImportJob.objects.exists()


def test_import_upload_queues_a_job_and_its_page_polls(as_role, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = as_role(Role.LEAD)
    upload = SimpleUploadedFile("客户.csv", "客户编号,客户名称\nKH-1,甲公司\n".encode())
    response = client.post("/customers/import/", {"file": upload, "mode": "valid_rows"})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == f"/customers/import/{job.public_id}/"
    page = client.get(response.url)
    assert "排队中" in page.text
    assert 'hx-trigger="every 1s"' in page.text
    partial = client.get(response.url, headers={"HX-Request": "true"})
    assert "<html" not in partial.text
    assert 'id="import-job"' in partial.text
    assert as_role(Role.LEAD).get(response.url).status_code == 404  # someone else's job


# --- portal ----------------------------------------------------------------------------------------


def test_portal_home_shows_only_own_organization_and_records_the_view(client, customer):
    other = CustomerFactory(name="别家物流有限公司")
    account = PortalAccountFactory(customer=customer)
    client.force_login(account.user)
    response = client.get("/portal/")
    assert response.status_code == 200
    assert "顺达冷链物流有限公司" in response.text
    assert "138 1234 5678" in response.text
    assert other.name not in response.text
    event = AuditEvent.objects.get(action=AuditAction.VIEW_PII)
    assert event.changes["where"] == [None, "portal"]


def test_portal_is_closed_to_staff_and_anonymous(client, as_role):
    assert client.get("/portal/").status_code == 302
    response = as_role(Role.MANAGER).get("/portal/")
    assert response.status_code == 403
    assert "你没有权限访问此页面" in response.text
