"""A lead turns a ticket into the problem ticket of an outage, links incidents and posts one update."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory, UserFactory
from kefu.customers.tests.factories import new_customer
from kefu.tickets.models import Ticket
from kefu.tickets.tests.factories import new_ticket

pytestmark = pytest.mark.browser
SHOTS = Path(tempfile.gettempdir())  # h2-*.png: looked at by hand after UI changes


def test_lead_marks_a_problem_links_incidents_and_posts_an_update(page, log_in):
    team = TeamFactory(name="售后服务组")
    lead = UserFactory(role=Role.LEAD, full_name="赵组长")
    MembershipFactory(team=team, user=lead, is_lead=True)
    outage = new_ticket(subject="乌鲁木齐转运中心暴雪停运", team=team)
    by_number = new_ticket(subject="新疆件三天未更新", team=team, customer=new_customer(name="天山商贸"))
    by_waybill = new_ticket(
        subject="包裹滞留乌鲁木齐", team=team, customer=new_customer(name="西域物产"), waybills=["SF009001"]
    )

    log_in(page, lead)
    page.goto(f"/tickets/{outage.number}/")
    page.get_by_test_id("problem-mark").get_by_role("button", name="设为问题工单").click()
    section = page.get_by_test_id("problem")
    expect(section).to_be_visible()
    expect(page.get_by_test_id("incident-count")).to_contain_text("0")

    section.get_by_text("关联事件工单").click()
    section.get_by_label("按工单号").fill(by_number.number)
    section.get_by_label("按工单号").press("Enter")
    expect(page.locator(".messages")).to_contain_text("已关联 1 张事件工单")
    section.get_by_text("关联事件工单").click()
    section.get_by_label("按运单号（关联这些运单的全部未关闭工单）").fill("SF009001")
    section.get_by_label("按运单号（关联这些运单的全部未关闭工单）").press("Enter")
    expect(page.get_by_test_id("incident-count")).to_contain_text("2")
    expect(page.get_by_test_id("incident-open")).to_contain_text("2")
    expect(page.get_by_test_id("incidents")).to_contain_text("新疆件三天未更新")
    expect(page.get_by_test_id("incidents")).to_contain_text("西域物产")

    section.locator("summary", has_text="自动关联规则").click()
    section.get_by_label("路由节点").fill("乌鲁木齐")
    section.get_by_role("button", name="保存规则").click()
    expect(page.get_by_test_id("incident-rule")).to_contain_text("路由节点：乌鲁木齐")

    section.locator("summary", has_text="群发更新").click()
    section.locator("textarea[name=body]").fill("乌鲁木齐转运中心已恢复作业，滞留包裹预计 48 小时内发出。")
    section.get_by_role("button", name="发送给全部事件工单").click()
    expect(page.locator(".messages")).to_contain_text("更新已发送给 2 张未解决的事件工单")
    section.get_by_text("关联事件工单").click()
    section.locator("summary", has_text="自动关联规则").click()
    page.get_by_test_id("problem").screenshot(path=SHOTS / "h2-problem-section.png")
    page.screenshot(path=SHOTS / "h2-problem-page.png", full_page=True)

    for incident in (by_number, by_waybill):
        assert list(Ticket.objects.get(pk=incident.pk).messages.values_list("body_text", flat=True)) == [
            "乌鲁木齐转运中心已恢复作业，滞留包裹预计 48 小时内发出。"
        ]
    page.get_by_test_id("incidents").get_by_role("link", name=by_number.number).click()
    banner = page.get_by_test_id("incident-banner")
    expect(banner).to_contain_text(outage.number)
    page.screenshot(path=SHOTS / "h2-incident-banner.png")
