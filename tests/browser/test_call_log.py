"""An agent takes a call from an unknown number: saves the caller as a new customer and opens a ticket in
one go; typed ticket details are never dropped silently; then edits the new customer's contact."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory, UserFactory
from kefu.customers.models import Customer
from kefu.tickets.models import CallLog, Ticket

pytestmark = pytest.mark.browser

SHOTS = Path(tempfile.gettempdir())  # desk-*.png: looked at by hand after UI changes


@pytest.fixture
def agent():
    user = UserFactory(role=Role.AGENT, full_name="李小丽")
    MembershipFactory(team=TeamFactory(name="华东一组"), user=user)
    return user


def test_call_from_an_unknown_number_becomes_a_customer_and_a_ticket(new_page, log_in, agent):
    page = new_page()
    log_in(page, agent)
    page.goto("/tickets/calls/")
    page.locator("input[name=caller_number]").fill("139 0000 2222")
    expect(page.get_by_test_id("call-customer")).to_contain_text("没有找到匹配的客户")
    page.locator("textarea[name=summary]").fill("来电说包裹三天没动")

    # Ticket details typed while "log the call only" is chosen: refused, and everything still there.
    page.get_by_label("记录并新建工单").check()
    page.locator("input[name=subject]").fill("包裹三天未更新")
    page.get_by_label("只记录通话").check()
    expect(page.locator("input[name=subject]")).to_be_hidden()
    page.get_by_role("button", name="保存通话").click()
    expect(page.get_by_test_id("ticket-mode")).to_contain_text("没有选择“记录并新建工单”")
    expect(page.locator("input[name=subject]")).to_have_value("包裹三天未更新")
    assert not CallLog.objects.exists()
    page.screenshot(path=SHOTS / "desk-call-log-mismatch.png", full_page=True)

    page.get_by_test_id("new-caller").locator("summary").click()
    page.locator("input[name=new_customer_name]").fill("王建国")
    page.get_by_label("记录并新建工单").check()
    page.locator("select[name=category]").select_option("other")
    page.screenshot(path=SHOTS / "desk-call-log-form.png", full_page=True)
    page.get_by_role("button", name="保存通话").click()

    ticket = Ticket.objects.get()
    expect(page).to_have_url(f"{page.url.split('/tickets/')[0]}/tickets/{ticket.number}/")
    expect(page.locator("body")).to_contain_text("通话（139 0000 2222）已记录")
    expect(page.locator("body")).to_contain_text("王建国")
    customer = Customer.objects.get()
    assert (ticket.customer, ticket.subject, ticket.channel) == (customer, "包裹三天未更新", "phone")
    assert customer.contacts.get().phone == "+8613900002222"

    # The new customer's page: the agent edits the contact without seeing its personal data.
    page.goto(f"/customers/{customer.public_id}/")
    expect(page.get_by_test_id("contact-phone")).to_have_text("139******22")
    page.get_by_role("link", name="编辑", exact=True).click()
    expect(page.locator("input[name=phone]")).to_have_attribute("placeholder", "139******22")
    page.locator("input[name=title]").fill("收货人")
    page.screenshot(path=SHOTS / "desk-contact-edit.png", full_page=True)
    page.get_by_role("button", name="保存").click()
    expect(page.locator("body")).to_contain_text("联系人已保存")
    contact = customer.contacts.get()
    assert (contact.title, contact.phone) == ("收货人", "+8613900002222")

    # The call list shows the agent the number they typed, the call just logged highlighted.
    page.goto(f"/tickets/calls/?logged={CallLog.objects.get().pk}")
    expect(page.get_by_test_id("just-logged").get_by_test_id("call-number")).to_have_text("139 0000 2222")
