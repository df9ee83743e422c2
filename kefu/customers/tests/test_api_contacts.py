"""The contacts API: add, replace and delete a customer's contacts, with validation and an audit trail."""

from __future__ import annotations

import pytest

from kefu.accounts.enums import Role
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers.models import Contact
from kefu.customers.tests.factories import new_contact, new_customer


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, full_name="孙经理")


@pytest.fixture
def customer(db):
    return new_customer(name="甲方物流")


def contact_rows():
    return list(Contact.objects.order_by("pk").values())


def assert_422(response, fields):
    assert response.status_code == 422, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields", "request_id"}
    assert body["code"] == "validation_error"
    assert sorted(body["fields"]) == sorted(fields)
    return body


def test_first_contact_becomes_primary_and_is_returned_unmasked_to_a_manager(api_as, manager, customer):
    response = api_as(manager).post(
        f"/customers/{customer.public_id}/contacts",
        {
            "name": " 钱七 ",
            "phone": "+86 137-0000-2222",
            "email": "Qian@Example.CN",
            "title": "仓库主管",
            "preferred_channel": "wechat",
            "wechat_id": "qianqi",
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "07:30",
        },
    )

    assert response.status_code == 201
    contact = Contact.objects.get()
    assert response.json() == {
        "id": contact.public_id,
        "name": "钱七",
        "title": "仓库主管",
        "phone": "137 0000 2222",
        "email": "qian@example.cn",
        "wechat_id": "qianqi",
        "preferred_channel": "wechat",
        "quiet_hours": "22:00–07:30",
        "is_primary": True,
        "masked": False,
        "version": 1,
    }
    assert (contact.phone, contact.phone_rev) == ("+8613700002222", "2222000073168")


def test_contact_added_by_an_agent_is_returned_masked(api_as, make_user, customer):
    response = api_as(make_user(Role.AGENT)).post(
        f"/customers/{customer.public_id}/contacts", {"name": "钱七", "phone": "13700002222"}
    )

    assert response.status_code == 201
    assert response.json()["phone"] == "137******22"
    assert response.json()["masked"] is True


def test_new_primary_contact_takes_over_from_the_old_one(api_as, manager, customer):
    old = new_contact(customer=customer, is_primary=True)

    response = api_as(manager).post(
        f"/customers/{customer.public_id}/contacts",
        {"name": "新主联系人", "phone": "13700002222", "is_primary": True},
    )

    assert response.json()["is_primary"] is True
    old.refresh_from_db()
    assert old.is_primary is False
    assert Contact.objects.filter(customer=customer, is_primary=True).count() == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "王", "phone": "12345"}, ["phone"]),
        ({"name": "王", "phone": "138123456789999"}, ["phone"]),
        ({"name": "王", "email": "wang@"}, ["email"]),
        ({"name": "王"}, ["phone"]),
        ({"name": "", "phone": "13812345678"}, ["name"]),
        ({"phone": "13812345678"}, ["name"]),
        ({"name": "王", "phone": "13812345678", "preferred_channel": "pigeon"}, ["preferred_channel"]),
        ({"name": "王", "phone": "13812345678", "quiet_hours_start": "22:00"}, ["quiet_hours"]),
        (
            {"name": "王", "phone": "13812345678", "quiet_hours_start": "25:00", "quiet_hours_end": "07:00"},
            ["quiet_hours_start"],
        ),
        ({"name": "王", "phone": 13812345678}, ["phone"]),
        ({"name": "王", "phone": "13812345678", "is_primary": "sometimes"}, ["is_primary"]),
        ({"name": "王", "phone": "13812345678", "customer": "other"}, ["customer"]),
    ],
)
def test_bad_contact_is_422_naming_the_field(api_as, manager, customer, body, fields):
    client = api_as(manager)
    events = AuditEvent.objects.count()

    response = client.post(f"/customers/{customer.public_id}/contacts", body)

    assert_422(response, fields)
    assert Contact.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_replace_contact_records_only_the_changed_fields(api_as, manager, customer):
    # given a contact
    contact = new_contact(
        customer=customer, name="王小明", phone="+8613812345678", email="wang@example.cn", title="经理"
    )
    client = api_as(manager)

    # when the manager replaces it with a new phone and title
    response = client.put(
        f"/customers/{customer.public_id}/contacts/{contact.public_id}",
        {
            "name": "王小明",
            "phone": "139 0000 1111",
            "email": "wang@example.cn",
            "title": "总经理",
            "is_primary": True,
            "version": 1,
        },
    )

    # then the contact has the new values and one update event lists just what changed
    assert response.status_code == 200
    assert response.json()["phone"] == "139 0000 1111"
    contact.refresh_from_db()
    assert (contact.phone, contact.phone_rev, contact.title) == ("+8613900001111", "1111000093168", "总经理")
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, content_type__model="contact")
    assert event.actor == manager
    assert event.object_id == str(contact.pk)
    assert event.changes == {"phone": ["+8613812345678", "+8613900001111"], "title": ["经理", "总经理"]}


def test_replace_contact_with_same_values_records_nothing(api_as, manager, customer):
    contact = new_contact(customer=customer, name="王小明", phone="+8613812345678", email="wang@example.cn")
    client = api_as(manager)
    changes = AuditEvent.objects.exclude(action="view_pii").count()

    response = client.put(
        f"/customers/{customer.public_id}/contacts/{contact.public_id}",
        {
            "name": "王小明",
            "phone": "13812345678",
            "email": "wang@example.cn",
            "is_primary": True,
            "version": 1,
        },
    )

    assert response.status_code == 200
    assert AuditEvent.objects.exclude(action="view_pii").count() == changes
    # The manager saw the contact unmasked in the response: that view is logged.
    assert list(AuditEvent.objects.filter(action="view_pii").values_list("changes", flat=True)) == [
        {"contacts": [None, [contact.public_id]], "where": [None, "api"]}
    ]


def test_replace_contact_with_bad_phone_changes_nothing(api_as, manager, customer):
    contact = new_contact(customer=customer)
    client = api_as(manager)
    before = contact_rows()
    events = AuditEvent.objects.count()

    response = client.put(
        f"/customers/{customer.public_id}/contacts/{contact.public_id}",
        {"name": "王小明", "phone": "0000", "version": 1},
    )

    assert_422(response, ["phone"])
    assert contact_rows() == before
    assert AuditEvent.objects.count() == events


def test_delete_contact_is_audited_with_its_last_values(api_as, manager, customer):
    contact = new_contact(customer=customer, name="王小明", phone="+8613812345678")
    client = api_as(manager)

    response = client.delete(f"/customers/{customer.public_id}/contacts/{contact.public_id}")

    assert response.status_code == 204
    assert response.content == b""
    assert Contact.objects.count() == 0
    event = AuditEvent.objects.get(action=AuditAction.DELETE)
    assert event.actor == manager
    assert event.content_type.model == "contact"
    assert event.object_id == str(contact.pk)
    assert event.changes["name"] == ["王小明", None]
    assert event.changes["phone"] == ["+8613812345678", None]


@pytest.mark.parametrize("method", ["put", "delete"])
def test_unknown_contact_is_404(api_as, manager, customer, method):
    new_contact(customer=customer)
    client = api_as(manager)
    before = contact_rows()
    args = [{"name": "王", "phone": "13812345678", "version": 1}] if method == "put" else []

    response = getattr(client, method)(f"/customers/{customer.public_id}/contacts/nosuchcontact000", *args)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert contact_rows() == before


def test_contacts_are_listed_primary_first(api_as, manager, customer):
    second = new_contact(customer=customer, name="李四", is_primary=False)
    first = new_contact(customer=customer, name="张三", is_primary=True)

    response = api_as(manager).get(f"/customers/{customer.public_id}/contacts")

    assert [c["id"] for c in response.json()] == [first.public_id, second.public_id]


def test_replace_contact_with_the_version_read_by_someone_else_is_409_and_keeps_their_change(
    api_as, manager, make_user, customer
):
    # given two managers who both read the contact at version 1
    contact = new_contact(customer=customer, name="王小明", phone="+8613812345678", title="经理")
    first, second = api_as(manager), api_as(make_user(Role.MANAGER, full_name="周经理"))
    read = first.get(f"/customers/{customer.public_id}/contacts").json()
    assert [c["version"] for c in read] == [1]
    url = f"/customers/{customer.public_id}/contacts/{contact.public_id}"

    # when the second saves a new title, then the first saves a new phone from what they read
    saved = second.put(url, {"name": "王小明", "phone": "13812345678", "title": "总经理", "version": 1})
    stale = first.put(url, {"name": "王小明", "phone": "13900001111", "title": "经理", "version": 1})

    # then the second's save moved the contact to version 2, and the first is told it changed
    assert saved.status_code == 200
    assert saved.json()["version"] == 2
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    assert "当前版本 2，你的版本 1" in stale.json()["message"]
    contact.refresh_from_db()
    assert (contact.phone, contact.title, contact.version) == ("+8613812345678", "总经理", 2)
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE).count() == 1


@pytest.mark.parametrize(
    "version",
    [pytest.param(..., id="missing"), None, "abc", 0, -1, 1.5, "1; drop", 2**70, True],
)
def test_replace_contact_without_a_valid_version_is_422_naming_version(api_as, manager, customer, version):
    contact = new_contact(customer=customer, name="王小明", phone="+8613812345678")
    body = {"name": "王小明", "phone": "13900001111"}
    if version is not ...:
        body["version"] = version
    client = api_as(manager)
    before = contact_rows()
    events = AuditEvent.objects.count()

    response = client.put(f"/customers/{customer.public_id}/contacts/{contact.public_id}", body)

    assert_422(response, ["version"])
    assert contact_rows() == before
    assert AuditEvent.objects.count() == events


def test_a_new_contact_takes_no_version(api_as, manager, customer):
    response = api_as(manager).post(
        f"/customers/{customer.public_id}/contacts", {"name": "王小明", "phone": "13812345678", "version": 3}
    )

    assert_422(response, ["version"])
    assert not Contact.objects.exists()
