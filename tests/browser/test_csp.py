"""Pages that do not come from kefu's own templates — the API docs (Swagger UI) and the Django admin —
work under kefu's strict Content-Security-Policy; so does the availability select that submits itself.
Any CSP violation fails these tests (see conftest.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.browser


def test_api_docs_render_under_the_policy(page, log_in):
    log_in(page, UserFactory(role=Role.AGENT))
    response = page.goto("/api/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("kefu API")
    operation = page.locator(".opblock").first
    operation.locator(".opblock-summary").click()  # expand an operation: Swagger UI's own scripts run
    expect(operation.get_by_role("button", name="Try it out")).to_be_visible()


def test_admin_works_under_the_policy(page, log_in):
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    log_in(page, admin)
    response = page.goto("/admin/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.goto("/admin/accounts/user/")
    page.locator("#searchbar").fill(admin.username)
    page.locator("#searchbar").press("Enter")
    expect(page.locator("#result_list")).to_contain_text(admin.username)
    page.locator("#result_list a", has_text=admin.username).first.click()
    expect(page.locator("#content h1")).to_be_visible()
    expect(page.locator("input[name=username]")).to_have_value(admin.username)


def test_availability_select_submits_itself(page, log_in):
    user = UserFactory(role=Role.AGENT)
    log_in(page, user)
    page.goto("/")
    with page.expect_navigation():  # the form is posted and the page comes back
        page.get_by_test_id("availability").select_option("away")
    expect(page.get_by_test_id("availability")).to_have_value("away")
    user.refresh_from_db()
    assert user.availability == "away"
