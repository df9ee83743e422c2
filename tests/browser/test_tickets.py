"""Tickets in a real browser: an agent works a ticket from the queue; a portal user submits one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory, UserFactory
from kefu.customers.tests.factories import PortalAccountFactory, new_customer
from kefu.tickets.tests.factories import new_message, new_ticket

pytestmark = pytest.mark.browser


def test_agent_opens_the_queue_opens_a_ticket_and_replies(page, log_in):
    team = TeamFactory(name="华东一组")
    agent = UserFactory(role=Role.AGENT, full_name="李小丽")
    MembershipFactory(team=team, user=agent)
    customer = new_customer(name="顺达冷链物流有限公司")
    ticket = new_ticket(subject="冷链货物延误两天", team=team, customer=customer)
    new_message(ticket=ticket, actor=agent, body="您好，我们正在核实。")

    log_in(page, agent)
    page.goto("/tickets/")
    expect(page.locator("#ticket-rows")).to_contain_text("冷链货物延误两天")
    # The queue counts arrive after the list (htmx): one ticket in the team's queue, none of mine.
    expect(page.get_by_test_id("queue-team").locator(".count")).to_have_text("1")
    expect(page.get_by_test_id("queue-mine").locator(".count")).to_have_text("0")
    # The search box filters the list in place (htmx).
    page.keyboard.press("/")
    page.keyboard.type("冷链")
    expect(page.locator("#ticket-rows")).to_contain_text(ticket.number)
    page.get_by_role("link", name="冷链货物延误两天").click()
    page.wait_for_url(f"**/tickets/{ticket.number}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("冷链货物延误两天")

    page.keyboard.press("r")  # shortcut: focus the reply box
    expect(page.locator("#reply-body")).to_be_focused()
    page.locator("#reply-body").fill("已联系承运商，明天上午送达。")
    page.get_by_role("button", name="发送").click()
    page.wait_for_url(f"**/tickets/{ticket.number}/")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("已联系承运商，明天上午送达。")
    expect(timeline).to_contain_text("李小丽")


def test_portal_user_creates_a_ticket_with_required_fields_and_sees_it_listed(page, log_in):
    account = PortalAccountFactory(customer=new_customer(name="华东快运有限公司"))

    log_in(page, account.user)
    page.get_by_role("navigation").get_by_role("link", name="我的工单").click()
    page.get_by_role("link", name="提交新工单").click()
    page.get_by_label("主题").fill("包裹外箱破损")
    page.get_by_label("问题描述").fill("收到时外箱已破，内件受损。")
    page.get_by_label("问题分类").select_option("damage")
    fields = page.get_by_test_id("custom-fields")
    expect(fields.locator("select[name=cf_cargo_type]")).to_be_visible()  # rendered for the category
    fields.locator("select[name=cf_cargo_type]").select_option("易碎品")
    fields.locator("select[name=cf_exception_node]").select_option("末端派送")
    fields.locator("select[name=cf_expected_solution]").select_option("赔偿")
    page.get_by_role("button", name="提交").click()
    expect(page.locator(".messages")).to_contain_text("已提交")
    expect(page.get_by_role("heading", level=1)).to_contain_text("包裹外箱破损")

    page.get_by_role("link", name="返回我的工单").click()
    expect(page.locator("main table")).to_contain_text("包裹外箱破损")


def test_keyboard_shortcuts_move_open_and_assign(page, log_in):
    team = TeamFactory()
    agent = UserFactory(role=Role.AGENT, full_name="赵敏")
    MembershipFactory(team=team, user=agent)
    older = new_ticket(subject="较早的工单", team=team)
    new_ticket(subject="最新的工单", team=team)

    log_in(page, agent)
    page.goto("/tickets/")
    page.keyboard.press("j")
    page.keyboard.press("j")  # second row: the older ticket
    expect(page.locator("tr.selected")).to_contain_text("较早的工单")
    page.keyboard.press("k")
    expect(page.locator("tr.selected")).to_contain_text("最新的工单")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tickets/{older.number}/")
    page.keyboard.press("a")  # assign to me
    expect(page.locator(".head-badges")).to_contain_text("赵敏")
    page.keyboard.press("n")  # internal note
    expect(page.locator("input[name=visibility][value=internal]")).to_be_checked()
    expect(page.locator("#reply-body")).to_be_focused()
