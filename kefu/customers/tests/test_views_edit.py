"""Creating and editing customers and contacts in the console: through the customer services, errors
named per field, a stale edit held with a conflict, per-role permissions, audited."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.accounts.enums import Role
from kefu.core.actors import SYSTEM
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers import services
from kefu.customers.models import Contact, Customer
from kefu.customers.services import ContactData
from kefu.customers.tests.pages import ADDRESS, shunda

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return shunda(contacts=[ContactData(name="王建国", phone="13812345678", email="wang@shunda.cn")])


def _snapshot() -> list[Any]:
    return [
        list(Customer.objects.order_by("pk").values()),
        list(Contact.objects.order_by("pk").values()),
        AuditEvent.objects.filter(content_type__app_label="customers").count(),
    ]


def _audited(obj: Any, action: str) -> Any:
    return (
        AuditEvent.objects.filter(
            content_type__model=obj._meta.model_name, object_id=str(obj.pk), action=action
        )
        .latest("id")
        .changes
    )


# --- create -----------------------------------------------------------------------------------------


def test_an_agent_creates_a_customer_with_a_contact(as_role):
    agent = as_role(Role.AGENT)
    assert 'data-testid="new-customer"' in agent.get("/customers/").text

    response = agent.post(
        "/customers/new/",
        {
            "name": "华东快运有限公司",
            "kind": "organization",
            "tier": "core",
            "segments": ["cold-chain"],
            "city": "上海",
            "contacts.0.name": "李经理",
            "contacts.0.phone": "139 0000 1111",
            "contacts.0.preferred_channel": "wechat",
        },
    )

    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response.url == f"/customers/{customer.public_id}/"
    assert (customer.name, customer.tier, customer.city) == ("华东快运有限公司", "core", "上海")
    assert list(customer.segments.values_list("code", flat=True)) == ["cold-chain"]
    contact = customer.contacts.get()
    assert (contact.name, contact.phone, contact.preferred_channel) == ("李经理", "+8613900001111", "wechat")
    assert _audited(customer, AuditAction.CREATE)["name"] == [None, "华东快运有限公司"]
    assert _audited(contact, AuditAction.CREATE)["name"] == [None, "李经理"]


def test_create_errors_are_named_per_field_and_nothing_is_stored(as_role):
    response = as_role(Role.AGENT).post(
        "/customers/new/",
        {
            "name": " ",
            "kind": "organization",
            "tier": "gold",
            "contacts.0.name": "李经理",
            "contacts.0.phone": "123",
        },
    )

    assert response.status_code == 422
    errors = response.context["field_errors"]
    assert errors["name"] == ["客户名称不能为空"]
    assert "tier" in errors
    assert errors["contacts.0.phone"] == ["电话号码无效：123"]
    assert "电话号码无效：123" in response.text
    assert 'value="李经理"' in response.text  # what was typed is kept
    assert not Customer.objects.exists()


@pytest.mark.parametrize("role", [Role.QA, Role.ANALYST])
def test_read_only_roles_may_not_create_or_edit(as_role, role, customer):
    client = as_role(role)
    contact = customer.contacts.get()
    before = _snapshot()

    assert 'data-testid="new-customer"' not in client.get("/customers/").text
    page = client.get(f"/customers/{customer.public_id}/").text
    assert 'data-testid="edit-customer"' not in page
    assert 'data-testid="add-contact"' not in page
    for url, data in (
        ("/customers/new/", {"name": "x"}),
        (f"/customers/{customer.public_id}/edit/", {"name": "x", "kind": "organization", "tier": "vip"}),
        (f"/customers/{customer.public_id}/contacts/new/", {"name": "x", "phone": "13900001111"}),
        (f"/customers/{customer.public_id}/contacts/{contact.public_id}/edit/", {"name": "x"}),
    ):
        assert client.get(url).status_code == 403
        assert client.post(url, data).status_code == 403
    assert _snapshot() == before


# --- edit a customer ----------------------------------------------------------------------------------


def _edit_form(customer: Customer, **changes: Any) -> dict[str, Any]:
    return {
        "version": customer.version,
        "name": customer.name,
        "kind": customer.kind,
        "tier": customer.tier,
        "province": customer.province,
        "city": customer.city,
        "address": "",
        **changes,
    }


def test_a_lead_edits_a_customer_and_it_is_audited(as_role, customer):
    lead = as_role(Role.LEAD)  # may see personal data: the address is in the form
    form = lead.get(f"/customers/{customer.public_id}/edit/")
    assert form.context["values"]["address"] == ADDRESS

    response = lead.post(
        f"/customers/{customer.public_id}/edit/",
        _edit_form(customer, tier="vip", address=ADDRESS, segments=["cross-border"]),
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.tier, customer.version) == ("vip", 2)
    changes = _audited(customer, AuditAction.UPDATE)
    assert changes["tier"] == ["standard", "vip"]
    assert changes["segments"] == [[], ["cross-border"]]


def test_an_agent_never_sees_the_address_and_an_empty_one_keeps_it(as_role, customer):
    agent = as_role(Role.AGENT)
    form = agent.get(f"/customers/{customer.public_id}/edit/")
    assert ADDRESS not in form.text
    assert "3号楼****" in form.text  # the masked address is the hint

    response = agent.post(f"/customers/{customer.public_id}/edit/", _edit_form(customer, city="杭州"))

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.city, customer.address) == ("杭州", ADDRESS)


def test_a_stale_customer_edit_is_a_conflict_showing_what_is_stored(as_role, customer):
    lead = as_role(Role.LEAD)
    stale = _edit_form(customer, name="顺达物流（旧）", address=ADDRESS)
    services.customer_update(actor=SYSTEM, customer=customer, version=1, name="顺达冷链（他人改）")
    before = _snapshot()

    response = lead.post(f"/customers/{customer.public_id}/edit/", stale)

    assert response.status_code == 409
    assert 'data-testid="conflict"' in response.text
    assert "顺达冷链（他人改）" in response.text  # what is stored now
    assert 'value="顺达物流（旧）"' in response.text  # what the user typed, kept
    assert response.context["version"] == 2
    assert _snapshot() == before

    again = lead.post(f"/customers/{customer.public_id}/edit/", {**stale, "version": 2})
    assert again.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "顺达物流（旧）"


def test_customer_edit_errors_are_per_field(as_role, customer):
    before = _snapshot()

    response = as_role(Role.LEAD).post(
        f"/customers/{customer.public_id}/edit/", _edit_form(customer, name="")
    )

    assert response.status_code == 422
    assert response.context["field_errors"] == {"name": ["客户名称不能为空"]}
    assert _snapshot() == before


# --- contacts -------------------------------------------------------------------------------------------


def test_an_agent_adds_a_contact(as_role, customer):
    response = as_role(Role.AGENT).post(
        f"/customers/{customer.public_id}/contacts/new/",
        {"name": "赵会计", "title": "财务", "email": "zhao@shunda.cn", "preferred_channel": "email"},
    )

    assert response.status_code == 302
    contact = customer.contacts.get(name="赵会计")
    assert (contact.email, contact.is_primary) == ("zhao@shunda.cn", False)
    assert _audited(contact, AuditAction.CREATE)["title"] == [None, "财务"]


def test_a_contact_needs_a_way_to_reach_them(as_role, customer):
    before = _snapshot()

    response = as_role(Role.AGENT).post(f"/customers/{customer.public_id}/contacts/new/", {"name": "赵会计"})

    assert response.status_code == 422
    assert response.context["field_errors"] == {"phone": ["电话、邮箱、微信号至少填写一项"]}
    assert _snapshot() == before


def test_an_agent_edits_a_contact_without_seeing_its_personal_data(as_role, customer):
    contact = customer.contacts.get()
    agent = as_role(Role.AGENT)
    form = agent.get(f"/customers/{customer.public_id}/contacts/{contact.public_id}/edit/")
    for secret in ("13812345678", "138 1234 5678", "wang@shunda.cn", "王建国"):
        assert secret not in form.text
    assert "138******78" in form.text

    response = agent.post(
        f"/customers/{customer.public_id}/contacts/{contact.public_id}/edit/",
        {
            "version": contact.version,
            "name": "",
            "title": "物流主管",
            "phone": "",
            "preferred_channel": "phone",
            "is_primary": "1",
        },
    )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.name, contact.phone, contact.email, contact.title) == (
        "王建国",
        "+8613812345678",
        "wang@shunda.cn",
        "物流主管",
    )
    assert _audited(contact, AuditAction.UPDATE) == {"title": ["", "物流主管"]}


def test_a_stale_contact_edit_is_a_conflict(as_role, customer):
    contact = customer.contacts.get()
    lead = as_role(Role.LEAD)
    form = {"version": contact.version, "name": "王建国", "phone": "13812345678", "title": "经理"}
    services.contact_update(
        actor=SYSTEM, contact=contact, data=ContactData(name="王建国", phone="13900002222"), version=1
    )
    before = _snapshot()

    response = lead.post(f"/customers/{customer.public_id}/contacts/{contact.public_id}/edit/", form)

    assert response.status_code == 409
    assert "联系人已被他人修改" in response.context["error_summary"]
    assert "139 0000 2222" in response.text
    assert response.context["version"] == 2
    assert _snapshot() == before


def test_the_new_customer_form_starts_as_a_standard_organization(as_role):
    page = as_role(Role.AGENT).get("/customers/new/").text

    assert '<option value="standard" selected>' in page
    assert '<option value="organization" selected>' in page
