"""The customer portal's tickets: only the organization's tickets, only their public conversation."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kefu.accounts.enums import Role
from kefu.customers.tests.factories import PortalAccountFactory, new_customer
from kefu.tickets.enums import AuthorKind, Channel, StatusCategory, Visibility
from kefu.tickets.models import Message, Ticket
from kefu.tickets.tests.factories import LOGISTICS_FIELDS, new_message, new_ticket, resolved_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return PortalAccountFactory(customer=new_customer(name="华东快运有限公司"))


@pytest.fixture
def portal(account):
    client = Client()
    client.force_login(account.user)
    return client


@pytest.fixture
def own(account):
    return new_ticket(subject="我们的包裹延误了", customer=account.customer)


@pytest.fixture
def foreign():
    return new_ticket(subject="别家公司的工单", customer=new_customer(name="别家物流"))


def test_list_shows_only_the_organizations_tickets(portal, own, foreign):
    response = portal.get("/portal/tickets/")
    assert response.status_code == 200
    assert own.number in response.text
    assert "我们的包裹延误了" in response.text
    assert foreign.number not in response.text
    assert "别家公司的工单" not in response.text
    assert portal.get("/portal/tickets/", {"state": "all"}).context["rows"] == [own]
    assert portal.get("/portal/tickets/", {"state": "closed"}).context["rows"] == []


def test_other_organizations_ticket_is_404_for_every_path(portal, foreign):
    assert portal.get(f"/portal/tickets/{foreign.number}/").status_code == 404
    assert portal.get(f"/portal/tickets/{foreign.public_id}/").status_code == 404
    for action in ("reply", "accept", "reject"):
        assert (
            portal.post(
                f"/portal/tickets/{foreign.number}/{action}/", {"body": "hi", "reason": "x"}
            ).status_code
            == 404
        )
    assert not Message.objects.exists()


def test_detail_never_shows_internal_notes_or_audit_events(portal, own, make_user):
    agent = make_user(Role.AGENT, full_name="客服小李")
    new_message(ticket=own, actor=agent, body="您好，已为您催促派送。")
    new_message(
        ticket=own,
        actor=agent,
        body="内部备注：客户很着急，承运商赔付上限500",
        visibility=Visibility.INTERNAL,
    )
    response = portal.get(f"/portal/tickets/{own.number}/")
    assert response.status_code == 200
    assert "您好，已为您催促派送。" in response.text
    assert "内部备注：客户很着急" not in response.text
    assert "承运商赔付上限500" not in response.text
    assert 'data-testid="message-internal"' not in response.text
    assert "修改" not in response.text  # no audit events


def test_staff_pages_and_portal_pages_do_not_mix(portal, own, make_user):
    assert portal.get(f"/tickets/{own.number}/").status_code == 403
    staff = Client()
    staff.force_login(make_user(Role.AGENT))
    assert staff.get("/portal/tickets/").status_code == 403


def test_create_requires_category_fields_then_creates_a_web_ticket(portal, account):
    response = portal.post(
        "/portal/tickets/new/",
        {"subject": "货物损坏", "type": "complaint", "category": "damage", "description": "外箱破损"},
    )
    assert response.status_code == 422
    assert "“货物类型”为必填项" in response.text
    assert "外箱破损" in response.text
    assert not Ticket.objects.exists()
    data = {
        "subject": "货物损坏",
        "type": "complaint",
        "category": "damage",
        "description": "外箱破损",
        "waybills": "SF123456789",
        "attachments": [SimpleUploadedFile("破损照片.jpg", b"\xff\xd8", content_type="image/jpeg")],
        **{f"cf_{k}": v for k, v in LOGISTICS_FIELDS.items()},
    }
    response = portal.post("/portal/tickets/new/", data)
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == f"/portal/tickets/{ticket.number}/"
    assert ticket.channel == Channel.WEB
    assert ticket.customer == account.customer
    assert ticket.custom_fields == LOGISTICS_FIELDS
    message = ticket.messages.get()
    assert message.author_kind == AuthorKind.CUSTOMER
    assert message.attachments.get().name == "破损照片.jpg"
    assert ticket.number in portal.get("/portal/tickets/").text


def test_create_form_renders_category_fields(portal):
    assert portal.get("/portal/tickets/new/").status_code == 200
    fields = portal.get("/portal/tickets/new/fields/", {"category": "loss"}, headers={"HX-Request": "true"})
    assert "cf_exception_node" in fields.text


def test_create_with_an_oversized_attachment_is_refused(portal, settings):
    settings.KEFU_ATTACHMENT_MAX_BYTES = 1024 * 1024
    response = portal.post(
        "/portal/tickets/new/",
        {
            "subject": "x",
            "type": "inquiry",
            "category": "other",
            "attachments": [SimpleUploadedFile("a.pdf", b"x" * (1024 * 1024 + 10))],
        },
    )
    assert response.status_code == 422
    assert "超过上限 1 MB" in response.text
    assert not Ticket.objects.exists()


def test_reply(portal, own):
    response = portal.post(f"/portal/tickets/{own.number}/reply/", {"body": "请尽快处理，谢谢"})
    assert response.status_code == 302
    message = Message.objects.get()
    assert message.author_kind == AuthorKind.CUSTOMER
    assert message.visibility == Visibility.PUBLIC
    assert "请尽快处理，谢谢" in portal.get(f"/portal/tickets/{own.number}/").text
    empty = portal.post(f"/portal/tickets/{own.number}/reply/", {"body": ""})
    assert empty.status_code == 422
    assert "内容不能为空" in empty.text


def test_accept_resolution_closes_with_satisfaction(portal, account):
    ticket = resolved_ticket(customer=account.customer, summary="已补发")
    page = portal.get(f"/portal/tickets/{ticket.number}/")
    assert "已补发" in page.text
    assert 'data-testid="resolution"' in page.text
    assert portal.post(f"/portal/tickets/{ticket.number}/accept/").status_code == 302
    ticket.refresh_from_db()
    assert ticket.status_category == StatusCategory.CLOSED
    assert ticket.satisfaction_confirmed is True


def test_reject_resolution_reopens_with_the_reason(portal, account):
    ticket = resolved_ticket(customer=account.customer)
    response = portal.post(f"/portal/tickets/{ticket.number}/reject/", {"reason": ""})
    assert response.status_code == 422
    assert "请说明问题还没有解决的原因" in response.text
    assert (
        portal.post(f"/portal/tickets/{ticket.number}/reject/", {"reason": "还没收到货"}).status_code == 302
    )
    ticket.refresh_from_db()
    assert ticket.status_category == StatusCategory.OPEN
    assert ticket.reopened_count == 1
    assert Message.objects.filter(ticket=ticket, body_text="还没收到货").exists()
    # the customer's own words are a public customer message, shown back to them (as in the API)
    reason = Message.objects.get(ticket=ticket, body_text="还没收到货")
    assert (reason.visibility, reason.author_kind) == (Visibility.PUBLIC, "customer")
    assert "还没收到货" in portal.get(f"/portal/tickets/{ticket.number}/").text


def test_accept_is_refused_unless_resolved(portal, own):
    response = portal.post(f"/portal/tickets/{own.number}/accept/")
    assert response.status_code == 422
    own.refresh_from_db()
    assert own.status_category == StatusCategory.NEW


def test_portal_navigation_offers_my_tickets(portal):
    page = portal.get("/portal/tickets/")
    assert 'href="/portal/tickets/"' in page.text
    assert 'href="/portal/"' in page.text


def test_portal_downloads_only_public_attachments_of_its_tickets(portal, own, foreign, make_user):
    agent = make_user(Role.AGENT)
    public = new_message(
        ticket=own,
        actor=agent,
        body="回单",
        attachments=[SimpleUploadedFile("回单.png", b"\x89PNG", content_type="image/png")],
    )
    note = new_message(
        ticket=own,
        actor=agent,
        body="内部",
        visibility=Visibility.INTERNAL,
        attachments=[SimpleUploadedFile("内部.txt", b"secret")],
    )
    other = new_message(
        ticket=foreign, actor=agent, body="x", attachments=[SimpleUploadedFile("别家.txt", b"x")]
    )
    ok = f"/portal/tickets/{own.number}/attachments/{public.attachments.get().public_id}/"
    assert ok in portal.get(f"/portal/tickets/{own.number}/").text
    assert portal.get(ok).status_code == 200
    assert (
        portal.get(
            f"/portal/tickets/{own.number}/attachments/{note.attachments.get().public_id}/"
        ).status_code
        == 404
    )
    assert (
        portal.get(
            f"/portal/tickets/{own.number}/attachments/{other.attachments.get().public_id}/"
        ).status_code
        == 404
    )
    assert (
        portal.get(
            f"/portal/tickets/{foreign.number}/attachments/{other.attachments.get().public_id}/"
        ).status_code
        == 404
    )
