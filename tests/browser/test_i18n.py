"""Switching the language in the top bar shows the pages in English."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.browser


def test_switching_to_english_shows_english_navigation(page, log_in):
    user = UserFactory(role=Role.MANAGER, full_name="Manager Li")
    log_in(page, user)
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="客户")).to_be_visible()

    page.get_by_label("语言").select_option("en")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(nav.get_by_role("link", name="Customers", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Teams", exact=True)).to_be_visible()
    expect(nav).not_to_contain_text("客户")
    # The choice sticks for the next page.
    nav.get_by_role("link", name="Customers", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Customers")
