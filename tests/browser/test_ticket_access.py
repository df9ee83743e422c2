"""Who sees a ticket, in a real browser: a warehouse colleague who owns a work order finds it in "my work
orders"; the customer card tells an agent it shows only the tickets they may see."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory, UserFactory
from kefu.core.actors import SYSTEM
from kefu.customers.tests.factories import new_customer
from kefu.tickets.enums import Department
from kefu.tickets.services.work_orders import subtask_create
from kefu.tickets.tests.factories import new_ticket

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("locale", "texts"),
    [
        ("zh-CN", ("我的协作单", "该客户没有你可查看的工单")),
        ("en-US", ("My work orders", "No tickets of this customer that you may see")),
    ],
)
def test_a_work_order_owner_finds_the_ticket_in_my_work_orders(
    new_page, log_in, tmp_path: Path, locale: str, texts: tuple[str, str]
):
    queue, empty = texts
    # given a ticket of the after-sales team with a work order for a warehouse colleague (no team)
    owner = UserFactory(role=Role.AGENT, full_name="仓储王工")
    customer = new_customer(name="顺达冷链物流有限公司")
    ticket = new_ticket(subject="整票服装少件", team=TeamFactory(name="售后组"), customer=customer)
    subtask_create(
        actor=SYSTEM,
        ticket=ticket,
        department=Department.WAREHOUSE,
        title="盘点出库记录",
        deadline=timezone.now() + dt.timedelta(hours=4),
        problem_description="客户称少 3 件",
        support_needed="请核对出库照片",
        assignee=owner,
    )
    page = new_page(locale)
    log_in(page, owner)

    # when they open the queue: the count arrives, and the queue lists the ticket
    page.goto("/tickets/")
    link = page.get_by_test_id("queue-work_orders")
    expect(link).to_contain_text(queue)
    expect(link.locator(".count")).to_have_text("1")
    link.click()
    expect(page.locator("#ticket-rows")).to_contain_text("整票服装少件")
    page.screenshot(path=tmp_path / f"work-orders-{locale}.png", full_page=True)
    page.get_by_role("link", name="整票服装少件").click()
    page.wait_for_url(f"**/tickets/{ticket.number}/")
    expect(page.get_by_test_id("subtasks")).to_contain_text("盘点出库记录")

    # and an agent of another team, on the customer's page, is told the card shows only their tickets
    agent = UserFactory(role=Role.AGENT)
    MembershipFactory(team=TeamFactory(name="华东一组"), user=agent)
    other = new_page(locale)
    log_in(other, agent)
    other.goto(f"/customers/{customer.public_id}/")
    expect(other.get_by_test_id("customer-tickets")).to_contain_text(empty)
    other.screenshot(path=tmp_path / f"customer-card-{locale}.png", full_page=True)
