"""A locked-out sign-in says so on the page, in the user's language; a manager's user page in the admin
offers no administrator powers."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.browser

SHOTS = Path(tempfile.gettempdir())  # lockout-*.png, admin-user-*.png: looked at by hand after UI changes


def fail_five_times(page, path: str, username: str) -> None:
    for _ in range(5):
        page.goto(path)
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill("wrong-password")
        page.locator("input[name=password]").press("Enter")
        page.wait_for_load_state()


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("zh-CN", "账号“zhangsan”登录失败次数过多，已临时锁定 15 分钟"),
        ("en", "The account “zhangsan” is locked for 15 minutes"),
    ],
)
def test_the_sign_in_page_says_the_account_is_locked(new_page, locale, message):
    UserFactory(role=Role.AGENT, username="zhangsan")
    page = new_page(locale=locale)
    fail_five_times(page, "/login/", "zhangsan")

    page.locator("input[name=username]").fill("zhangsan")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()

    expect(page.get_by_role("alert")).to_contain_text(message)
    assert "/login/" in page.url
    page.screenshot(path=SHOTS / f"lockout-login-{locale}.png", full_page=True)


@pytest.mark.parametrize(
    ("locale", "message"), [("zh-CN", "已临时锁定 15 分钟"), ("en", "is locked for 15 minutes")]
)
def test_the_admin_sign_in_says_the_account_is_locked(new_page, locale, message):
    UserFactory(role=Role.MANAGER, username="boss")
    page = new_page(locale=locale)
    fail_five_times(page, "/admin/login/", "boss")

    expect(page.locator(".errornote")).to_contain_text(message)
    page.screenshot(path=SHOTS / f"lockout-admin-{locale}.png", full_page=True)


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_a_managers_user_page_offers_no_administrator_powers(new_page, log_in, locale):
    manager = UserFactory(role=Role.MANAGER)
    agent = UserFactory(role=Role.AGENT, full_name="客服甲")
    page = new_page(locale=locale)
    log_in(page, manager)

    page.goto(f"/admin/accounts/user/{agent.pk}/change/")

    roles = page.locator("select[name=role] option").evaluate_all("options => options.map(o => o.value)")
    assert roles == ["agent", "lead", "manager", "qa", "analyst", "customer"]
    assert page.locator("input[name=is_superuser]").count() == 0
    assert page.locator("a[href$='password/']").count() == 0
    page.screenshot(path=SHOTS / f"admin-user-manager-{locale}.png", full_page=True)
