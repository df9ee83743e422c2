"""The console in a real browser: the notification bell refreshes by itself, a reply draft survives
leaving the page (which warns first), the bulk bar's value list follows the action and counts the
selection. Screenshots (console-*.png, in the temp directory) are looked at by hand after UI changes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory, UserFactory
from kefu.tickets.services.edit import ticket_assign, ticket_update
from kefu.tickets.tests.factories import new_message, new_ticket

pytestmark = pytest.mark.browser
SHOTS = Path(tempfile.gettempdir())


@pytest.fixture
def desk():
    team = TeamFactory(name="华东一组")
    agent = UserFactory(role=Role.AGENT, full_name="李小丽")
    lead = UserFactory(role=Role.LEAD, full_name="王芳")
    MembershipFactory(team=team, user=agent)
    MembershipFactory(team=team, user=lead)
    return team, agent, lead


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_bell_counts_new_notifications_without_a_reload(new_page, log_in, settings, desk, locale):
    settings.KEFU_NOTIFICATION_POLL_SECONDS = 1
    team, agent, lead = desk
    ticket = new_ticket(actor=lead, team=team, subject="冷链货物延误两天")
    page = new_page(locale=locale)
    log_in(page, agent)
    if locale.startswith("en"):
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.url}])
    page.goto("/tickets/")
    count = page.get_by_test_id("bell-count")
    expect(count).to_be_hidden()  # nothing unread

    # when: the lead assigns the ticket to the agent, while the agent's page stays open
    ticket_assign(actor=lead, ticket=ticket, assignee=agent)

    # then: the count appears without a reload
    expect(count).to_have_text("1")
    page.get_by_test_id("bell").locator("summary").click()
    item = page.get_by_test_id("notification").first
    words = "assigned ticket" if locale.startswith("en") else "分配给了你"
    expect(item).to_contain_text(words)
    expect(item).to_contain_text(ticket.number)
    page.screenshot(path=SHOTS / f"console-bell-{locale}.png")
    item.locator(".notice-text").click()
    page.wait_for_url(f"**/tickets/{ticket.number}/")
    expect(page.get_by_test_id("bell-count")).to_be_hidden()  # opened: read

    page.goto("/notifications/")
    expect(page.get_by_test_id("notification")).to_contain_text(ticket.number)
    page.screenshot(path=SHOTS / f"console-notifications-{locale}.png", full_page=True)


def test_a_draft_survives_leaving_which_warns_first(page, log_in, desk):
    team, agent, _lead = desk
    ticket = new_ticket(actor=agent, team=team, subject="冷链货物延误两天")
    new_message(ticket=ticket, actor=agent, body="您好，我们正在核实。")
    log_in(page, agent)
    page.goto(f"/tickets/{ticket.number}/")

    page.locator("#reply-body").fill("已联系承运商，明天上午送达。")
    expect(page.get_by_test_id("draft-state")).to_contain_text("草稿已保存")

    # leaving with unsent text asks first; staying keeps the page
    dialogs: list[str] = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.once("dialog", stay)
    page.get_by_role("navigation").get_by_role("link", name="工单").click()
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert page.url.endswith(f"/tickets/{ticket.number}/")

    # leaving anyway, and coming back: the draft is there
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("navigation").get_by_role("link", name="工单").click()
    page.wait_for_url("**/tickets/")
    page.goto(f"/tickets/{ticket.number}/")
    expect(page.locator("#reply-body")).to_have_value("已联系承运商，明天上午送达。")
    expect(page.get_by_test_id("draft-state")).to_contain_text("已恢复未发送的草稿")
    page.screenshot(path=SHOTS / "console-draft-restored.png", full_page=True)

    # sending does not warn, and clears the draft
    page.on("dialog", lambda dialog: pytest.fail(f"unexpected {dialog.type} dialog"))
    page.get_by_role("button", name="发送").click()
    expect(page.locator(".messages")).to_contain_text("已发送")
    expect(page.locator("#reply-body")).to_have_value("")
    expect(page.get_by_test_id("timeline")).to_contain_text("已联系承运商，明天上午送达。")


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_bulk_bar_values_follow_the_action_and_count_the_selection(new_page, log_in, desk, locale):
    team, agent, _lead = desk
    first = new_ticket(actor=agent, team=team, subject="包裹破损")
    second = new_ticket(actor=agent, team=team, subject="派送超时")
    page = new_page(locale=locale)
    log_in(page, agent)
    if locale.startswith("en"):
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.url}])
    page.goto("/tickets/")
    bar = page.locator(".bulk-bar")
    count = page.get_by_test_id("selection-count")
    expect(count).to_have_text("0 selected" if locale.startswith("en") else "已选 0 张")
    expect(bar.locator("select[name=assignee]")).to_be_visible()
    expect(bar.locator("select[name=status]")).to_be_hidden()
    expect(bar.locator("button[data-bulk-run]")).to_be_disabled()

    bar.locator("select[name=action]").select_option("status")
    expect(bar.locator("select[name=status]")).to_be_visible()
    expect(bar.locator("select[name=assignee]")).to_be_hidden()
    expect(bar.locator("select[name=priority]")).to_be_hidden()
    bar.locator("select[name=action]").select_option("tag")
    expect(bar.locator("input[name=tag]")).to_be_visible()
    expect(bar.locator("select[name=status]")).to_be_hidden()
    bar.locator("select[name=action]").select_option("priority")
    expect(bar.locator("select[name=priority]")).to_be_visible()

    page.get_by_label(first.number).check()
    page.get_by_label(second.number).check()
    expect(count).to_have_text("2 selected" if locale.startswith("en") else "已选 2 张")
    page.screenshot(path=SHOTS / f"console-bulk-{locale}.png")
    bar.locator("select[name=priority]").select_option("urgent")
    bar.locator("button[data-bulk-run]").click()
    expect(page.locator(".messages")).to_contain_text("2")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.priority, second.priority) == ("urgent", "urgent")


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_queue_sorts_by_a_header_click(new_page, log_in, desk, locale):
    team, agent, _lead = desk
    older = new_ticket(actor=agent, team=team, subject="较早的工单")
    newer = new_ticket(actor=agent, team=team, subject="较新的工单")
    ticket_update(actor=agent, ticket=older, version=None, changes={"subject": "较早的工单（刚更新）"})
    page = new_page(locale=locale)
    log_in(page, agent)
    if locale.startswith("en"):
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.url}])
    page.goto("/tickets/")
    rows = page.locator("#ticket-rows tbody tr")
    expect(rows.first).to_contain_text(older.number)  # by last update

    page.get_by_test_id("sort-number").locator("a").click()
    expect(rows.first).to_contain_text(newer.number)  # newest number first
    page.get_by_test_id("sort-age").locator("a").click()
    expect(rows.first).to_contain_text(older.number)  # oldest (longest waiting) first
    expect(page.get_by_test_id("age").first).to_be_visible()
    page.screenshot(path=SHOTS / f"console-queue-sorted-{locale}.png", full_page=True)


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_a_reply_held_by_a_conflict_keeps_its_file_and_says_who_wrote(
    new_page, log_in, desk, locale, tmp_path
):
    team, agent, lead = desk
    ticket = new_ticket(actor=agent, team=team, subject="冷链货物延误两天")
    page = new_page(locale=locale)
    log_in(page, agent)
    english = locale.startswith("en")
    if english:
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.url}])
    page.goto(f"/tickets/{ticket.number}/")
    upload = tmp_path / "签收单.pdf"
    upload.write_bytes(b"%PDF-1.4\n" + b"0" * 64)
    page.locator("#reply-body").fill("请查收签收单。")
    page.locator("input[name=attachments]").set_input_files(str(upload))

    # meanwhile the lead answers the customer
    new_message(ticket=ticket, actor=lead, body="已安排今天派送")
    page.get_by_role("button", name="Send" if english else "发送").click()

    errors = page.locator(".reply")
    expect(errors).to_contain_text("王芳 replied to the customer at" if english else "王芳 在 ")
    kept = page.get_by_test_id("kept-files")
    expect(kept).to_contain_text("签收单.pdf")
    expect(kept.locator("input[name=keep_attachment]")).to_be_checked()
    expect(page.locator("#reply-body")).to_have_value("请查收签收单。")
    page.screenshot(path=SHOTS / f"console-conflict-{locale}.png", full_page=True)

    assert page.url.endswith(f"/tickets/{ticket.number}/reply/")
    page.on("dialog", lambda dialog: dialog.accept())  # leaving with unsent text asks first
    page.goto(page.url)  # the address shown after the refusal loads: the draft and the file are there
    expect(page.get_by_test_id("kept-files")).to_contain_text("签收单.pdf")
    page.get_by_role("button", name="Send" if english else "发送").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("签收单.pdf")
    expect(page.get_by_test_id("kept-files")).to_have_count(0)
    assert ticket.messages.count() == 2
    assert ticket.messages.latest("id").attachments.count() == 1


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_who_leaves_a_ticket_drops_out_of_the_others_presence_at_once(new_page, log_in, desk, locale):
    team, agent, lead = desk
    ticket = new_ticket(actor=lead, team=team, subject="冷链货物延误两天")
    lead_page, agent_page = new_page(locale=locale), new_page(locale=locale)
    log_in(lead_page, lead)
    log_in(agent_page, agent)
    if locale.startswith("en"):
        for page in (lead_page, agent_page):
            page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.url}])
    lead_page.goto(f"/tickets/{ticket.number}/")
    agent_page.goto(f"/tickets/{ticket.number}/")
    expect(agent_page.get_by_test_id("presence")).to_contain_text("王芳")
    agent_page.locator(".page-head").first.screenshot(path=SHOTS / f"console-presence-{locale}.png")

    # the lead goes back to the queue: the page says "left" as it unloads
    lead_page.goto("/tickets/")
    lead_page.wait_for_timeout(300)  # the beacon is sent as the page unloads; let it land

    agent_page.reload()  # (the poll would show the same within 20 s; without the beacon, for 45 s)
    expect(agent_page.get_by_test_id("presence")).to_have_count(0)
