"""The customers API: bad input in one error shape, keyset pagination and filters, masking with the PII
log, the audit trail of writes, and account-agent assignment."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from kefu.accounts.enums import Role
from kefu.accounts.models import Skill
from kefu.core.models import AuditAction, AuditEvent
from kefu.core.pagination import encode_cursor
from kefu.customers.models import Contact, Customer, Segment
from kefu.customers.tests.factories import CustomerFactory, new_contact, new_customer


@pytest.fixture
def lead(make_user):
    return make_user(Role.LEAD, full_name="刘组长")


@pytest.fixture
def agent(make_user):
    return make_user(Role.AGENT, full_name="陈专员")


def customer_rows():
    return list(Customer.objects.order_by("pk").values()), list(Contact.objects.order_by("pk").values())


def assert_error(response, status, code, fields=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields", "request_id"}
    assert body["code"] == code
    assert body["message"]
    if fields is not None:
        assert sorted(body["fields"]) == sorted(fields)
    return body


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "甲公司", "colour": "red"}, ["colour"]),
        (
            {"name": "甲公司", "contacts": [{"name": "王", "phone": "13812345678", "fax": "1"}]},
            ["contacts.0.fax"],
        ),
        ({"name": 123}, ["name"]),
        ({"name": "甲公司", "tier": "gold"}, ["tier"]),
        ({"name": "甲公司", "kind": "company"}, ["kind"]),
        ({"name": "甲公司", "segments": "cold-chain"}, ["segments"]),
        ({"name": "甲公司", "contacts": {"name": "王"}}, ["contacts"]),
        ({}, ["name"]),
        ({"tier": "vip"}, ["name"]),
        ({"name": "甲公司", "contacts": [{"phone": "13812345678"}]}, ["contacts.0.name"]),
        ({"name": "甲公司", "contacts": [{"name": "王", "phone": "12345"}]}, ["contacts.0.phone"]),
        (
            {
                "name": "甲公司",
                "contacts": [{"name": "王", "phone": "13812345678"}, {"name": "李", "phone": "abc"}],
            },
            ["contacts.1.phone"],
        ),
        ({"name": "甲公司", "contacts": [{"name": "王", "email": "not-an-email"}]}, ["contacts.0.email"]),
        ({"name": "甲公司", "contacts": [{"name": "王"}]}, ["contacts.0.phone"]),
        ({"name": "甲公司", "segments": ["cold-chain", "moon-base"]}, ["segments"]),
        ({"name": "   "}, ["name"]),
        ({"name": "甲公司", "customer_no": "KH 01/2"}, ["customer_no"]),
        ({"name": "x" * 129}, ["name"]),
    ],
)
def test_create_with_bad_input_is_422_naming_the_field(api_as, agent, body, fields):
    client = api_as(agent)

    response = client.post("/customers", body)

    assert_error(response, 422, "validation_error", fields)
    assert Customer.objects.count() == 0
    assert Contact.objects.count() == 0


def test_bad_phone_message_names_the_number(api_as, agent):
    response = api_as(agent).post(
        "/customers", {"name": "甲公司", "contacts": [{"name": "王", "phone": "12345"}]}
    )

    assert response.json()["fields"] == {"contacts.0.phone": ["电话号码无效：12345"]}


def test_unknown_segment_names_it(api_as, agent):
    response = api_as(agent).post("/customers", {"name": "甲公司", "segments": ["moon-base"]})

    assert response.json()["fields"] == {"segments": ["未知的客户细分：moon-base"]}


def test_duplicate_customer_number_is_422(api_as, agent):
    new_customer(customer_no="KH0000042", name="原有客户")

    response = api_as(agent).post("/customers", {"name": "新客户", "customer_no": "KH0000042"})

    body = assert_error(response, 422, "validation_error", ["customer_no"])
    assert body["fields"]["customer_no"] == ["客户编号 KH0000042 已存在"]
    assert list(Customer.objects.values_list("name", flat=True)) == ["原有客户"]


def test_malformed_json_is_rejected_in_the_error_shape(api_as, agent):
    client = api_as(agent)

    response = client.client.post(
        "/api/v1/customers", data="{name: 1", content_type="application/json", headers=client.headers
    )

    assert response.status_code in (400, 422)
    assert set(response.json()) == {"code", "message", "fields", "request_id"}
    assert Customer.objects.count() == 0


def test_body_over_the_limit_is_413(api_as, agent, settings):
    # given a 1 KiB limit and a body larger than it
    settings.KEFU_API_MAX_BODY_BYTES = 1024
    body = {"name": "甲公司", "address": "路" * 600}
    assert len(json.dumps(body).encode()) > 1024

    response = api_as(agent).post("/customers", body)

    assert_error(response, 413, "payload_too_large", [])
    assert Customer.objects.count() == 0


def test_body_just_under_the_limit_is_accepted(api_as, agent, settings):
    settings.KEFU_API_MAX_BODY_BYTES = 1024

    response = api_as(agent).post("/customers", {"name": "甲公司"})

    assert response.status_code == 201


def test_patch_with_stale_version_is_409_and_changes_nothing(api_as, agent):
    # given a customer at version 3 that the caller read at version 2
    customer = new_customer(name="旧名称", version=3)
    before = customer_rows()
    events = AuditEvent.objects.count()

    response = api_as(agent).patch(f"/customers/{customer.public_id}", {"version": 2, "name": "新名称"})

    assert_error(response, 409, "conflict", [])
    assert customer_rows() == before
    assert AuditEvent.objects.count() == events + 1  # only the test's own token creation


def test_patch_with_current_version_succeeds(api_as, agent):
    customer = new_customer(name="旧名称", version=3)

    response = api_as(agent).patch(f"/customers/{customer.public_id}", {"version": 3, "name": "新名称"})

    assert response.status_code == 200
    assert response.json()["version"] == 4
    assert Customer.objects.get().name == "新名称"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"public_id": "x"}, ["public_id"]),
        ({"account_agent": 1}, ["account_agent"]),
        ({"version": "latest"}, ["version"]),
        ({"tier": "gold"}, ["tier"]),
        ({"is_active": "maybe"}, ["is_active"]),
        ({"name": ""}, ["name"]),
        ({"name": None}, ["name"]),
        ({"tier": None}, ["tier"]),
        ({"customer_no": None}, ["customer_no"]),
        ({"segments": ["moon-base"]}, ["segments"]),
    ],
)
def test_patch_with_bad_input_is_422_and_changes_nothing(api_as, agent, body, fields):
    customer = new_customer()
    client = api_as(agent)
    before = customer_rows()
    events = AuditEvent.objects.count()

    response = client.patch(f"/customers/{customer.public_id}", body)

    assert_error(response, 422, "validation_error", fields)
    assert customer_rows() == before
    assert AuditEvent.objects.count() == events


def test_patch_to_a_taken_customer_number_is_422(api_as, agent):
    new_customer(customer_no="KH0000001")
    customer = new_customer(customer_no="KH0000002")
    client = api_as(agent)
    before = customer_rows()

    response = client.patch(f"/customers/{customer.public_id}", {"customer_no": "KH0000001"})

    assert_error(response, 422, "validation_error", ["customer_no"])
    assert customer_rows() == before


@pytest.mark.parametrize(
    "cursor", ["!!!", "bm90LWpzb24", encode_cursor(5)[:-2] + "@@", "eyJpZCI6ICJ4In0", "WzFd"]
)
def test_invalid_cursor_is_422(api_as, agent, cursor):
    response = api_as(agent).get(f"/customers?cursor={cursor}")

    body = assert_error(response, 422, "validation_error", ["cursor"])
    assert body["fields"]["cursor"] == ["分页游标无效"]


@pytest.mark.parametrize("limit", ["0", "-1", "201", "many"])
def test_limit_out_of_range_is_422(api_as, agent, limit):
    response = api_as(agent).get(f"/customers?limit={limit}")

    assert_error(response, 422, "validation_error", ["limit"])


def test_unknown_tier_filter_is_422(api_as, agent):
    response = api_as(agent).get("/customers?tier=gold")

    assert_error(response, 422, "validation_error", ["tier"])


# --- keyset pagination and filters --------------------------------------------------------------------


def walk(client, query=""):
    """Every page of the list, following next_cursor; returns the ids in order and the page sizes."""
    ids, sizes, cursor = [], [], None
    while True:
        url = f"/customers?limit=7{query}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url)
        assert response.status_code == 200, response.content
        page = response.json()
        ids += [c["id"] for c in page["items"]]
        sizes.append(len(page["items"]))
        cursor = page["next_cursor"]
        if cursor is None:
            return ids, sizes


def test_walking_all_pages_returns_every_customer_once_newest_first(api_as, agent):
    # given 30 customers
    customers = CustomerFactory.create_batch(30)
    client = api_as(agent)

    # when the client follows next_cursor to the end
    ids, sizes = walk(client)

    # then it saw each customer exactly once, newest first, in full pages
    assert ids == [c.public_id for c in reversed(customers)]
    assert sizes == [7, 7, 7, 7, 2]


def test_exactly_one_full_page_has_no_next_cursor(api_as, agent):
    CustomerFactory.create_batch(7)

    ids, sizes = walk(api_as(agent))

    assert sizes == [7]
    assert len(ids) == 7


def test_empty_list(api_as, agent):
    assert api_as(agent).get("/customers").json() == {"items": [], "next_cursor": None}


def test_walking_a_filtered_list_visits_only_matches(api_as, agent):
    vips = [new_customer(tier="vip") if i % 3 == 0 else new_customer() for i in range(24)]
    expected = [c.public_id for c in reversed(vips) if c.tier == "vip"]

    ids, _ = walk(api_as(agent), "&tier=vip")

    assert ids == expected
    assert len(ids) == 8


def _search(client, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = client.get(f"/customers?{query}")
    assert response.status_code == 200, response.content
    return sorted(c["name"] for c in response.json()["items"])


@pytest.fixture
def catalogue(db):
    cold = Segment.objects.get(code="cold-chain")
    retail = Segment.objects.get(code="retail")
    a = new_customer(name="顺达冷链物流", customer_no="KH1001001", tier="vip", kind="organization")
    a.segments.set([cold])
    b = new_customer(name="顺风快运", customer_no="KH1001002", tier="core", kind="organization")
    b.segments.set([retail])
    c = new_customer(name="张伟", customer_no="KH2002001", tier="standard", kind="consumer")
    new_contact(customer=a, phone="+8613800001234")
    new_contact(customer=b, phone="+8613911115678")
    new_contact(customer=c, phone="+862168881234")
    return a, b, c


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"tier": "vip"}, ["顺达冷链物流"]),
        ({"tier": "core"}, ["顺风快运"]),
        ({"kind": "consumer"}, ["张伟"]),
        ({"kind": "organization"}, ["顺达冷链物流", "顺风快运"]),
        ({"segment": "cold-chain"}, ["顺达冷链物流"]),
        ({"segment": "retail"}, ["顺风快运"]),
        ({"q": "顺"}, ["顺达冷链物流", "顺风快运"]),
        ({"q": "冷链"}, ["顺达冷链物流"]),
        ({"q": "KH1001"}, ["顺达冷链物流", "顺风快运"]),
        ({"q": "kh2002"}, ["张伟"]),
        ({"q": "KH1001002"}, ["顺风快运"]),
        ({"q": "13911115678"}, ["顺风快运"]),
        ({"q": "%2B8613911115678"}, ["顺风快运"]),
        ({"q": "139 1111 5678"}, ["顺风快运"]),
        ({"q": "5678"}, ["顺风快运"]),
        ({"q": "1234"}, ["张伟", "顺达冷链物流"]),
        ({"q": "021 6888 1234"}, ["张伟"]),
        ({"q": "8881234"}, []),  # an agent sees numbers masked: whole number or last four digits only
        ({"q": "1234", "kind": "organization"}, ["顺达冷链物流"]),
        ({"q": "无此客户"}, []),
        ({"tier": "vip", "segment": "retail"}, []),
    ],
)
def test_filters(api_as, agent, catalogue, params, names):
    assert _search(api_as(agent), **params) == names


def test_filter_by_account_agent(api_as, agent, make_user):
    other = make_user(Role.AGENT)
    mine = new_customer(name="我的客户", account_agent=agent)
    new_customer(name="别人的客户", account_agent=other)

    assert _search(api_as(agent), account_agent=agent.pk) == [mine.name]


# --- masking and the PII log -------------------------------------------------------------------------


@pytest.fixture
def customer_with_contact(db):
    customer = new_customer(name="甲方物流", address="上海市浦东新区张江路88号3号楼1202室")
    new_contact(
        customer=customer,
        name="王小明",
        phone="+8613812345678",
        email="zhang.wei@example.cn",
        wechat_id="wangxm88",
    )
    return customer


def pii_events():
    return list(AuditEvent.objects.filter(action=AuditAction.VIEW_PII))


@pytest.mark.parametrize("role", [Role.AGENT, Role.LEAD, Role.MANAGER, Role.ADMIN])
def test_list_is_always_masked_and_not_logged(api_as, make_user, customer_with_contact, role):
    response = api_as(make_user(role)).get("/customers")

    item = response.json()["items"][0]
    assert item["address"] == "上海市浦东新区张江路88号3号楼****"
    assert item["contacts"][0] | {"id": None} == {
        "id": None,
        "name": "王*明",
        "title": "",
        "phone": "138******78",
        "email": "z********@example.cn",
        "wechat_id": "w*******",
        "preferred_channel": "phone",
        "quiet_hours": "",
        "is_primary": True,
        "masked": True,
        "version": 1,
    }
    assert pii_events() == []


def test_detail_for_an_agent_is_masked_and_not_logged(api_as, agent, customer_with_contact):
    response = api_as(agent).get(f"/customers/{customer_with_contact.public_id}")

    body = response.json()
    assert response.status_code == 200
    assert body["address"] == "上海市浦东新区张江路88号3号楼****"
    assert body["contacts"][0]["phone"] == "138******78"
    assert body["contacts"][0]["name"] == "王*明"
    assert body["contacts"][0]["masked"] is True
    assert pii_events() == []


def test_detail_for_a_lead_is_unmasked_and_logged_once(api_as, lead, customer_with_contact):
    # when a lead opens the customer
    response = api_as(lead).get(f"/customers/{customer_with_contact.public_id}")

    # then the personal data is in the clear
    body = response.json()
    contact = Contact.objects.get()
    assert body["address"] == "上海市浦东新区张江路88号3号楼1202室"
    assert body["contacts"][0]["phone"] == "138 1234 5678"
    assert body["contacts"][0]["name"] == "王小明"
    assert body["contacts"][0]["email"] == "zhang.wei@example.cn"
    assert body["contacts"][0]["masked"] is False
    # and exactly one view_pii event names the lead, the customer and the contacts seen
    [event] = pii_events()
    assert event.actor == lead
    assert event.object_id == str(customer_with_contact.pk)
    assert event.object_repr == str(customer_with_contact)
    assert event.changes == {"contacts": [None, [contact.public_id]], "where": [None, "api"]}


def test_contacts_list_for_an_analyst_is_masked_and_not_logged(api_as, make_user, customer_with_contact):
    response = api_as(make_user(Role.ANALYST)).get(f"/customers/{customer_with_contact.public_id}/contacts")

    assert [c["phone"] for c in response.json()] == ["138******78"]
    assert pii_events() == []


def test_contacts_list_for_a_manager_is_unmasked_and_logged_once(api_as, make_user, customer_with_contact):
    manager = make_user(Role.MANAGER)

    response = api_as(manager).get(f"/customers/{customer_with_contact.public_id}/contacts")

    assert [c["phone"] for c in response.json()] == ["138 1234 5678"]
    [event] = pii_events()
    assert event.actor == manager
    assert event.object_id == str(customer_with_contact.pk)


def test_customer_page_for_an_agent_is_masked_and_for_a_lead_logged(make_user, customer_with_contact):
    agent_browser, lead_browser = Client(), Client()
    agent_browser.force_login(make_user(Role.AGENT))
    lead = make_user(Role.LEAD)
    lead_browser.force_login(lead)
    url = f"/customers/{customer_with_contact.public_id}/"

    masked = agent_browser.get(url).content.decode()
    assert "138******78" in masked
    assert "1202室" not in masked
    assert pii_events() == []

    clear = lead_browser.get(url).content.decode()
    assert "138 1234 5678" in clear
    [event] = pii_events()
    assert event.actor == lead
    assert event.changes["where"] == [None, "web"]


# --- audit ------------------------------------------------------------------------------------------


def test_create_records_the_actor_and_every_field(api_as, agent):
    # when an agent creates a customer with a segment and a contact
    response = api_as(agent).post(
        "/customers",
        {
            "name": "  华东冷链  ",
            "kind": "organization",
            "tier": "core",
            "customer_no": "KH7000001",
            "segments": ["cold-chain"],
            "province": "浙江",
            "city": "杭州",
            "address": "杭州市西湖区文三路90号2幢501室",
            "contacts": [{"name": "周八", "phone": "139 0000 1111", "email": "Zhou@Example.cn"}],
        },
    )

    # then the customer and contact exist, cleaned
    assert response.status_code == 201
    customer = Customer.objects.get()
    contact = Contact.objects.get()
    assert (customer.name, customer.source) == ("华东冷链", "api")
    assert (contact.phone, contact.email, contact.is_primary) == ("+8613900001111", "zhou@example.cn", True)
    # and the create events name the agent and every field
    customer_event = AuditEvent.objects.get(
        action=AuditAction.CREATE, object_id=str(customer.pk), content_type__model="customer"
    )
    assert customer_event.actor == agent
    assert customer_event.actor_label == "陈专员"
    assert customer_event.changes == {
        "customer_no": [None, "KH7000001"],
        "kind": [None, "organization"],
        "name": [None, "华东冷链"],
        "tier": [None, "core"],
        "segments": [None, ["cold-chain"]],
        "province": [None, "浙江"],
        "city": [None, "杭州"],
        "address": [None, "杭州市西湖区文三路90号2幢501室"],
        "is_active": [None, True],
    }
    contact_event = AuditEvent.objects.get(action=AuditAction.CREATE, content_type__model="contact")
    assert contact_event.actor == agent
    assert contact_event.object_id == str(contact.pk)
    assert contact_event.changes["phone"] == [None, "+8613900001111"]
    assert contact_event.changes["name"] == [None, "周八"]


def test_patch_records_only_changed_fields_and_bumps_the_version(api_as, agent):
    customer = new_customer(name="甲方物流", tier="standard", city="上海", version=1)
    client = api_as(agent)

    response = client.patch(
        f"/customers/{customer.public_id}",
        {"version": 1, "name": "甲方物流", "tier": "vip", "city": "苏州", "segments": ["retail"]},
    )

    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response.json()["tier"] == "vip"
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, content_type__model="customer")
    assert event.actor == agent
    assert event.changes == {
        "tier": ["standard", "vip"],
        "city": ["上海", "苏州"],
        "segments": [[], ["retail"]],
    }


def test_patch_without_changes_records_nothing_and_keeps_the_version(api_as, agent):
    customer = new_customer(name="甲方物流", version=5)
    client = api_as(agent)
    events = AuditEvent.objects.count()

    response = client.patch(f"/customers/{customer.public_id}", {"name": "甲方物流"})

    assert response.json()["version"] == 5
    assert AuditEvent.objects.count() == events


def test_note_is_recorded_with_its_author(api_as, agent):
    customer = new_customer()

    response = api_as(agent).post(f"/customers/{customer.public_id}/notes", {"body": "  下周二回访  "})

    assert response.status_code == 201
    assert response.json()["body"] == "下周二回访"
    assert response.json()["author"] == "陈专员"
    event = AuditEvent.objects.get(action=AuditAction.CREATE, content_type__model="customernote")
    assert event.actor == agent
    assert event.changes == {"body": [None, "下周二回访"]}


def test_blank_note_is_422(api_as, agent):
    customer = new_customer()

    response = api_as(agent).post(f"/customers/{customer.public_id}/notes", {"body": "   "})

    assert_error(response, 422, "validation_error", ["body"])
    assert customer.notes.count() == 0


# --- account-agent assignment -------------------------------------------------------------------------


def test_new_customer_goes_to_the_agent_with_the_segments_skill(api_as, make_user, lead):
    # given two agents, the busier one skilled in cold chain
    cold = Skill.objects.get(code="cold-chain")
    skilled = make_user(Role.AGENT)
    skilled.skills.set([cold])
    idle = make_user(Role.AGENT)
    CustomerFactory.create_batch(3, account_agent=skilled)

    # when a cold-chain customer is created
    response = api_as(lead).post("/customers", {"name": "冷链新客户", "segments": ["cold-chain"]})

    # then the skilled agent gets it despite the load
    assert response.json()["account_agent"]["id"] == skilled.pk
    assert idle.account_customers.count() == 0


def test_without_a_skill_match_the_least_loaded_agent_is_chosen(api_as, make_user, lead):
    busy = make_user(Role.AGENT)
    free = make_user(Role.AGENT)
    CustomerFactory.create_batch(2, account_agent=busy)
    new_customer(account_agent=free, is_active=False)  # inactive customers do not count

    response = api_as(lead).post("/customers", {"name": "零售新客户", "segments": ["retail"]})

    assert response.json()["account_agent"]["id"] == free.pk


def test_assignment_sets_first_contact_due_one_week_later(api_as, agent, lead):
    customer = new_customer()
    before = timezone.now()

    response = api_as(lead).post(f"/customers/{customer.public_id}/assign", {"agent_id": agent.pk})

    after = timezone.now()
    customer.refresh_from_db()
    assert response.status_code == 200
    assert customer.account_agent == agent
    assigned, due = customer.account_assigned_at, customer.first_contact_due_at
    assert assigned is not None
    assert due is not None
    assert before <= assigned <= after
    assert due - assigned == dt.timedelta(days=7)
    assert customer.first_contacted_at is None
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE, content_type__model="customer").get()
    assert event.actor == lead
    assert event.changes["account_agent"] == [None, str(agent)]


@pytest.mark.parametrize("role", [Role.LEAD, Role.QA, Role.CUSTOMER])
def test_manual_assignment_to_a_non_agent_is_422(api_as, make_user, lead, role):
    customer = new_customer()
    not_an_agent = make_user(role)
    client = api_as(lead)
    before = customer_rows()

    response = client.post(f"/customers/{customer.public_id}/assign", {"agent_id": not_an_agent.pk})

    assert_error(response, 422, "validation_error", ["agent_id"])
    assert customer_rows() == before


def test_manual_assignment_to_an_inactive_agent_is_422(api_as, make_user, lead):
    customer = new_customer()
    gone = make_user(Role.AGENT, is_active=False)

    response = api_as(lead).post(f"/customers/{customer.public_id}/assign", {"agent_id": gone.pk})

    assert_error(response, 422, "validation_error", ["agent_id"])
    assert Customer.objects.get().account_agent is None


def test_manual_assignment_to_an_unknown_user_is_422_naming_agent_id(api_as, lead):
    customer = new_customer()

    response = api_as(lead).post(f"/customers/{customer.public_id}/assign", {"agent_id": 999999})

    assert_error(response, 422, "validation_error", ["agent_id"])
    assert Customer.objects.get().account_agent is None
