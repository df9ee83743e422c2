"""/api/v1/tickets: behaviour and bad input (the role matrix is in test_api_matrix.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory, UserFactory
from kefu.core.models import AuditEvent
from kefu.core.pagination import encode_cursor, encode_time_cursor
from kefu.customers.tests.factories import CustomerFactory, PortalAccountFactory, new_contact, new_customer
from kefu.tickets.enums import Channel, StatusCategory, Visibility
from kefu.tickets.models import Attachment, Message, Ticket
from kefu.tickets.services.common import default_status
from kefu.tickets.services.edit import ticket_update
from kefu.tickets.services.lifecycle import ticket_close, ticket_resolve, ticket_transition
from kefu.tickets.tests.factories import LOGISTICS_FIELDS, new_message, new_ticket, resolved_ticket


@pytest.fixture
def org(db: None) -> Any:
    return CustomerFactory(name="甲方冷链物流有限公司")


@pytest.fixture
def team(db: None) -> Any:
    return TeamFactory()


@pytest.fixture
def agent(team: Any) -> Any:
    user = UserFactory(role=Role.AGENT, username="zhang.san")
    MembershipFactory(team=team, user=user)
    return user


@pytest.fixture
def portal(org: Any) -> Any:
    return PortalAccountFactory(customer=org).user


@pytest.fixture
def ticket(agent: Any, org: Any, team: Any) -> Ticket:
    return new_ticket(actor=agent, customer=org, team=team, subject="冷链货物延误", waybills=["SF001001"])


def _state() -> tuple[Any, ...]:
    return (
        list(Ticket.objects.order_by("pk").values()),
        list(Message.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


# --- create ---------------------------------------------------------------------------------------


def test_creating_a_ticket_takes_a_pinned_number_of_statements(
    api_as, agent, org, team, django_assert_num_queries
):
    """The ORM costs ~1 ms per statement: the create path's count only drops (docs/performance.md)."""
    client = api_as(agent)
    body = {
        "subject": "冷链货物延误",
        "type": "complaint",
        "category": "delay",
        "customer": org.public_id,
        "team": team.pk,
        "custom_fields": LOGISTICS_FIELDS,
        "tags": ["加急"],
        "waybills": ["SF1234567890"],
    }
    assert client.post("/tickets", {**body, "waybills": ["SF1234567891"]}).status_code == 201  # caches warm

    # token, the reference stamp (read once per request; the team, category and statuses are cached
    # reference data: kefu.core.reference), customer; in the transaction (a savepoint here, BEGIN/COMMIT
    # when served): the number, the ticket, its waybill, the tag lookup and link, the audit row
    with django_assert_num_queries(11):
        response = client.post("/tickets", body)

    assert response.status_code == 201
    assert response.json()["waybills"] == ["SF1234567890"]


def test_agent_creates_a_full_ticket(api_as, agent, org, team):
    contact = new_contact(customer=org)
    body = {
        "subject": "  货物延误三天  ",
        "description": "客户称冷链货物未按时到达",
        "channel": "phone",
        "type": "complaint",
        "category": "delay",
        "priority": "high",
        "customer": org.public_id,
        "contact": contact.public_id,
        "team": team.pk,
        "assignee": agent.pk,
        "custom_fields": LOGISTICS_FIELDS,
        "tags": ["冷链", "加急"],
        "waybills": ["sf1234567890", "SF1234567890"],
    }

    response = api_as(agent).post("/tickets", body)

    assert response.status_code == 201, response.content
    out = response.json()
    ticket = Ticket.objects.get(public_id=out["id"])
    assert out["subject"] == "货物延误三天"
    assert out["status"] == {"code": "open", "name": "处理中", "category": "open"}
    assert out["category"] == {"code": "delay", "name": "时效延误"}
    assert out["customer"] == {"id": org.public_id, "name": "甲方冷链物流有限公司"}
    assert out["contact"]["id"] == contact.public_id
    assert out["waybills"] == ["SF1234567890"]
    assert out["custom_fields"] == LOGISTICS_FIELDS
    assert out["internal"]["tags"] == ["冷链", "加急"]
    assert out["internal"]["assignee"]["id"] == agent.pk
    assert out["internal"]["team"] == {"id": team.pk, "name": team.name}
    assert out["counts"] == {"messages": 0, "attachments": 0}
    assert (ticket.channel, ticket.priority, ticket.created_by) == ("phone", "high", agent)


def test_missing_required_category_fields_are_named(api_as, agent):
    body = {"subject": "货损", "category": "damage", "custom_fields": {"cargo_type": "普通货物"}}

    response = api_as(agent).post("/tickets", body)

    assert response.status_code == 422
    fields = response.json()["fields"]
    assert set(fields) == {"custom_fields.exception_node", "custom_fields.expected_solution"}
    assert fields["custom_fields.exception_node"] == ["“异常节点”为必填项"]
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject": "x", "colour": "red"}, "colour"),
        ({"subject": "x", "type": "rant"}, "type"),
        ({"subject": "x", "priority": 3}, "priority"),
        ({"subject": "x", "tags": "冷链"}, "tags"),
        ({"subject": "x", "team": "team-a"}, "team"),
        ({"subject": "x", "category": "no-such"}, "category"),
        ({"subject": "x", "customer": "nosuchcustomer"}, "customer"),
        ({"subject": "x", "contact": "nosuchcontact"}, "contact"),
        ({"subject": "x", "team": 999999}, "team"),
        ({"subject": "x", "assignee": 999999}, "assignee"),
        ({"subject": "x", "waybills": ["SF 1/2"]}, "waybills"),
        ({"subject": "   "}, "subject"),
        ({}, "subject"),
    ],
)
def test_bad_create_input_is_422_naming_the_field(api_as, agent, body, field):
    response = api_as(agent).post("/tickets", body)

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["fields"]
    assert Ticket.objects.count() == 0


def test_portal_create_is_forced_to_web_and_their_organization(api_as, portal, org):
    other = new_customer()
    body = {
        "subject": "包裹丢失",
        "type": "complaint",
        "channel": "phone",
        "customer": other.public_id,
        "category": "loss",
        "custom_fields": LOGISTICS_FIELDS,
    }

    response = api_as(portal).post("/tickets", body)

    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.customer, ticket.created_by) == (Channel.WEB, org, portal)
    assert response.json()["internal"] is None


def test_portal_create_enforces_required_category_fields(api_as, portal):
    response = api_as(portal).post("/tickets", {"subject": "丢件", "category": "loss"})

    assert response.status_code == 422
    assert "custom_fields.cargo_type" in response.json()["fields"]
    assert Ticket.objects.count() == 0


def test_portal_may_not_route_or_label(api_as, portal, agent):
    body = {"subject": "加急", "priority": "urgent", "assignee": agent.pk, "tags": ["VIP"]}

    response = api_as(portal).post("/tickets", body)

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"priority", "assignee", "tags"}
    assert Ticket.objects.count() == 0


def test_portal_cannot_name_another_organizations_contact(api_as, portal):
    stranger = new_contact()

    response = api_as(portal).post("/tickets", {"subject": "x", "contact": stranger.public_id})

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"contact"}


# --- detail ---------------------------------------------------------------------------------------


def test_detail_by_number_and_public_id(api_as, agent, ticket):
    new_message(ticket=ticket, actor=agent)
    new_message(ticket=ticket, actor=agent, body="内部：催承运商", visibility=Visibility.INTERNAL)
    client = api_as(agent)

    by_number = client.get(f"/tickets/{ticket.number}").json()
    by_id = client.get(f"/tickets/{ticket.public_id}").json()

    assert by_number == by_id
    assert by_number["number"] == ticket.number
    assert by_number["waybills"] == ["SF001001"]
    assert by_number["counts"] == {"messages": 2, "attachments": 0}
    assert by_number["internal"]["notes"] == 1


def test_portal_detail_has_only_public_data(api_as, agent, portal, ticket):
    new_message(ticket=ticket, actor=agent)
    new_message(ticket=ticket, actor=agent, body="内部：催承运商", visibility=Visibility.INTERNAL)

    out = api_as(portal).get(f"/tickets/{ticket.number}").json()

    assert out["internal"] is None
    assert out["counts"] == {"messages": 1, "attachments": 0}
    assert "催承运商" not in str(out)


# --- edit and lifecycle ---------------------------------------------------------------------------


def test_patch_changes_fields_and_bumps_the_version(api_as, agent, ticket):
    body = {"version": ticket.version, "priority": "urgent", "add_tags": ["冷链"], "waybills": ["SF002002"]}

    response = api_as(agent).patch(f"/tickets/{ticket.number}", body)

    assert response.status_code == 200, response.content
    out = response.json()
    assert (out["priority"], out["waybills"], out["internal"]["tags"]) == ("urgent", ["SF002002"], ["冷链"])
    assert out["version"] == ticket.version + 1


def test_patch_requires_version(api_as, agent, ticket):
    response = api_as(agent).patch(f"/tickets/{ticket.number}", {"priority": "urgent"})

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"version"}


def test_stale_version_is_409_with_the_services_message(api_as, agent, ticket):
    stale = ticket.version
    ticket_update(actor=agent, ticket=ticket, version=None, changes={"subject": "客户催件"})
    client = api_as(agent)
    before = _state()

    response = client.patch(f"/tickets/{ticket.number}", {"version": stale, "subject": "新主题"})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert "把主题从 " in body["message"]
    assert "客户催件" in body["message"]
    assert _state() == before


def test_stale_version_changing_another_field_is_applied(api_as, agent, ticket):
    stale = ticket.version
    ticket_update(actor=agent, ticket=ticket, version=None, changes={"priority": "high"})

    response = api_as(agent).patch(f"/tickets/{ticket.number}", {"version": stale, "subject": "新主题"})

    assert response.status_code == 200
    assert (response.json()["subject"], response.json()["priority"]) == ("新主题", "high")


@pytest.mark.parametrize("field", ["subject", "type", "priority", "custom_fields"])
def test_patch_null_is_refused(api_as, agent, ticket, field):
    response = api_as(agent).patch(f"/tickets/{ticket.number}", {"version": ticket.version, field: None})

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {field}


def test_patch_assignee_is_not_a_field_use_assign(api_as, agent, ticket):
    response = api_as(agent).patch(f"/tickets/{ticket.number}", {"version": ticket.version, "assignee": 1})

    assert response.status_code == 422
    assert response.json()["fields"] == {"assignee": ["不允许的字段"]}


def test_patch_contact_of_another_customer_is_refused(api_as, agent, ticket):
    stranger = new_contact()

    response = api_as(agent).patch(
        f"/tickets/{ticket.number}", {"version": ticket.version, "contact": stranger.public_id}
    )

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"contact"}


def test_assign_opens_a_new_ticket(api_as, agent, ticket):
    response = api_as(agent).post(f"/tickets/{ticket.number}/assign", {"assignee": agent.pk})

    assert response.status_code == 200
    assert response.json()["status"]["category"] == StatusCategory.OPEN
    assert response.json()["internal"]["assignee"]["username"] == "zhang.san"


def test_a_write_answers_with_the_ticket_without_a_query_per_relation(
    api_as, agent, ticket, django_assert_num_queries
):
    client = api_as(agent)
    client.get("/tickets?limit=1")  # token and permissions as in any later request
    ticket_update(actor=agent, ticket=ticket, version=None, changes={}, add_tags=["冷链", "加急"])

    # token, stamp, access sets (access.reach), the ticket, the assignee (5); the assignment and its
    # transition, with savepoints (15: the reference stamp is read once per request); then the answer: the
    # ticket re-read once with its relations, its tags, its waybills, the message counts (4) — not one
    # query each for customer, team, assignee, status …
    with django_assert_num_queries(24):
        response = client.post(f"/tickets/{ticket.number}/assign", {"assignee": agent.pk})

    assert response.status_code == 200
    assert response.json()["internal"]["tags"] == ["冷链", "加急"]


def test_assign_to_a_portal_user_is_refused(api_as, agent, portal, ticket):
    response = api_as(agent).post(f"/tickets/{ticket.number}/assign", {"assignee": portal.pk})

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"assignee"}


def test_transition_to_pending(api_as, agent, ticket):
    response = api_as(agent).post(f"/tickets/{ticket.number}/transition", {"status": "waiting-carrier"})

    assert response.status_code == 200
    assert response.json()["status"]["code"] == "waiting-carrier"


@pytest.mark.parametrize("status", ["resolved", "closed", "new", "no-such-status"])
def test_invalid_transition_is_422(api_as, agent, ticket, status):
    ticket_transition(actor=agent, ticket=ticket, status=default_status("open"))
    client = api_as(agent)
    before = _state()

    response = client.post(f"/tickets/{ticket.number}/transition", {"status": status})

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"status"}
    assert _state() == before


def test_resolve_close_reopen(api_as, agent, ticket):
    client = api_as(agent)
    base = f"/tickets/{ticket.number}"

    resolved = client.post(f"{base}/resolve", {"solution_summary": "已补发"}).json()
    unconfirmed = client.post(f"{base}/close", {"satisfaction_confirmed": False})
    closed = client.post(
        f"{base}/close", {"satisfaction_confirmed": False, "reason": "unreachable", "note": "三次未接通"}
    ).json()
    reopened = client.post(f"{base}/reopen", {"reason": "客户回电称未收到"}).json()

    assert (resolved["status"]["category"], resolved["solution_summary"]) == ("resolved", "已补发")
    assert unconfirmed.status_code == 422
    assert (closed["status"]["category"], closed["close_reason"]) == ("closed", "unreachable")
    assert closed["internal"]["close_note"] == "三次未接通"
    assert (reopened["status"]["category"], reopened["reopened_count"]) == ("open", 1)


def test_resolve_needs_a_summary(api_as, agent, ticket):
    response = api_as(agent).post(f"/tickets/{ticket.number}/resolve", {"solution_summary": "  "})

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"solution_summary"}


def test_portal_accepts_a_resolution(api_as, agent, portal, org):
    ticket = resolved_ticket(actor=agent, customer=org)

    response = api_as(portal).post(f"/tickets/{ticket.number}/accept")

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.status_category, ticket.satisfaction_confirmed, ticket.close_reason) == (
        "closed",
        True,
        "confirmed",
    )


def test_portal_rejects_a_resolution_with_a_public_reason(api_as, agent, portal, org):
    ticket = resolved_ticket(actor=agent, customer=org)

    response = api_as(portal).post(f"/tickets/{ticket.number}/reject", {"reason": "货还没到"})

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.status_category, ticket.reopened_count) == ("open", 1)
    message = ticket.messages.get()
    assert (message.visibility, message.author_kind, message.body_text) == ("public", "customer", "货还没到")


@pytest.mark.parametrize("endpoint", ["accept", "reject"])
def test_accept_or_reject_needs_a_resolved_ticket(api_as, portal, org, endpoint):
    ticket = new_ticket(customer=org)
    client = api_as(portal)
    before = _state()

    response = client.post(
        f"/tickets/{ticket.number}/{endpoint}", {"reason": "x"} if endpoint == "reject" else None
    )

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"status"}
    assert _state() == before


def test_reject_needs_a_reason(api_as, agent, portal, org):
    ticket = resolved_ticket(actor=agent, customer=org)

    response = api_as(portal).post(f"/tickets/{ticket.number}/reject", {"reason": ""})

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"reason"}


# --- conversation ---------------------------------------------------------------------------------


def test_script_in_a_reply_is_stored_sanitised(api_as, agent, ticket):
    body = '<p onclick="steal()">您好<script>alert("x")</script><a href="javascript:evil()">链接</a></p>'

    response = api_as(agent).post(f"/tickets/{ticket.number}/replies", {"body": body})

    assert response.status_code == 201
    stored = Message.objects.get()
    for html in (stored.body_html, response.json()["body_html"]):
        assert "script" not in html
        assert "onclick" not in html
        assert "javascript" not in html
    assert stored.body_text == "您好 链接"


def test_reply_to_a_closed_ticket_is_422(api_as, agent, ticket):
    ticket_resolve(actor=agent, ticket=ticket, solution_summary="已派送")
    ticket_close(actor=agent, ticket=ticket, satisfaction_confirmed=True)
    client = api_as(agent)
    before = _state()

    response = client.post(f"/tickets/{ticket.number}/replies", {"body": "还有问题吗？"})

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"status"}
    assert _state() == before


def test_reply_composed_against_an_old_version_is_held(api_as, agent, ticket):
    seen = ticket.version
    ticket_transition(actor=agent, ticket=ticket, status=default_status("pending"))
    client = api_as(agent)
    before = _state()

    response = client.post(f"/tickets/{ticket.number}/replies", {"body": "好的", "seen_version": seen})

    assert response.status_code == 409
    assert _state() == before


@pytest.mark.parametrize("body", [{"body": ""}, {"body": "x", "visibility": "internal"}, {"text": "x"}, {}])
def test_bad_reply_is_422(api_as, agent, ticket, body):
    response = api_as(agent).post(f"/tickets/{ticket.number}/replies", body)

    assert response.status_code == 422


def test_portal_reply_is_a_customer_message_and_reopens_a_pending_ticket(api_as, agent, portal, ticket):
    ticket_transition(actor=agent, ticket=ticket, status=default_status("pending"))

    response = api_as(portal).post(f"/tickets/{ticket.number}/replies", {"body": "资料已上传"})

    assert response.status_code == 201
    assert response.json()["author_kind"] == "customer"
    ticket.refresh_from_db()
    assert ticket.status_category == StatusCategory.OPEN


def test_notes_never_reach_a_customer(api_as, agent, portal, ticket):
    # given a public reply and an internal note
    new_message(ticket=ticket, actor=agent, body="已安排补发")
    api_as(agent).post(f"/tickets/{ticket.number}/notes", {"body": "客户很难缠，注意措辞"})
    client = api_as(portal)

    # when the customer reads the ticket every way there is
    answers = [
        client.get(f"/tickets/{ticket.number}/messages"),
        client.get(f"/tickets/{ticket.number}"),
        client.get("/tickets"),
        client.get("/tickets/changes?since=2000-01-01T00:00:00Z"),
        client.post(f"/tickets/{ticket.number}/replies", {"body": "好的"}),
    ]

    # then the note is nowhere, and the messages are the public ones only
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 201]
    assert all("难缠" not in a.content.decode() for a in answers)
    assert [m["body_text"] for m in answers[0].json()] == ["已安排补发"]
    assert all(m["visibility"] == "public" for m in answers[0].json())


def test_messages_show_author_names_but_no_usernames_to_customers(api_as, agent, portal, ticket):
    new_message(ticket=ticket, actor=agent)

    staff = api_as(agent).get(f"/tickets/{ticket.number}/messages").json()
    customer = api_as(portal).get(f"/tickets/{ticket.number}/messages").json()

    assert staff[0]["author"] == agent.full_name
    assert customer[0]["author"] == agent.full_name
    assert "zhang.san" not in str(customer)


def _upload(client: Any, ref: str, *files: SimpleUploadedFile, **form: Any) -> Any:
    return client.client.post(
        f"/api/v1/tickets/{ref}/attachments", data={"files": list(files), **form}, headers=client.headers
    )


def test_attachments_create_a_message_with_files(api_as, agent, ticket):
    files = [
        SimpleUploadedFile("签收单.pdf", b"%PDF-1.4", content_type="application/pdf"),
        SimpleUploadedFile("外箱.jpg", b"\xff\xd8\xff", content_type="image/jpeg"),
    ]

    response = _upload(api_as(agent), ticket.number, *files, body="现场照片", visibility="internal")

    assert response.status_code == 201, response.content
    out = response.json()
    assert out["visibility"] == "internal"
    assert sorted(a["name"] for a in out["attachments"]) == ["外箱.jpg", "签收单.pdf"]
    assert Attachment.objects.count() == 2
    detail = api_as(agent).get(f"/tickets/{ticket.number}").json()
    assert detail["counts"] == {"messages": 1, "attachments": 2}
    assert detail["internal"]["notes"] == 1


def test_customer_counts_only_public_attachments(api_as, agent, portal, ticket):
    client = api_as(agent)
    _upload(client, ticket.number, SimpleUploadedFile("a.pdf", b"%PDF"), visibility="internal")
    _upload(client, ticket.number, SimpleUploadedFile("b.pdf", b"%PDF"), SimpleUploadedFile("c.pdf", b"%PDF"))

    detail = api_as(portal).get(f"/tickets/{ticket.number}").json()
    messages = api_as(portal).get(f"/tickets/{ticket.number}/messages").json()

    assert detail["counts"] == {"messages": 1, "attachments": 2}
    assert [sorted(a["name"] for a in m["attachments"]) for m in messages] == [["b.pdf", "c.pdf"]]


def test_forbidden_attachment_type_is_422(api_as, agent, ticket):
    client = api_as(agent)
    before = _state()

    response = _upload(client, ticket.number, SimpleUploadedFile("run.exe", b"MZ"))

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"attachments"}
    assert _state() == before
    assert Attachment.objects.count() == 0


def test_a_3_mb_photo_is_accepted_although_json_bodies_stop_at_1_mb(
    api_as, agent, ticket, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    photo = SimpleUploadedFile(
        "破损外箱.jpg", b"\xff\xd8\xff" + b"0" * (3 * 1024 * 1024), content_type="image/jpeg"
    )

    response = _upload(api_as(agent), ticket.number, photo, body="破损照片")

    assert response.status_code == 201, response.content
    assert Attachment.objects.get().size == 3 * 1024 * 1024 + 3


def test_an_upload_body_over_the_upload_limit_is_413(api_as, agent, ticket, settings):
    settings.KEFU_API_MAX_UPLOAD_BYTES = 64 * 1024

    response = _upload(api_as(agent), ticket.number, SimpleUploadedFile("big.pdf", b"x" * 100 * 1024))

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert Attachment.objects.count() == 0


def test_oversized_attachment_is_422(api_as, agent, ticket, settings):
    settings.KEFU_ATTACHMENT_MAX_BYTES = 1024

    response = _upload(api_as(agent), ticket.number, SimpleUploadedFile("big.pdf", b"x" * 2048))

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"attachments"}
    assert Attachment.objects.count() == 0


def test_attachment_without_files_is_422(api_as, agent, ticket):
    response = _upload(api_as(agent), ticket.number, body="没有文件")

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["files"]


def test_portal_cannot_upload_an_internal_attachment(api_as, portal, ticket):
    response = _upload(
        api_as(portal), ticket.number, SimpleUploadedFile("a.pdf", b"%PDF"), visibility="internal"
    )

    assert response.status_code == 403
    assert Attachment.objects.count() == 0


# --- list and pagination --------------------------------------------------------------------------


def test_pagination_walks_every_ticket_once_newest_activity_first(api_as, agent, team):
    tickets = [new_ticket(actor=agent, team=team, subject=f"工单{i}") for i in range(7)]
    # two tickets share one updated_at: the id must break the tie
    same = timezone.now()
    Ticket.objects.filter(pk__in=[tickets[2].pk, tickets[5].pk]).update(updated_at=same)
    client = api_as(agent)

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = client.get("/tickets?limit=3" + (f"&cursor={cursor}" if cursor else "")).json()
        seen += [t["number"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    expected = list(Ticket.objects.order_by("-updated_at", "-id").values_list("number", flat=True))
    assert seen == expected
    assert len(set(seen)) == 7


@pytest.mark.parametrize("cursor", ["!!!", "bm90LWpzb24", encode_cursor(5), "eyJhdCI6ICJ4IiwgImlkIjogMX0"])
def test_invalid_cursor_is_422(api_as, agent, cursor):
    response = api_as(agent).get(f"/tickets?cursor={cursor}")

    assert response.status_code == 422
    assert response.json()["fields"] == {"cursor": ["分页游标无效"]}


@pytest.mark.parametrize(
    ("since", "cursor_at"),
    [
        ("1719-04-19T11:15:58+17:42", None),  # an offset PostgreSQL refuses
        ("0001-01-01T00:00:00+08:00", None),  # before year 1 once in UTC
        (
            "2000-01-01T00:00:00Z",
            dt.datetime(1719, 4, 19, 11, 15, tzinfo=dt.timezone(dt.timedelta(hours=17))),
        ),
        ("2000-01-01T00:00:00Z", dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))),
    ],
)
def test_changes_feed_times_at_the_edges_are_answered_not_500(api_as, agent, since, cursor_at):
    client = api_as(agent)
    url = f"/tickets/changes?since={quote(since)}"
    if cursor_at is not None:
        url += f"&cursor={encode_time_cursor(cursor_at, 1)}"

    response = client.get(url)

    if since.startswith("0001") or (cursor_at is not None and cursor_at.year == 1):
        assert response.status_code == 422
        assert set(response.json()["fields"]) == {"cursor" if cursor_at else "since"}
    else:
        assert response.status_code == 200


@pytest.mark.parametrize(
    "query", ["queue=everything", "limit=0", "limit=201", "priority=rush", "created_from=yesterday"]
)
def test_invalid_list_query_is_422(api_as, agent, query):
    response = api_as(agent).get(f"/tickets?{query}")

    assert response.status_code == 422


def test_filters(api_as, agent, team, org):
    wanted = new_ticket(
        actor=agent,
        team=team,
        customer=org,
        subject="冷链货物温度异常",
        priority="urgent",
        tags=["冷链"],
        waybills=["SF000777"],
    )
    new_ticket(actor=agent, team=team, subject="发票问题", priority="low")
    client = api_as(agent)

    queries = [
        "priority=urgent&priority=high",
        f"customer={org.public_id}",
        "tags=冷链",
        "waybill=sf000777",
        "q=温度",
        f"q={wanted.number}",
        "status_category=new",
        "category=other&type=inquiry&channel=phone&status=new",
        f"team={team.pk}",
    ]
    results = {q: [t["number"] for t in client.get(f"/tickets?{q}").json()["items"]] for q in queries}

    assert results["priority=urgent&priority=high"] == [wanted.number]
    assert results[f"customer={org.public_id}"] == [wanted.number]
    assert results["tags=冷链"] == [wanted.number]
    assert results["waybill=sf000777"] == [wanted.number]
    assert results["q=温度"] == [wanted.number]
    assert results[f"q={wanted.number}"] == [wanted.number]
    assert len(results["status_category=new"]) == 2
    assert len(results["category=other&type=inquiry&channel=phone&status=new"]) == 2
    assert len(results[f"team={team.pk}"]) == 2


def test_created_range_and_queues(api_as, agent, team):
    old = new_ticket(actor=agent, team=team, subject="旧工单")
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    mine = new_ticket(actor=agent, team=team, assignee=agent, subject="我的工单")
    client = api_as(agent)
    since = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")

    recent = client.get(f"/tickets?created_from={since}").json()["items"]
    older = client.get(f"/tickets?created_to={since}").json()["items"]
    queue_mine = client.get("/tickets?queue=mine").json()["items"]
    unassigned = client.get("/tickets?queue=unassigned").json()["items"]

    assert [t["number"] for t in recent] == [mine.number]
    assert [t["number"] for t in older] == [old.number]
    assert [t["number"] for t in queue_mine] == [mine.number]
    assert [t["number"] for t in unassigned] == [old.number]


@pytest.fixture
def _feed_lists_at_once(settings):
    settings.KEFU_CHANGES_SETTLE_SECONDS = 0


@pytest.mark.parametrize(
    "path", ["/tickets?limit=20", "/tickets/changes?since=2000-01-01T00:00:00Z&limit=20"]
)
@pytest.mark.usefixtures("_feed_lists_at_once")
def test_list_query_count_is_pinned(api_as, agent, team, django_assert_num_queries, path):
    for i in range(20):
        new_ticket(actor=agent, team=team, subject=f"工单{i}", tags=["冷链"], waybills=[f"SF{i:06d}"])
    client = api_as(agent)
    client.get("/tickets?limit=1")  # the token's last_used_at is written at most once a while

    # token, the reference stamp (permissions cached: kefu.core.reference), the user's access sets (the
    # access scope), the tickets, their tags, their waybills
    with django_assert_num_queries(6):
        response = client.get(path)

    assert len(response.json()["items"]) == 20


# --- changes feed ---------------------------------------------------------------------------------


def test_changes_feed_lists_tickets_changed_since_oldest_first(api_as, agent, team, settings):
    settings.KEFU_CHANGES_SETTLE_SECONDS = 0
    # given three tickets, then a cut-off, then a change to the first one and a new ticket
    first, second, _third = (new_ticket(actor=agent, team=team, subject=f"工单{i}") for i in range(3))
    Ticket.objects.update(updated_at=timezone.now() - dt.timedelta(hours=1))
    cutoff = timezone.now()
    fourth = new_ticket(actor=agent, team=team, subject="工单3")
    ticket_update(actor=agent, ticket=first, version=None, changes={"priority": "high"})
    client = api_as(agent)

    # when an integration reads the changes since the cut-off, one per page
    since = cutoff.isoformat().replace("+00:00", "Z")
    page1 = client.get("/tickets/changes", QUERY_STRING=f"since={since}&limit=1").json()
    page2 = client.get(
        "/tickets/changes", QUERY_STRING=f"since={since}&limit=1&cursor={page1['next_cursor']}"
    ).json()
    page3 = client.get(
        "/tickets/changes", QUERY_STRING=f"since={since}&limit=1&cursor={page2['next_cursor']}"
    ).json()

    # then it gets the changed tickets oldest change first, and a cursor to resume from
    assert [p["items"][0]["number"] if p["items"] else None for p in (page1, page2, page3)] == [
        fourth.number,
        first.number,
        None,
    ]
    assert (page1["has_more"], page2["has_more"], page3["has_more"]) == (True, False, False)
    assert page3["next_cursor"] == page2["next_cursor"]

    # and when the second ticket changes later, polling from the saved cursor finds exactly it
    ticket_update(actor=agent, ticket=second, version=None, changes={"priority": "low"})
    poll = client.get("/tickets/changes", QUERY_STRING=f"since={since}&cursor={page3['next_cursor']}").json()
    assert [t["number"] for t in poll["items"]] == [second.number]


def test_changes_feed_includes_merged_tickets(api_as, agent, team, settings):
    settings.KEFU_CHANGES_SETTLE_SECONDS = 0
    ticket = new_ticket(actor=agent, team=team)
    Ticket.objects.filter(pk=ticket.pk).update(merged_into=new_ticket(actor=agent, team=team))

    items = api_as(agent).get("/tickets/changes?since=2000-01-01T00:00:00Z").json()["items"]

    assert ticket.number in [t["number"] for t in items]


def test_changes_feed_waits_until_a_change_has_settled(api_as, agent, team, settings):
    # given a feed that lists changes once they are 10 s old, and a ticket changed 3 s ago: its
    # transaction could still be committing when a reader passes its time
    settings.KEFU_CHANGES_SETTLE_SECONDS = 10
    old = new_ticket(actor=agent, team=team, subject="早已变更")
    recent = new_ticket(actor=agent, team=team, subject="刚刚变更")
    Ticket.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(seconds=30))
    Ticket.objects.filter(pk=recent.pk).update(updated_at=timezone.now() - dt.timedelta(seconds=3))
    client = api_as(agent)

    # when an integration reads the feed now
    first = client.get("/tickets/changes?since=2000-01-01T00:00:00Z").json()

    # then only the settled change is listed, and the recent one comes on a later poll from the cursor
    assert [t["number"] for t in first["items"]] == [old.number]
    Ticket.objects.filter(pk=recent.pk).update(updated_at=timezone.now() - dt.timedelta(seconds=11))
    later = client.get(
        "/tickets/changes", QUERY_STRING=f"since=2000-01-01T00:00:00Z&cursor={first['next_cursor']}"
    ).json()
    assert [t["number"] for t in later["items"]] == [recent.number]


def test_changes_feed_needs_since_and_a_valid_cursor(api_as, agent):
    client = api_as(agent)
    bad_cursor = encode_time_cursor(dt.datetime(2026, 1, 1), 1)  # noqa: DTZ001 - a naive time is invalid

    assert client.get("/tickets/changes").status_code == 422
    assert client.get("/tickets/changes?since=soon").status_code == 422
    response = client.get(f"/tickets/changes?since=2000-01-01T00:00:00Z&cursor={bad_cursor}")
    assert response.status_code == 422
    assert response.json()["fields"] == {"cursor": ["分页游标无效"]}


# --- working together -----------------------------------------------------------------------------

HANDOFF = {
    "department": "carrier",
    "title": "催承运商派送",
    "deadline": "2099-01-01T10:00:00+08:00",
    "problem_description": "包裹滞留分拨中心",
    "support_needed": "确认派送时间",
}


@pytest.fixture
def lead(team: Any) -> Any:
    user = UserFactory(role=Role.LEAD)
    MembershipFactory(team=team, user=user)
    return user


def test_merge_into_a_ticket_the_caller_cannot_see_is_422(api_as, agent, ticket):
    hidden = new_ticket(team=TeamFactory())
    client = api_as(agent)
    before = _state()

    response = client.post(f"/tickets/{ticket.number}/merge", {"into": hidden.number})
    missing = client.post(f"/tickets/{ticket.number}/merge", {"into": "T9901019999"})

    assert response.status_code == missing.status_code == 422
    assert set(response.json()["fields"]) == {"into"}
    assert response.json()["message"].replace(hidden.number, "X") == missing.json()["message"].replace(
        "T9901019999", "X"
    )
    assert _state() == before


def test_merge_moves_the_conversation_and_closes_the_duplicate(api_as, agent, ticket, org, team):
    survivor = new_ticket(actor=agent, customer=org, team=team)
    new_message(ticket=ticket, actor=agent, body="重复来电")

    response = api_as(agent).post(f"/tickets/{ticket.number}/merge", {"into": survivor.number})

    assert response.status_code == 200
    assert response.json()["number"] == survivor.number
    ticket.refresh_from_db()
    assert (ticket.merged_into, ticket.status_category, ticket.close_reason) == (
        survivor,
        "closed",
        "duplicate",
    )


def test_split_a_message_of_another_ticket_is_422(api_as, agent, ticket, team):
    foreign = new_message(ticket=new_ticket(actor=agent, team=team), actor=agent)

    response = api_as(agent).post(f"/tickets/{ticket.number}/split", {"message": foreign.pk, "subject": "拆"})

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"message"}


def test_split_creates_a_linked_ticket(api_as, agent, ticket):
    new_message(ticket=ticket, actor=agent, body="第一件")
    second = new_message(ticket=ticket, actor=agent, body="另一件：SF002002 也没到")

    response = api_as(agent).post(
        f"/tickets/{ticket.number}/split", {"message": second.pk, "subject": "SF002002 未到"}
    )

    assert response.status_code == 201
    new = Ticket.objects.get(public_id=response.json()["id"])
    assert list(new.messages.values_list("body_text", flat=True)) == ["另一件：SF002002 也没到"]
    assert new.links_out.get().target == ticket


def test_link_twice_is_422_and_unlink_unknown_is_404(api_as, agent, ticket, team):
    other = new_ticket(actor=agent, team=team)
    client = api_as(agent)

    first = client.post(f"/tickets/{ticket.number}/links", {"other": other.number, "kind": "related"})
    again = client.post(f"/tickets/{other.number}/links", {"other": ticket.number})
    removed = client.delete(f"/tickets/{ticket.number}/links/{other.number}")
    removed_again = client.delete(f"/tickets/{ticket.number}/links/{other.number}")

    assert (first.status_code, again.status_code, removed.status_code, removed_again.status_code) == (
        201,
        422,
        204,
        404,
    )


def test_subtask_handoff_to_a_carrier_names_missing_fields(api_as, agent, ticket):
    response = api_as(agent).post(f"/tickets/{ticket.number}/subtasks", HANDOFF)

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"carrier_contact", "tracking_evidence"}


def test_open_mandatory_subtask_blocks_resolve(api_as, agent, ticket):
    client = api_as(agent)
    body = {**HANDOFF, "carrier_contact": "李师傅 13800001111", "tracking_evidence": "轨迹停在上海分拨"}
    created = client.post(f"/tickets/{ticket.number}/subtasks", body).json()

    blocked = client.post(f"/tickets/{ticket.number}/resolve", {"solution_summary": "已派送"})
    client.post(f"/tickets/{ticket.number}/subtasks/{created['id']}/status", {"status": "done"})
    resolved = client.post(f"/tickets/{ticket.number}/resolve", {"solution_summary": "已派送"})

    assert blocked.status_code == 422
    assert set(blocked.json()["fields"]) == {"subtasks"}
    assert resolved.status_code == 200
    listed = client.get(f"/tickets/{ticket.number}/subtasks").json()
    assert [(s["title"], s["status"]) for s in listed] == [("催承运商派送", "done")]


def test_subtask_stale_version_is_409(api_as, agent, ticket):
    client = api_as(agent)
    body = {**HANDOFF, "department": "warehouse"}
    created = client.post(f"/tickets/{ticket.number}/subtasks", body).json()
    path = f"/tickets/{ticket.number}/subtasks/{created['id']}"
    client.patch(path, {"version": 1, "current_progress": "仓库已回复"})

    stale = client.patch(path, {"version": 1, "title": "新标题"})
    null = client.patch(path, {"version": 2, "title": None})

    assert stale.status_code == 409
    assert null.status_code == 422


def test_subtask_of_another_ticket_is_404(api_as, agent, ticket, team):
    other = new_ticket(actor=agent, team=team)
    client = api_as(agent)
    created = client.post(f"/tickets/{other.number}/subtasks", {**HANDOFF, "department": "warehouse"}).json()

    response = client.post(f"/tickets/{ticket.number}/subtasks/{created['id']}/status", {"status": "done"})

    assert response.status_code == 404


def test_problem_flow(api_as, lead, agent, ticket, team):
    # given a problem ticket and two incidents, one found by waybill
    by_ref = new_ticket(actor=agent, team=team, subject="仓库系统故障-1")
    by_waybill = new_ticket(actor=agent, team=team, subject="仓库系统故障-2", waybills=["YT005555"])
    client = api_as(lead)
    base = f"/tickets/{ticket.number}"

    marked = client.post(f"{base}/problem")
    linked = client.post(f"{base}/incidents", {"tickets": [by_ref.number], "waybills": ["yt005555"]})
    update = client.post(f"{base}/problem-updates", {"body": "系统已恢复，正在补发", "update_id": "u-1"})
    retry = client.post(f"{base}/problem-updates", {"body": "系统已恢复，正在补发", "update_id": "u-1"})
    resolved = client.post(f"{base}/problem-resolve", {"solution_summary": "系统已修复并补发"})

    assert marked.json()["internal"]["is_problem"] is True
    assert sorted(linked.json()["linked"]) == sorted([by_ref.number, by_waybill.number])
    assert (update.json(), retry.json()) == ({"posted": 2}, {"posted": 0})
    out = resolved.json()
    assert out["problem"]["status"]["category"] == "resolved"
    assert sorted(out["resolved"]) == sorted([by_ref.number, by_waybill.number])
    assert out["skipped"] == []


def test_incidents_need_tickets_or_waybills(api_as, lead, ticket):
    client = api_as(lead)
    client.post(f"/tickets/{ticket.number}/problem")

    response = client.post(f"/tickets/{ticket.number}/incidents", {})

    assert response.status_code == 422
