"""A customer-portal user signs in and sees only their own organization."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kefu.customers.tests.factories import ContactFactory, CustomerFactory, PortalAccountFactory

pytestmark = pytest.mark.browser


def test_portal_user_lands_on_portal_with_only_their_organization(page, log_in):
    own = CustomerFactory(name="华东快运有限公司")
    ContactFactory(customer=own, name="陈经理", phone="+8613900001111")
    other = CustomerFactory(name="别家物流有限公司")
    ContactFactory(customer=other, name="赵六", phone="+8613900002222")
    account = PortalAccountFactory(customer=own)

    log_in(page, account.user)

    assert page.url.endswith("/portal/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("华东快运有限公司")
    expect(page.locator("main")).to_contain_text("陈经理")
    expect(page.locator("main")).not_to_contain_text("别家物流有限公司")
    expect(page.locator("main")).not_to_contain_text("赵六")
    # Staff pages are closed to portal users, and the top bar offers only the portal.
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link")).to_have_count(2)  # 我的企业 · 我的工单
    response = page.goto("/customers/")
    assert response.status == 403
    response = page.goto(f"/customers/{other.public_id}/")
    assert response.status == 403
