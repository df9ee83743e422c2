"""Merge and link in a real browser: an agent merges a duplicate through the confirmation step, then
links the surviving ticket to another one and removes the link again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory, UserFactory
from kefu.customers.tests.factories import new_customer
from kefu.tickets.models import Ticket
from kefu.tickets.tests.factories import new_message, new_ticket

pytestmark = pytest.mark.browser


def test_agent_merges_a_duplicate_and_links_the_survivor(page, log_in):
    team = TeamFactory(name="华东一组")
    agent = UserFactory(role=Role.AGENT, full_name="李小丽")
    MembershipFactory(team=team, user=agent)
    customer = new_customer(name="顺达冷链物流有限公司")
    survivor = new_ticket(subject="冷链货物延误两天", team=team, customer=customer)
    duplicate = new_ticket(subject="货还没到（客户再次来电）", team=team, customer=customer)
    new_message(ticket=duplicate, actor=agent, body="客户第二次来电催问。")
    related = new_ticket(subject="同一车次的另一票货", team=team)

    log_in(page, agent)
    page.goto(f"/tickets/{duplicate.number}/")
    merge = page.get_by_test_id("merge")
    merge.locator("summary").click()
    merge.get_by_label("保留的工单（目标）").fill(survivor.number.lower())  # typed casually
    merge.get_by_role("button", name="下一步").click()

    confirm = page.get_by_test_id("merge-confirm")
    for text in (duplicate.number, "货还没到（客户再次来电）", survivor.number, "冷链货物延误两天"):
        expect(confirm).to_contain_text(text)
    expect(confirm).to_contain_text("顺达冷链物流有限公司")
    confirm.get_by_role("button", name=f"确认合并到 {survivor.number}").click()

    page.wait_for_url(f"**/tickets/{survivor.number}/")
    expect(page.locator(".messages")).to_contain_text(f"工单 {duplicate.number} 已合并到本工单")
    expect(page.get_by_test_id("timeline")).to_contain_text("客户第二次来电催问。")
    links = page.get_by_test_id("links")
    expect(links.get_by_test_id(f"link-{duplicate.number}")).to_contain_text("合并自")
    assert Ticket.objects.get(pk=duplicate.pk).merged_into_id == survivor.pk

    links.get_by_label("要关联的工单号").fill(related.number)
    links.get_by_label("关联类型").select_option("related")
    links.get_by_role("button", name="关联", exact=True).click()
    page.wait_for_url(f"**/tickets/{survivor.number}/")
    row = page.get_by_test_id(f"link-{related.number}")
    expect(row).to_contain_text("同一车次的另一票货")
    expect(row).to_contain_text("相关")

    row.get_by_role("button", name=f"取消关联 {related.number}").click()
    expect(page.locator(".messages")).to_contain_text("已取消关联")
    expect(page.get_by_test_id(f"link-{related.number}")).to_have_count(0)


def test_a_refused_merge_shows_the_reason_and_keeps_the_ticket(page, log_in):
    team = TeamFactory()
    agent = UserFactory(role=Role.AGENT)
    MembershipFactory(team=team, user=agent)
    ticket = new_ticket(subject="运费咨询", team=team, customer=new_customer(name="甲公司"))
    other = new_ticket(subject="另一家的工单", team=team, customer=new_customer(name="乙公司"))

    log_in(page, agent)
    page.goto(f"/tickets/{ticket.number}/")
    merge = page.get_by_test_id("merge")
    merge.locator("summary").click()
    merge.get_by_label("保留的工单（目标）").fill(other.number)
    merge.get_by_role("button", name="下一步").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("不能合并不同客户的工单")
    expect(page.get_by_test_id("merge-confirm")).to_have_count(0)
    expect(page.get_by_test_id("merge").get_by_label("保留的工单（目标）")).to_have_value(other.number)
    assert Ticket.objects.get(pk=ticket.pk).merged_into_id is None
