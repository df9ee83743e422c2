"""An agent finds a customer and sees personal data masked; a lead sees it in full, and that is audited."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import UserFactory
from kefu.core.actors import SYSTEM
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers import services

pytestmark = pytest.mark.browser

ADDRESS = "上海市浦东新区张江路88号3号楼1202室"


@pytest.fixture
def customer():
    agent_for_assignment = UserFactory(role=Role.AGENT, full_name="李客服")
    created = services.customer_create(
        actor=SYSTEM,
        name="顺达冷链物流有限公司",
        province="上海",
        city="上海",
        address=ADDRESS,
        contacts=[services.ContactData(name="王小明", phone="138 1234 5678", email="wxm@shunda.cn")],
    )
    assert created.account_agent == agent_for_assignment
    services.customer_create(actor=SYSTEM, name="远洋货运有限公司", city="宁波")
    return created


def test_agent_sees_masked_contact_and_lead_sees_it_unmasked_with_an_audit_event(
    new_page, log_in, customer, live_server
):
    agent = UserFactory(role=Role.AGENT, full_name="张三")
    lead = UserFactory(role=Role.LEAD, full_name="组长王")

    page = new_page()
    log_in(page, agent)
    page.get_by_role("navigation").get_by_role("link", name="客户").click()
    expect(page.locator("#customer-rows")).to_contain_text("远洋货运有限公司")
    page.locator("input[name=q]").fill("顺达")
    # htmx swaps the rows in place (and pushes the search into the address bar).
    expect(page.locator("#customer-rows")).not_to_contain_text("远洋货运有限公司")
    expect(page).to_have_url(re.compile(r"q=%E9%A1%BA%E8%BE%BE|q=顺达"))
    rows = page.locator("#customer-rows tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("138******78")
    rows.first.get_by_role("link", name="顺达冷链物流有限公司").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("顺达冷链物流有限公司")
    expect(page.get_by_test_id("contact-phone")).to_have_text("138******78")
    expect(page.get_by_test_id("address")).to_have_text("上海市浦东新区张江路88号3号楼****")
    assert "1202" not in page.content()
    assert "王*明" in page.content()
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW_PII, actor=agent).exists()

    lead_page = new_page()
    log_in(lead_page, lead)
    lead_page.goto(f"/customers/{customer.public_id}/")
    expect(lead_page.get_by_test_id("contact-phone")).to_have_text("138 1234 5678")
    expect(lead_page.get_by_test_id("address")).to_have_text(ADDRESS)
    event = AuditEvent.objects.get(action=AuditAction.VIEW_PII, actor=lead)
    assert event.object_id == str(customer.pk)
    assert event.changes["where"] == [None, "web"]
    # The view itself shows up in the customer's history timeline.
    lead_page.reload()
    expect(lead_page.get_by_test_id("history")).to_contain_text("查看个人信息")
