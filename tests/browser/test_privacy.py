"""An agent reveals a masked phone number on the ticket page to call the customer back (htmx, in place),
after a refused empty-ish reason; too many phone lookups say so on the customer list. Both languages."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory, UserFactory
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers.tests.factories import new_contact, new_customer
from kefu.tickets.tests.factories import new_ticket

pytestmark = pytest.mark.browser

SHOTS = Path(tempfile.gettempdir())  # privacy-*.png: looked at by hand after UI changes
PHONE = "+8613812345678"


@pytest.fixture
def ticket() -> Any:
    team = TeamFactory(name="华东一组")
    customer = new_customer(name="顺达冷链物流有限公司")
    contact = new_contact(customer=customer, name="王小明", phone=PHONE, phone_rev=PHONE[1:][::-1])
    ticket = new_ticket(subject="冷链货物延误，请回电", customer=customer, contact=contact, team=team)
    agent = UserFactory(role=Role.AGENT, full_name="李小丽")
    MembershipFactory(team=team, user=agent)
    ticket.agent = agent
    return ticket


@pytest.mark.parametrize(
    ("locale", "texts"),
    [
        (
            "zh-CN",
            {
                "open": "查看完整号码",
                "reason": "原因，例如：客户要求回电",
                "show": "查看",
                "bad": "请填写查看原因",
            },
        ),
        (
            "en-US",
            {
                "open": "Show the whole number",
                "reason": "Reason, e.g.",
                "show": "Show",
                "bad": "Give a reason",
            },
        ),
    ],
)
def test_agent_reveals_a_phone_in_place_with_a_reason(
    new_page: Any, log_in: Any, ticket: Any, locale: str, texts: dict[str, str]
) -> None:
    page = new_page(locale=locale)
    log_in(page, ticket.agent)
    page.goto(f"/tickets/{ticket.number}/")
    expect(page.get_by_test_id("contact-phone")).to_have_text("138******78")
    page.get_by_text(texts["open"]).click()
    form = page.get_by_test_id("reveal-form")
    form.get_by_placeholder(texts["reason"]).fill("..")
    form.get_by_role("button", name=texts["show"], exact=True).click()
    expect(page.get_by_test_id("reveal-error")).to_contain_text(texts["bad"])
    expect(page.get_by_test_id("contact-phone")).to_have_text("138******78")
    page.locator(".customer-side").screenshot(path=SHOTS / f"privacy-reveal-error-{locale}.png")

    page.get_by_test_id("reveal-form").locator("input[name=reason]").fill(
        "客户要求回电" if locale == "zh-CN" else "asked for a call back"
    )
    page.get_by_test_id("reveal-form").get_by_role("button", name=texts["show"], exact=True).click()

    expect(page.get_by_test_id("contact-phone")).to_have_text("138 1234 5678")
    expect(page.get_by_test_id("revealed-note")).to_be_visible()
    assert page.url.endswith(f"/tickets/{ticket.number}/")  # swapped in place, no navigation
    page.locator(".customer-side").screenshot(path=SHOTS / f"privacy-reveal-shown-{locale}.png")
    page.screenshot(path=SHOTS / f"privacy-ticket-page-{locale}.png", full_page=True)
    assert AuditEvent.objects.filter(action=AuditAction.VIEW_PII, actor=ticket.agent).count() == 1


@pytest.mark.parametrize(
    ("locale", "texts"),
    [
        ("zh-CN", {"open": "查看完整号码", "show": "查看", "bad": "请填写查看原因"}),
        ("en-US", {"open": "Show the whole number", "show": "Show", "bad": "Give a reason"}),
    ],
)
def test_agent_reveals_a_contacts_phone_on_the_customer_page(
    new_page: Any, log_in: Any, ticket: Any, locale: str, texts: dict[str, str]
) -> None:
    customer = ticket.customer
    other = new_contact(customer=customer, name="李四", phone="+8613900001111", phone_rev="11110000931")
    page = new_page(locale=locale)
    log_in(page, ticket.agent)
    page.goto(f"/customers/{customer.public_id}/")
    row = page.locator(f"#contact-phone-{other.public_id}")
    expect(row.get_by_test_id("contact-phone")).to_have_text("139******11")
    row.get_by_text(texts["open"]).click()
    form = row.get_by_test_id("reveal-form")
    form.locator("input[name=reason]").fill("1")
    form.get_by_role("button", name=texts["show"], exact=True).click()
    expect(row.get_by_test_id("reveal-error")).to_contain_text(texts["bad"])
    page.screenshot(path=SHOTS / f"privacy-customer-reveal-error-{locale}.png", full_page=True)

    row.locator("input[name=reason]").fill("客户要求回电" if locale == "zh-CN" else "asked for a call back")
    row.get_by_role("button", name=texts["show"], exact=True).click()

    expect(row.get_by_test_id("contact-phone")).to_have_text("139 0000 1111")
    expect(page.get_by_test_id("contact-phone").first).to_have_text("138******78")  # the other stays masked
    assert page.url.endswith(f"/customers/{customer.public_id}/")
    page.screenshot(path=SHOTS / f"privacy-customer-reveal-shown-{locale}.png", full_page=True)
    (event,) = AuditEvent.objects.filter(action=AuditAction.VIEW_PII, actor=ticket.agent)
    assert event.changes["contacts"] == [None, [other.public_id]]


LIMITED = {"zh-CN": "按电话号码查找过于频繁", "en-US": "Too many phone-number lookups"}


@pytest.mark.parametrize("locale", list(LIMITED))
def test_too_many_phone_lookups_say_so_on_the_customer_list(
    new_page: Any, log_in: Any, ticket: Any, settings: Any, locale: str
) -> None:
    settings.KEFU_PHONE_LOOKUP_RATE = "1/h"
    page = new_page(locale=locale)
    log_in(page, ticket.agent)
    page.goto("/customers/")
    search = page.locator("input[name=q]")
    search.fill("5678")  # the last four digits: one lookup
    expect(page).to_have_url(re.compile(r"q=5678&"))  # htmx answered (and pushed the search)
    expect(page.locator("#customer-rows")).to_contain_text("138******78")
    search.fill("138 1234 5678")  # the whole number: a second lookup, over the limit
    expect(page.get_by_test_id("search-limited")).to_contain_text(LIMITED[locale])
    page.screenshot(path=SHOTS / f"privacy-lookup-limited-{locale}.png")
