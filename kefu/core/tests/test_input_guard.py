"""NUL characters (which PostgreSQL cannot store: it answered 500) are refused by one input layer,
kefu.core.middleware.InputGuardMiddleware, with 422 naming the field — in every text field of the
ticket, customer, contact and message APIs and forms, in query parameters and in paths."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client

from kefu.accounts.enums import Role
from kefu.customers.models import Contact, Customer, CustomerNote
from kefu.customers.tests.factories import new_customer
from kefu.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

NUL = "甲\x00乙"
CUSTOMER = {
    "name": "上海冷运",
    "customer_no": "KH1",
    "province": "上海",
    "city": "上海",
    "address": "张江路88号",
    "contacts": [
        {
            "name": "王小明",
            "phone": "13812345678",
            "email": "w@example.cn",
            "wechat_id": "wx",
            "title": "经理",
        }
    ],
}
CONTACT = {
    "name": "王小明",
    "phone": "13812345678",
    "email": "w@example.cn",
    "wechat_id": "wx",
    "title": "经理",
}
TICKET = {
    "subject": "货物延误",
    "description": "三天未到",
    "waybills": ["SF1234567890"],
    "custom_fields": {"note": "x"},
}


def with_nul(document: Any, path: str) -> Any:
    """A copy of ``document`` with the string at ``path`` (``contacts.0.name``) replaced by NUL text."""
    document = json.loads(json.dumps(document))
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = NUL
    else:
        node[last] = NUL
    return document


def assert_refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.content[:300]
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["fields"] == {field: ["不允许包含空字符（NUL）"]}
    assert field in body["message"]
    assert body["request_id"] == response["X-Request-ID"]


@pytest.fixture
def lead_api(api_as, make_user):
    return api_as(make_user(Role.LEAD))


@pytest.mark.parametrize(
    "field",
    ["name", "customer_no", "province", "city", "address", *(f"contacts.0.{k}" for k in CONTACT)],
)
def test_customer_create(lead_api, field):
    assert_refused(lead_api.post("/customers", with_nul(CUSTOMER, field)), field)
    assert not Customer.objects.exists()


@pytest.mark.parametrize("field", ["name", "customer_no", "province", "city", "address"])
def test_customer_update(lead_api, field):
    customer = new_customer(name="原名")
    body = with_nul(
        {"version": customer.version, **{k: v for k, v in CUSTOMER.items() if k != "contacts"}}, field
    )
    assert_refused(lead_api.patch(f"/customers/{customer.public_id}", body), field)
    customer.refresh_from_db()
    assert customer.name == "原名"


@pytest.mark.parametrize("field", list(CONTACT))
def test_contact_create(lead_api, field):
    customer = new_customer()
    assert_refused(
        lead_api.post(f"/customers/{customer.public_id}/contacts", with_nul(CONTACT, field)), field
    )
    assert not Contact.objects.filter(customer=customer).exists()


def test_customer_note(lead_api):
    customer = new_customer()
    assert_refused(lead_api.post(f"/customers/{customer.public_id}/notes", {"body": NUL}), "body")
    assert not CustomerNote.objects.exists()


@pytest.mark.parametrize("field", ["subject", "description", "waybills.0", "custom_fields.note"])
def test_ticket_create(lead_api, field):
    assert_refused(lead_api.post("/tickets", with_nul(TICKET, field)), field)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("field", ["subject", "description"])
def test_ticket_update(lead_api, field):
    assert_refused(
        lead_api.patch("/tickets/T1", with_nul({"version": 1, "subject": "s", "description": "d"}, field)),
        field,
    )


@pytest.mark.parametrize("endpoint", ["replies", "notes"])
def test_messages(lead_api, endpoint):
    assert_refused(lead_api.post(f"/tickets/T1/{endpoint}", {"body": NUL}), "body")
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/customers?q=%00", "q"),
        ("/customers?city=%E4%B8%8A%00", "city"),
        ("/tickets?q=%00", "q"),
        ("/tickets?waybill=SF%00", "waybill"),
        ("/customers/abc%00def", "path"),
    ],
)
def test_query_parameters_and_paths(lead_api, path, field):
    assert_refused(lead_api.get(path), field)


def test_api_upload_form_field(lead_api):
    assert_refused(
        lead_api.client.post("/api/v1/tickets/T1/attachments", {"note": NUL}, headers=lead_api.headers),
        "note",
    )


@pytest.mark.parametrize(
    ("url", "data", "field"),
    [
        ("/tickets/new/", {"subject": NUL, "description": "d"}, "subject"),
        ("/tickets/new/", {"subject": "s", "description": NUL}, "description"),
        ("/tickets/T1/reply/", {"body": NUL}, "body"),
        ("/customers/abc/notes/", {"body": NUL}, "body"),
    ],
)
def test_pages_answer_422_with_the_field_not_500(make_user, url, data, field):
    client = Client()
    client.force_login(make_user(Role.LEAD))
    response = client.post(url, data)
    assert response.status_code == 422
    assert f"{field} 含有不允许的空字符（NUL）" in response.content.decode()
    assert not Ticket.objects.exists()
    assert not CustomerNote.objects.exists()


@pytest.mark.parametrize("url", ["/customers/?q=%00", "/tickets/?q=%00", "/customers/abc%00/"])
def test_page_query_and_path(make_user, url):
    client = Client()
    client.force_login(make_user(Role.LEAD))
    response = client.get(url)
    assert response.status_code == 422
    assert "含有不允许的空字符（NUL）" in response.content.decode()


def test_login_form(db):
    response = Client().post("/login/", {"username": NUL, "password": "x"})
    assert response.status_code == 422


@pytest.mark.parametrize(("last_id", "rows"), [(2**63, 1), (10**30, 1), (-(2**63) - 1, 0)])
def test_cursor_past_a_bigint_pages_like_the_nearest_id_not_500(lead_api, last_id, rows):
    new_customer()
    cursor = base64.urlsafe_b64encode(json.dumps({"id": last_id}).encode()).decode().rstrip("=")
    response = lead_api.get(f"/customers?cursor={cursor}")
    assert response.status_code == 200
    assert len(response.json()["items"]) == rows


def _files(count: int) -> list[Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return [SimpleUploadedFile(f"f{i}.txt", b"x", content_type="text/plain") for i in range(count)]


def test_200_files_to_the_api_is_a_json_error_naming_the_limit(lead_api):
    response = lead_api.client.post(
        "/api/v1/tickets/T1/attachments", {"files": _files(200)}, headers=lead_api.headers
    )
    assert response.status_code == 413
    assert response.json()["fields"] == {"attachments": ["一次最多上传 100 个文件"]}
    assert not Message.objects.exists()


def test_200_files_to_a_page_names_the_limit(make_user):
    client = Client()
    client.force_login(make_user(Role.LEAD))
    response = client.post("/tickets/T1/reply/", {"body": "hi", "attachments": _files(200)})
    assert response.status_code == 413
    assert "一次最多上传 100 个文件" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "code", "field", "message"),
    [
        ({f"f{i}": "x" for i in range(1001)}, "too_many_fields", "__all__", "表单字段超过上限 1000 个"),
        ({"body": "x" * 1_100_000}, "payload_too_large", "__all__", "请求体超过上限 1048576 字节"),
    ],
)
def test_a_form_django_will_not_parse_is_413_naming_the_limit(make_user, data, code, field, message):
    client = Client()
    client.force_login(make_user(Role.LEAD))
    page = client.post("/tickets/T1/reply/", data)
    assert page.status_code == 413
    assert message in page.content.decode()
    api = client.post("/api/v1/customers/C1/notes", data)
    assert api.status_code == 413
    assert api.json()["code"] == code
    assert api.json()["fields"] == {field: [message]}
    assert not Message.objects.exists()
    assert not CustomerNote.objects.exists()
